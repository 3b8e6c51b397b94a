package io.repmgr4j.core.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.spi.Command;
import io.repmgr4j.spi.CommandResult;
import io.repmgr4j.testkit.PgServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The real repmgr 5.3 binaries (Debian's postgresql-15-repmgr, found beside the test
 * servers' PostgreSQL programs), run as the servers' OS user with a repmgr.conf per node
 * written into a directory of the test's own. Tests use it to check that repmgr4j and
 * repmgr work on the same cluster. Fails (never skips) when the package is missing.
 */
final class RealRepmgr implements AutoCloseable {
    private final Path dir;
    private final Map<Integer, Path> confs = new TreeMap<>();

    RealRepmgr() {
        try {
            dir = Files.createTempDirectory("repmgr4j-real-repmgr-");
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The repmgr program beside the server's PostgreSQL programs. */
    static Path program(PgServer s, String name) {
        Path p = s.bindir().resolve(name);
        assertThat(Files.isExecutable(p)).as(p + " (install Debian's postgresql-15-repmgr; bin/prereqs does)").isTrue();
        return p;
    }

    /** Writes node {@code id}'s repmgr.conf (the server's conninfo and data directory, plus {@code extra} lines). */
    Path configure(int id, PgServer s, String... extra) {
        List<String> lines = new ArrayList<>(List.of(
                "node_id=" + id,
                "node_name='" + s.name() + "'",
                "conninfo='" + s.conninfo() + "'",
                "data_directory='" + s.dataDirectory() + "'",
                "pg_bindir='" + s.bindir() + "'"));
        lines.addAll(Arrays.asList(extra));
        Path conf = dir.resolve("node" + id + ".conf");
        try {
            Files.write(conf, lines);
            Files.setPosixFilePermissions(conf, PosixFilePermissions.fromString("rw-r--r--"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        confs.put(id, conf);
        return conf;
    }

    Path directory() {
        return dir;
    }

    /** Runs {@code repmgr -f <node's conf> args...} as the server's OS user. */
    CommandResult run(PgServer s, int id, Duration timeout, String... args) {
        List<String> argv = new ArrayList<>(List.of(program(s, "repmgr").toString(), "-f", confs.get(id).toString()));
        argv.addAll(Arrays.asList(args));
        return s.runner().run(Command.of(argv).withTimeout(timeout).withWorkingDirectory(dir.toString()));
    }

    /** {@link #run} that must succeed; returns its standard output. */
    String ok(PgServer s, int id, String... args) {
        CommandResult r = run(s, id, Duration.ofSeconds(60), args);
        assertThat(r.exitCode()).as("repmgr " + String.join(" ", args) + "\nstdout:\n" + r.stdout() + "\nstderr:\n" + r.stderr())
                .isZero();
        return r.stdout();
    }

    @Override
    public void close() {
        try (var walk = Files.walk(dir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // best effort: a temporary directory
        }
    }
}
