package io.repmgr4j.sql;

import io.repmgr4j.ConnInfo;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * libpq's password file, read the way libpq reads it, for the connections the library
 * opens through pgjdbc: used only when the connection string has no password; the file is
 * the conninfo's {@code passfile}, else {@code PGPASSFILE}, else {@code ~/.pgpass}; each
 * line is {@code hostname:port:database:username:password} with {@code *} matching
 * anything and {@code \:} / {@code \\} escaping; the first matching line wins; a file that
 * is not a regular file, or that its group or others may read, is ignored (with a warning,
 * as libpq does). Stateless; thread-safe.
 */
public final class PassFile {
    private static final Logger LOG = LoggerFactory.getLogger(PassFile.class);

    private PassFile() {
    }

    /** The file libpq would read for {@code info}, given the environment {@code env}. */
    public static Optional<Path> location(ConnInfo info, Map<String, String> env) {
        Optional<String> p = info.get("passfile").filter(s -> !s.isBlank())
                .or(() -> Optional.ofNullable(env.get("PGPASSFILE")).filter(s -> !s.isBlank()));
        if (p.isPresent()) {
            return Optional.of(Path.of(p.get()));
        }
        String home = System.getProperty("user.home");
        return home == null ? Optional.empty() : Optional.of(Path.of(home, ".pgpass"));
    }

    /**
     * The password for connecting to {@code host}:{@code port}, database {@code dbname}, as
     * {@code user}, from the file; empty when the file is missing, unsafe or has no match.
     */
    public static Optional<String> lookup(Path file, String host, int port, String dbname, String user) {
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file, LinkOption.NOFOLLOW_LINKS);
            for (PosixFilePermission bad : List.of(PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE,
                    PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE,
                    PosixFilePermission.OTHERS_EXECUTE)) {
                if (perms.contains(bad)) {
                    LOG.warn("password file \"{}\" has group or world access; permissions should be u=rw (0600) or less;"
                            + " it is not read", file);
                    return Optional.empty();
                }
            }
        } catch (UnsupportedOperationException | IOException e) {
            // no POSIX permissions here (or unreadable): read it if we can, as libpq does on Windows
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            LOG.warn("password file \"{}\" cannot be read: {}", file, e.getMessage());
            return Optional.empty();
        }
        String[] want = {host, String.valueOf(port), dbname, user};
        for (String line : lines) {
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            List<String> fields = split(line);
            if (fields.size() < 5) {
                continue;
            }
            boolean match = true;
            for (int i = 0; i < 4 && match; i++) {
                match = fields.get(i).equals("*") || fields.get(i).equals(want[i]);
            }
            if (match) {
                return Optional.of(fields.get(4));
            }
        }
        return Optional.empty();
    }

    /** The fields of a line: {@code :} separates, {@code \} escapes the next character; the password is the rest. */
    static List<String> split(String line) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '\\' && i + 1 < line.length()) {
                cur.append(line.charAt(++i));
            } else if (c == ':' && out.size() < 4) {
                out.add(cur.toString());
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        out.add(cur.toString());
        return out;
    }
}
