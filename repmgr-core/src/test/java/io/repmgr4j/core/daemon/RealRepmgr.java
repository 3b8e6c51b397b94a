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
    private final List<Process> daemons = new ArrayList<>();

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

    /**
     * Starts a real repmgrd for node {@code id} in the foreground (as the server's OS user,
     * no pid file, its log in this object's directory); {@link #close()} stops it.
     */
    Process startRepmgrd(PgServer s, int id) {
        List<String> argv = new ArrayList<>();
        if (io.repmgr4j.spi.LocalCommandRunner.jvmIsRoot()) {
            argv.addAll(List.of("runuser", "-u", s.osUser(), "--"));
        }
        argv.addAll(List.of(program(s, "repmgrd").toString(), "-f", confs.get(id).toString(), "--daemonize=false",
                "--no-pid-file", "-v"));
        try {
            Process p = new ProcessBuilder(argv).directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("repmgrd" + id + ".log").toFile()).start();
            daemons.add(p);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The last lines of node {@code id}'s repmgrd log. */
    String repmgrdLog(int id) {
        try {
            List<String> lines = Files.readAllLines(dir.resolve("repmgrd" + id + ".log"));
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /** The pid of node {@code id}'s repmgrd itself (a child of runuser when the JVM is root). */
    static long repmgrdPid(Process p) {
        return p.descendants().filter(h -> h.info().command().map(c -> c.endsWith("repmgrd")).orElse(false))
                .map(ProcessHandle::pid).findFirst().orElse(p.pid());
    }

    /** Stops every repmgrd this object started. */
    void stopRepmgrd() {
        for (Process p : daemons) {
            p.descendants().forEach(ProcessHandle::destroy);
            p.destroy();
        }
        for (Process p : daemons) {
            try {
                if (!p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        daemons.clear();
    }

    @Override
    public void close() {
        stopRepmgrd();
        try (var walk = Files.walk(dir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // best effort: a temporary directory
        }
    }
}
