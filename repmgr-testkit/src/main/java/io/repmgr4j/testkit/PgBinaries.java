package io.repmgr4j.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Finds the PostgreSQL server programs ({@code initdb}, {@code pg_ctl}, {@code postgres},
 * {@code pg_basebackup}, ...) the test kit runs. Looks at, in order: the system property
 * or environment variable {@code REPMGR4J_PG_BINDIR}, {@code /usr/lib/postgresql/15/bin},
 * and {@code pg_config --bindir}. Stateless apart from a cache of the default answer;
 * thread-safe.
 */
public final class PgBinaries {
    /** System property or environment variable naming the directory that holds initdb and pg_ctl. */
    public static final String BINDIR_PROPERTY = "REPMGR4J_PG_BINDIR";
    /** Where Debian and Ubuntu's postgresql-15 package puts the server programs. */
    public static final Path DEBIAN_PG15 = Paths.get("/usr/lib/postgresql/15/bin");

    private static final List<String> REQUIRED = List.of("initdb", "pg_ctl", "postgres");
    private static volatile Path cachedDefault;

    private PgBinaries() {
    }

    /**
     * The directory holding the PostgreSQL server programs.
     *
     * @throws IllegalStateException when none is found, or when {@code REPMGR4J_PG_BINDIR}
     *     names a directory without them; the message says what to install or set
     */
    public static Path locate() {
        String configured = System.getProperty(BINDIR_PROPERTY);
        String source = "system property " + BINDIR_PROPERTY;
        if (configured == null || configured.isBlank()) {
            configured = System.getenv(BINDIR_PROPERTY);
            source = "environment variable " + BINDIR_PROPERTY;
        }
        if (configured != null && !configured.isBlank()) {
            Path dir = Paths.get(configured.strip()).toAbsolutePath().normalize();
            List<String> missing = missingPrograms(dir);
            if (!missing.isEmpty()) {
                throw new IllegalStateException(source + " names " + dir + ", which lacks " + String.join(", ", missing)
                        + ". Point it to the bin directory of a PostgreSQL server installation"
                        + " (Debian/Ubuntu: apt-get install postgresql-15, then " + DEBIAN_PG15 + ")");
            }
            return dir;
        }
        Path cached = cachedDefault;
        if (cached != null) {
            return cached;
        }
        List<String> looked = new ArrayList<>();
        looked.add(BINDIR_PROPERTY + " (not set)");
        if (missingPrograms(DEBIAN_PG15).isEmpty()) {
            cachedDefault = DEBIAN_PG15;
            return DEBIAN_PG15;
        }
        looked.add(DEBIAN_PG15 + " (" + (Files.isDirectory(DEBIAN_PG15) ? "incomplete" : "absent") + ")");
        String fromPgConfig = pgConfigBindir();
        if (fromPgConfig != null) {
            Path dir = Paths.get(fromPgConfig);
            if (missingPrograms(dir).isEmpty()) {
                cachedDefault = dir;
                return dir;
            }
            looked.add("pg_config --bindir = " + dir + " (no server programs there)");
        } else {
            looked.add("pg_config --bindir (pg_config not found on PATH)");
        }
        throw new IllegalStateException("PostgreSQL server programs (initdb, pg_ctl, postgres) not found; looked at: "
                + String.join("; ", looked) + ". Install the PostgreSQL 15 server"
                + " (Debian/Ubuntu: apt-get install postgresql-15; or run bin/prereqs as root),"
                + " or set " + BINDIR_PROPERTY + " to the directory holding initdb and pg_ctl");
    }

    private static List<String> missingPrograms(Path dir) {
        List<String> missing = new ArrayList<>();
        for (String p : REQUIRED) {
            if (!Files.isExecutable(dir.resolve(p))) {
                missing.add(p);
            }
        }
        return missing;
    }

    private static String pgConfigBindir() {
        try {
            Process p = new ProcessBuilder("pg_config", "--bindir").redirectErrorStream(true).start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return null;
            }
            if (p.exitValue() != 0) {
                return null;
            }
            String s = new String(out, StandardCharsets.UTF_8).strip();
            return s.isEmpty() ? null : s;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }
}
