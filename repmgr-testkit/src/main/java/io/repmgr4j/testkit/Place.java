package io.repmgr4j.testkit;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.spi.Command;
import io.repmgr4j.spi.CommandResult;
import io.repmgr4j.spi.LocalCommandRunner;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where one server lives: its directories, port, OS user and runner. Shared by
 * {@link PgSandbox} (before a data directory exists) and {@link PgServer} (after).
 * Internal; thread-safe.
 */
final class Place {
    private static final Logger LOG = LoggerFactory.getLogger(Place.class);

    static final String HOST = "127.0.0.1";
    static final String ROLE = "repmgr";
    static final String DATABASE = "repmgr";
    static final String SUPERUSER = "postgres";

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,39}");
    private static final Pattern IDENTITY_LINE =
            Pattern.compile("^\\s*(port|listen_addresses|unix_socket_directories)(\\s*=|\\s).*$");

    final String name;
    final Path root;
    final Path data;
    final Path sock;
    final Path logFile;
    final String osUser;
    final boolean switchUser;
    final io.repmgr4j.spi.CommandRunner runner;
    final Path bindir;
    final String password;
    /** The address the server listens on and clients use: {@link #HOST}, or an address inside a network namespace. */
    final String host;
    /** The network namespace the server runs in ({@link NetLab}), null for the root namespace. */
    final String netns;
    /** The subnet (CIDR) whose clients pg_hba.conf admits besides loopback, null when none. */
    final String clientNet;
    private volatile int port;

    private Place(String name, Path root, String osUser, boolean switchUser, io.repmgr4j.spi.CommandRunner runner,
                  Path bindir, String password, int port) {
        this(name, root, osUser, switchUser, runner, bindir, password, port, HOST, null, null);
    }

    private Place(String name, Path root, String osUser, boolean switchUser, io.repmgr4j.spi.CommandRunner runner,
                  Path bindir, String password, int port, String host, String netns, String clientNet) {
        this.host = host;
        this.netns = netns;
        this.clientNet = clientNet;
        this.name = name;
        this.root = root;
        this.data = root.resolve("data");
        this.sock = root.resolve("sock");
        this.logFile = root.resolve("log").resolve("postgresql.log");
        this.osUser = osUser;
        this.switchUser = switchUser;
        this.runner = runner;
        this.bindir = bindir;
        this.password = password;
        this.port = port;
    }

    /** The OS user servers run as when none is named: postgres for a root JVM, else the JVM's user. */
    static String defaultOsUser() {
        return LocalCommandRunner.jvmIsRoot() ? "postgres" : System.getProperty("user.name");
    }

    static void checkName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("a server name is 1 to 40 letters, digits, '_', '.' or '-',"
                    + " starting with a letter or digit; got " + (name == null ? "null" : "\"" + name + "\""));
        }
    }

    /** Creates the directories (not data/) and picks a port. */
    static Place allocate(String name, String osUser, String password, Path bindir) {
        checkName(name);
        String user = osUser == null || osUser.isBlank() ? defaultOsUser() : osUser;
        if (!LocalCommandRunner.jvmIsRoot()) {
            String me = System.getProperty("user.name");
            if (!user.equals(me)) {
                LOG.debug("not root: server {} runs as {} rather than {}", name, me, user);
            }
            user = me;
        } else if (user.equals("root")) {
            throw new IllegalArgumentException("PostgreSQL refuses to run as root; name an unprivileged OS user"
                    + " (the default is postgres)");
        }
        LocalCommandRunner runner = LocalCommandRunner.asUser(user);
        boolean switchUser = runner.switchesTo().isPresent();
        Path bin = bindir != null ? bindir : PgBinaries.locate();
        Path root = Workspace.createServerRoot(name, user, switchUser);
        int port = Workspace.allocatePort();
        return new Place(name, root, user, switchUser, runner, bin, password, port);
    }

    /**
     * Like {@link #allocate}, for a server inside network namespace {@code netns} listening on
     * {@code host}: its programs run through {@code ip netns exec} (as the OS user), and
     * pg_hba.conf admits {@code clientNet} too.
     */
    static Place allocateInNamespace(String name, String osUser, String password, Path bindir, String netns,
                                     String host, String clientNet) {
        Place base = allocate(name, osUser, password, bindir);
        io.repmgr4j.spi.CommandRunner runner = new NetnsRunner(netns, base.switchUser ? base.osUser : null);
        return new Place(base.name, base.root, base.osUser, base.switchUser, runner, base.bindir, base.password,
                base.port, host, netns, clientNet);
    }

    int port() {
        return port;
    }

    /** Moves to another free port (only before the port was handed out). */
    void changePort() {
        int old = port;
        port = Workspace.allocatePort();
        Workspace.releasePort(old);
    }

    ConnInfo conninfo() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("host", host);
        p.put("port", Integer.toString(port));
        p.put("user", ROLE);
        p.put("dbname", DATABASE);
        p.put("connect_timeout", "2");
        if (password != null) {
            p.put("password", password);
        }
        return ConnInfo.of(p);
    }

    /** A command running one of the PostgreSQL programs, from the server's own directory. */
    Command pg(String program, String... args) {
        List<String> argv = new ArrayList<>();
        argv.add(bindir.resolve(program).toString());
        argv.addAll(List.of(args));
        return Command.of(argv).withWorkingDirectory(root.toString());
    }

    /**
     * A pg_ctl command on this server's data directory, the directory in {@code PGDATA}
     * and never as {@code -D}: pg_ctl splices {@code -D}'s value (and {@code -l}'s) into
     * the {@code sh -c} line it starts postgres with, where {@code $(...)}, backticks and
     * quotes are live. The library's {@code PgControl} does the same. It runs from
     * {@link #root}, so the log is named relative to it ({@link #relativeLog()}).
     */
    Command pgCtl(String... args) {
        return pg("pg_ctl", args).withEnv("PGDATA", data.toString());
    }

    /** The server log as pg_ctl's {@code -l} gets it: relative to {@link #root}, where pg_ctl runs. */
    String relativeLog() {
        return root.relativize(logFile).toString();
    }

    CommandResult run(Command command) {
        LOG.debug("{}: running {} ({})", name, command, runner.describe());
        CommandResult r = runner.run(command);
        if (!r.succeeded()) {
            LOG.debug("{}: {} ended with exit code {}{}: {}", name, command.argv().get(0), r.exitCode(),
                    r.timedOut() ? " (timed out)" : "", r.lastErrorLine());
        }
        return r;
    }

    /** The last lines of the server log, for messages. */
    String logTail(int lines) {
        return Workspace.tail(logFile, lines);
    }

    /**
     * Writes port, socket directory and listen address into postgresql.auto.conf, replacing
     * earlier values. They live there so that any {@code pg_ctl start} (also one run by code
     * under test) uses them, and a copy made by pg_basebackup or pg_rewind is fixed up on the
     * next start.
     */
    void writeIdentity() {
        Path auto = data.resolve("postgresql.auto.conf");
        try {
            boolean existed = Files.exists(auto);
            List<String> lines = new ArrayList<>();
            if (existed) {
                for (String l : Files.readAllLines(auto, StandardCharsets.UTF_8)) {
                    if (!IDENTITY_LINE.matcher(l).matches()) {
                        lines.add(l);
                    }
                }
            } else {
                lines.add("# Do not edit this file manually!");
                lines.add("# It will be overwritten by the ALTER SYSTEM command.");
            }
            lines.add("port = '" + port + "'");
            lines.add("listen_addresses = '" + host + "'");
            lines.add("unix_socket_directories = '" + sock.toString().replace("'", "''") + "'");
            Files.write(auto, lines, StandardCharsets.UTF_8);
            if (!existed) {
                Files.setPosixFilePermissions(auto, PosixFilePermissions.fromString("rw-------"));
            }
            if (switchUser) {
                Workspace.chown(auto, osUser);
            }
        } catch (IOException e) {
            throw new PgTestkitException("cannot write " + auto + ": " + e.getMessage(), e);
        }
    }

    /** True when a postmaster serves this data directory ({@code pg_ctl status}, checked against the process table). */
    boolean serverRunning() {
        Optional<Long> pid = Workspace.postmasterPidFromFile(data);
        if (pid.isEmpty() || !Workspace.isPostmasterOf(pid.get(), data)) {
            return false;
        }
        return run(pgCtl("status").withTimeout(Duration.ofSeconds(30))).exitCode() == 0;
    }

    /**
     * Removes a postmaster.pid, and socket lock files, whose process is gone, a zombie, or
     * not a postmaster of this directory: a zombie nobody reaps (some container inits do
     * not) would otherwise make pg_ctl report a dead server as running and make PostgreSQL
     * refuse to start ("lock file already exists").
     */
    void removeStaleLockFiles() {
        List<Path> locks = new ArrayList<>();
        locks.add(data.resolve("postmaster.pid"));
        try (java.util.stream.Stream<Path> files = Files.list(sock)) {
            files.filter(f -> f.getFileName().toString().endsWith(".lock")).forEach(locks::add);
        } catch (IOException e) {
            LOG.debug("{}: cannot list {}: {}", name, sock, e.getMessage());
        }
        for (Path lock : locks) {
            Optional<Long> pid = Workspace.pidFromLockFile(lock);
            if (pid.isPresent() && !Workspace.isPostmasterOf(pid.get(), data)) {
                try {
                    Files.deleteIfExists(lock);
                    LOG.debug("{}: removed {} of dead process {}", name, lock.getFileName(), pid.get());
                } catch (IOException e) {
                    LOG.debug("{}: cannot remove stale {}: {}", name, lock, e.getMessage());
                }
            }
        }
    }

    /**
     * Stops a server running here (immediate shutdown, then SIGKILL when that fails),
     * deletes every directory and gives the port back.
     */
    void destroy() {
        RuntimeException failure = null;
        try {
            if (Files.exists(data.resolve("postmaster.pid")) && serverRunning()) {
                CommandResult r = run(pgCtl("stop", "-m", "immediate", "-w", "-t", "30")
                        .withTimeout(Duration.ofSeconds(45)));
                if (!r.succeeded()) {
                    LOG.warn("{}: immediate shutdown failed ({}); killing the postmaster", name, r.lastErrorLine());
                }
            }
            if (Workspace.killPostmaster(data, Duration.ofSeconds(30))) {
                LOG.warn("{}: had to SIGKILL the postmaster", name);
            }
        } catch (RuntimeException e) {
            failure = e;
        }
        try {
            Workspace.deleteTree(root);
        } catch (RuntimeException e) {
            if (failure == null) {
                failure = e;
            } else {
                failure.addSuppressed(e);
            }
        }
        Workspace.releasePort(port);
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public String toString() {
        return name + " (" + host + ":" + port + (netns == null ? "" : " in netns " + netns) + ", " + root + ")";
    }
}
