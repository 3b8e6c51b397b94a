package io.repmgr4j.testkit;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.spi.Command;
import io.repmgr4j.spi.CommandResult;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.postgresql.PGConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real, throw-away PostgreSQL server on a free loopback port, for tests, demos and
 * experiments. It lives under {@code ${java.io.tmpdir}/repmgr4j-pg/<name>-<random>/}
 * ({@code data/}, {@code sock/}, {@code log/postgresql.log}) and runs as an
 * unprivileged OS user ({@code postgres} when the JVM runs as root, else the JVM's
 * user). It has a superuser role {@code repmgr} (also allowed to replicate) owning a
 * database {@code repmgr}; the bootstrap superuser is {@code postgres}.
 *
 * <pre>{@code
 * try (PgServer pg = PgServer.builder().name("pg1").start()) {
 *     int one = pg.query("SELECT 1", Integer.class);
 *     try (PgServer standby = pg.createStandby("pg2")) {
 *         assert standby.inRecovery();
 *     }
 * }
 * }</pre>
 *
 * <p>{@link #close()} stops the server and deletes its directories; a JVM shutdown hook
 * closes servers a test left open, and the next JVM removes what a killed JVM left
 * behind. Thread-safe: lifecycle methods are serialized per server; SQL helpers may be
 * called concurrently.
 */
public final class PgServer extends PlacedInstance implements PgNode, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PgServer.class);
    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static final int PORT_ATTEMPTS = 3;
    private static final Duration PG_CTL_TIMEOUT = Duration.ofSeconds(90);
    /** How long {@link #createStandby(String)} waits for the new standby to stream. */
    public static final Duration STREAMING_TIMEOUT = Duration.ofSeconds(60);

    private static final Map<String, String> DEFAULT_SETTINGS = defaults();
    private static final Pattern SETTING_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_.]*");

    private final Object lifecycle = new Object();
    private volatile boolean closed;

    PgServer(Place place) {
        super(place);
    }

    private static Map<String, String> defaults() {
        Map<String, String> d = new LinkedHashMap<>();
        d.put("wal_level", "replica");
        d.put("max_wal_senders", "10");
        d.put("max_replication_slots", "10");
        d.put("hot_standby", "on");
        d.put("wal_log_hints", "on");
        d.put("wal_keep_size", "256MB");
        d.put("shared_buffers", "16MB");
        d.put("max_connections", "40");
        d.put("fsync", "off");
        d.put("logging_collector", "off");
        return d;
    }

    /** A builder for a new primary server. */
    public static Builder builder() {
        return new Builder();
    }

    // ------------------------------------------------------------------ accessors

    /** The last {@code lines} lines of the server log. */
    public String logTail(int lines) {
        return place.logTail(lines);
    }

    // ------------------------------------------------------------------ SQL

    /** A new pgjdbc connection as {@code repmgr} to database {@code repmgr}; the caller closes it. */
    public Connection connect() {
        return connect(Place.ROLE, Place.DATABASE);
    }

    /** A new pgjdbc connection as {@code user} to {@code database}, with this server's password if it has one. */
    public Connection connect(String user, String database) {
        Properties props = new Properties();
        props.setProperty("user", user);
        if (place.password != null) {
            props.setProperty("password", place.password);
        }
        props.setProperty("connectTimeout", "10");
        props.setProperty("loginTimeout", "10");
        props.setProperty("ApplicationName", "repmgr4j-testkit");
        String url = "jdbc:postgresql://" + place.host + ":" + port() + "/"
                + java.net.URLEncoder.encode(database, StandardCharsets.UTF_8).replace("+", "%20");
        try {
            return DriverManager.getConnection(url, props);
        } catch (SQLException e) {
            throw new PgTestkitException("cannot connect to " + name() + " (" + place.host + ":" + port() + ") as "
                    + user + " to database " + database + ": " + e.getMessage(), e);
        }
    }

    /** Runs one statement as {@code repmgr} in its own connection (autocommit). */
    public void execute(String sql) {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.execute(sql);
        } catch (SQLException e) {
            throw sqlFailed(sql, e);
        }
    }

    /**
     * Runs a query as {@code repmgr} and returns the first column of the first row
     * converted to {@code type} (pgjdbc's {@code getObject(1, type)}), or {@code null}
     * when there is no row or the value is NULL.
     */
    public <T> T query(String sql, Class<T> type) {
        try (Connection c = connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getObject(1, type) : null;
        } catch (SQLException e) {
            throw sqlFailed(sql, e);
        }
    }

    private PgTestkitException sqlFailed(String sql, SQLException e) {
        // a statement that sets a password must not be repeated in a message
        String shown = sql.toLowerCase(Locale.ROOT).contains("password") ? "(statement not shown)"
                : sql.length() > 200 ? sql.substring(0, 200) + "..." : sql;
        return new PgTestkitException(name() + ": " + shown + ": " + e.getMessage()
                + (e.getSQLState() == null ? "" : " [SQLSTATE " + e.getSQLState() + "]"), e);
    }

    /** {@code pg_is_in_recovery()}: true on a standby. */
    public boolean inRecovery() {
        return Boolean.TRUE.equals(query("SELECT pg_is_in_recovery()", Boolean.class));
    }

    // ------------------------------------------------------------------ lifecycle

    /**
     * Whether a postmaster serves the data directory: {@code pg_ctl status}, checked
     * against the process table so that a dead or zombie postmaster does not count.
     */
    public boolean isRunning() {
        return place.serverRunning();
    }

    /**
     * Starts the server ({@code pg_ctl start -w -t 60}) unless it runs already, first
     * re-writing its port and socket settings into postgresql.auto.conf (so a data
     * directory overwritten by pg_rewind starts in the right place).
     *
     * @throws PgTestkitException when it does not start; the message ends with the log's tail
     */
    public void start() {
        synchronized (lifecycle) {
            checkOpen();
            if (isRunning()) {
                return;
            }
            startServer(1);
        }
    }

    /** Stops the server ({@code pg_ctl stop -m fast -w -t 60}); does nothing when it is not running. */
    public void stop() {
        synchronized (lifecycle) {
            checkOpen();
            if (!isRunning()) {
                return;
            }
            CommandResult r = place.run(place.pgCtl("stop", "-m", "fast", "-w", "-t", "60")
                    .withTimeout(PG_CTL_TIMEOUT));
            if (!r.succeeded()) {
                throw new PgTestkitException("could not stop " + name() + ": " + r.lastErrorLine() + logSection(40));
            }
            LOG.info("stopped {}", name());
        }
    }

    /** {@link #stop()} then {@link #start()}. */
    public void restart() {
        synchronized (lifecycle) {
            stop();
            start();
        }
    }

    /**
     * Crashes the server: SIGKILLs the postmaster and waits (up to 30 s) until it is gone
     * and its children have exited. The data directory is left as after a real crash, except
     * that lock files (postmaster.pid, socket lock) naming a process that is now a zombie (left by a container init
     * that does not reap) is removed so that {@code pg_ctl status} tells the truth.
     *
     * @throws PgTestkitException when the server is not running
     */
    public void kill9() {
        synchronized (lifecycle) {
            checkOpen();
            long pid = postmasterPid();
            Workspace.killAndWait(pid, Duration.ofSeconds(30));
            if (Workspace.procState(pid) == Workspace.ProcState.ZOMBIE) {
                place.removeStaleLockFiles();
            }
            LOG.info("killed {} (postmaster pid {}) with SIGKILL", name(), pid);
        }
    }

    /**
     * The postmaster's process id.
     *
     * @throws PgTestkitException when the server is not running
     */
    public long postmasterPid() {
        Optional<Long> pid = Workspace.postmasterPidFromFile(place.data);
        if (pid.isEmpty() || !Workspace.isPostmasterOf(pid.get(), place.data)) {
            throw new PgTestkitException(name() + " is not running (no live postmaster for " + place.data + ")");
        }
        return pid.get();
    }

    /**
     * Clones this server into a new standby: {@code pg_basebackup -X stream -R} into a new
     * sandbox with {@code application_name=<name>} in its primary_conninfo, starts it and
     * waits (up to {@link #STREAMING_TIMEOUT}) until this server's pg_stat_replication
     * shows it streaming. The standby runs as the same OS user with the same password; the
     * caller closes it.
     */
    public PgServer createStandby(String name) {
        checkOpen();
        PgSandbox sandbox = PgSandbox.allocate(name, place.osUser, place.password, place.bindir);
        try {
            String source = "host=" + place.host + " port=" + port() + " user=" + Place.ROLE
                    + " application_name=" + ConnInfo.quote(name);
            Command cmd = place.pg("pg_basebackup", "-D", sandbox.dataDirectory().toString(), "-d", source,
                            "-X", "stream", "-R", "-c", "fast", "--no-sync")
                    .withWorkingDirectory(sandbox.place().root.toString())
                    .withTimeout(Duration.ofMinutes(5));
            if (place.password != null) {
                cmd = cmd.withEnv("PGPASSWORD", place.password);
            }
            CommandResult r = sandbox.place().run(cmd);
            if (!r.succeeded()) {
                throw new PgTestkitException("pg_basebackup from " + name() + " into " + name + " failed"
                        + (r.timedOut() ? " (timed out)" : "") + ": " + conninfo().maskIn(r.lastErrorLine()));
            }
            PgServer standby = sandbox.adopt(true);
            waitForStreaming(standby, STREAMING_TIMEOUT);
            LOG.info("{} streams from {}", name, name());
            return standby;
        } catch (RuntimeException e) {
            try {
                sandbox.close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /**
     * Waits until this server's pg_stat_replication shows a walsender in state
     * {@code streaming} whose application_name is {@code standby.name()}.
     *
     * @throws PgTestkitException on timeout, with the last state seen and the standby's log tail
     */
    public void waitForStreaming(PgServer standby, Duration timeout) {
        Objects.requireNonNull(standby, "standby");
        try {
            waitForStreaming(standby.name(), timeout);
        } catch (PgTestkitException e) {
            throw new PgTestkitException(e.getMessage() + "\n--- last lines of " + standby.logFile() + " ---\n"
                    + standby.logTail(30), e.getCause());
        }
    }

    /** Waits until this server's pg_stat_replication shows {@code applicationName} streaming. */
    public void waitForStreaming(String applicationName, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "no walsender";
        RuntimeException lastError = null;
        while (true) {
            try (Connection c = connect();
                 PreparedStatement ps = c.prepareStatement(
                         "SELECT state FROM pg_stat_replication WHERE application_name = ? ORDER BY state = 'streaming' DESC")) {
                ps.setString(1, applicationName);
                try (ResultSet rs = ps.executeQuery()) {
                    last = rs.next() ? "state " + rs.getString(1) : "no walsender";
                    if (last.equals("state streaming")) {
                        return;
                    }
                }
                lastError = null;
            } catch (SQLException | PgTestkitException e) {
                lastError = e instanceof RuntimeException ? (RuntimeException) e : new PgTestkitException(e.getMessage(), e);
                last = "query failed: " + e.getMessage();
            }
            if (System.nanoTime() > deadline) {
                throw new PgTestkitException("timed out after " + timeout.toSeconds() + " s waiting for " + applicationName
                        + " to stream from " + name() + " (pg_stat_replication: " + last + ")", lastError);
            }
            Workspace.sleep(100);
        }
    }

    /**
     * Stops the server (immediate shutdown; SIGKILL if that fails) and deletes all its
     * directories. Idempotent; a server that is already stopped or crashed is fine.
     *
     * @throws PgTestkitException only when the server could not be stopped or its
     *     directories could not be deleted
     */
    @Override
    public void close() {
        synchronized (lifecycle) {
            if (closed) {
                return;
            }
            closed = true;
            Workspace.unregister(this);
            place.destroy();
            LOG.debug("closed {}", name());
        }
    }

    @Override
    public String toString() {
        return "PgServer[" + place + "]";
    }

    // ------------------------------------------------------------------ internals

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException(name() + " is closed");
        }
    }

    private String logSection(int lines) {
        return "\n--- last lines of " + place.logFile + " ---\n" + place.logTail(lines);
    }

    /** Starts with pg_ctl; when the port was taken meanwhile and {@code attempts > 1}, moves to another port. */
    void startServer(int attempts) {
        synchronized (lifecycle) {
            for (int attempt = 1; ; attempt++) {
                place.removeStaleLockFiles();
                place.writeIdentity();
                long offset = Workspace.size(place.logFile);
                CommandResult r = place.run(place.pgCtl("start", "-l", place.relativeLog(), "-w", "-t", "60").withTimeout(PG_CTL_TIMEOUT));
                if (r.succeeded()) {
                    LOG.info("started {} on {}:{} (data {})", name(), place.host, port(), place.data);
                    return;
                }
                String tail = Workspace.tailFrom(place.logFile, offset, 40);
                if (attempt < attempts && portTaken(tail)) {
                    int old = port();
                    place.changePort();
                    LOG.warn("{}: port {} was taken meanwhile; retrying on port {}", name(), old, port());
                    continue;
                }
                throw new PgTestkitException("could not start " + name() + " on " + place.host + ":" + port()
                        + (r.timedOut() ? " (pg_ctl timed out)" : "") + ": " + r.lastErrorLine()
                        + "\n--- last lines of " + place.logFile + " ---\n" + tail);
            }
        }
    }

    private static boolean portTaken(String log) {
        return log.contains("Address already in use") || log.contains("could not bind IPv4 address")
                || log.contains("could not create any TCP/IP sockets");
    }

    private void initdb(boolean dataChecksums) {
        Path pwfile = place.root.resolve("initdb.pw");
        try {
            List<String> args = new ArrayList<>(List.of("-D", place.data.toString(), "--username=" + Place.SUPERUSER,
                    "--encoding=UTF8", "--locale=C", "--no-sync", "--auth-local=trust",
                    "--auth-host=" + (place.password == null ? "trust" : "scram-sha-256")));
            if (dataChecksums) {
                args.add("--data-checksums");
            }
            if (place.password != null) {
                Files.writeString(pwfile, place.password + "\n", StandardCharsets.UTF_8);
                Files.setPosixFilePermissions(pwfile, PosixFilePermissions.fromString("rw-------"));
                if (place.switchUser) {
                    Workspace.chown(pwfile, place.osUser);
                }
                args.add("--pwfile=" + pwfile);
            }
            CommandResult r = place.run(place.pg("initdb", args.toArray(String[]::new)).withTimeout(Duration.ofMinutes(2)));
            if (!r.succeeded()) {
                throw new PgTestkitException("initdb for " + name() + " failed" + (r.timedOut() ? " (timed out)" : "")
                        + ": " + r.lastErrorLine());
            }
        } catch (IOException e) {
            throw new PgTestkitException("cannot prepare initdb for " + name() + ": " + e.getMessage(), e);
        } finally {
            try {
                Files.deleteIfExists(pwfile);
            } catch (IOException e) {
                LOG.warn("{}: cannot delete {}: {}", name(), pwfile, e.getMessage());
            }
        }
    }

    private void configure(Map<String, String> settings) {
        String auth = place.password == null ? "trust" : "scram-sha-256";
        String hba = "# written by the repmgr4j test kit\n"
                + "# TYPE  DATABASE     USER  ADDRESS        METHOD\n"
                + "local   all          all                  trust\n"
                + "local   replication  all                  trust\n"
                + "host    all          all   127.0.0.1/32   " + auth + "\n"
                + "host    replication  all   127.0.0.1/32   " + auth + "\n"
                + (place.clientNet == null ? "" : "host    all          all   " + place.clientNet + "   " + auth + "\n"
                        + "host    replication  all   " + place.clientNet + "   " + auth + "\n");
        Map<String, String> all = new LinkedHashMap<>(DEFAULT_SETTINGS);
        all.putAll(settings);
        StringBuilder conf = new StringBuilder("\n# ---- repmgr4j test kit ----\n");
        all.forEach((k, v) -> conf.append(k).append(" = '").append(v.replace("'", "''")).append("'\n"));
        try {
            Files.writeString(place.data.resolve("pg_hba.conf"), hba, StandardCharsets.UTF_8);
            Path pgconf = place.data.resolve("postgresql.conf");
            Files.writeString(pgconf, Files.readString(pgconf, StandardCharsets.UTF_8) + conf, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new PgTestkitException("cannot configure " + name() + ": " + e.getMessage(), e);
        }
    }

    private void bootstrap() {
        try (Connection c = connect(Place.SUPERUSER, "postgres"); Statement st = c.createStatement()) {
            st.execute("CREATE ROLE " + Place.ROLE + " SUPERUSER REPLICATION LOGIN");
            if (place.password != null) {
                // hashed on the client side: the clear text never reaches the server or its log
                c.unwrap(PGConnection.class).alterUserPassword(Place.ROLE, place.password.toCharArray(), "scram-sha-256");
            }
            st.execute("CREATE DATABASE " + Place.DATABASE + " OWNER " + Place.ROLE);
        } catch (SQLException e) {
            throw new PgTestkitException("cannot create role and database " + Place.ROLE + " on " + name() + ": "
                    + e.getMessage(), e);
        }
    }

    /**
     * Collects options for a new primary; {@link #start()} runs initdb, writes the
     * configuration, starts the server and creates role and database {@code repmgr}. Not
     * thread-safe; use one builder per server.
     */
    public static final class Builder {
        private String name;
        private String osUser;
        private String password;
        private boolean dataChecksums;
        private Path bindir;
        private final Map<String, String> settings = new LinkedHashMap<>();
        /** Set by {@link NetNode}: the namespace, address and client subnet of a server inside a {@link NetLab}. */
        private String[] namespace;

        private Builder() {
        }

        Builder inNamespace(String netns, String host, String clientNet) {
            this.namespace = new String[] {netns, host, clientNet};
            return this;
        }

        /** The server's name (default {@code pg<counter>}): letters, digits, '_', '.', '-'. */
        public Builder name(String name) {
            Place.checkName(name);
            this.name = name;
            return this;
        }

        /**
         * The OS user the server runs as (default {@code postgres} when the JVM runs as
         * root). A JVM that is not root cannot switch users: its servers run as its own user.
         */
        public Builder osUser(String osUser) {
            this.osUser = osUser;
            return this;
        }

        /**
         * One more postgresql.conf setting; it overrides the test kit's default of the same
         * name (for example {@code max_wal_senders=1} or {@code wal_log_hints=off}). Port,
         * listen address and socket directory are the kit's and cannot be set.
         */
        public Builder setting(String key, String value) {
            Objects.requireNonNull(value, "value");
            if (key == null || !SETTING_NAME.matcher(key).matches()) {
                throw new IllegalArgumentException("not a setting name: " + key);
            }
            String k = key.toLowerCase(Locale.ROOT);
            if (k.equals("port") || k.equals("listen_addresses") || k.equals("unix_socket_directories")) {
                throw new IllegalArgumentException(k + " is managed by the test kit and cannot be set");
            }
            settings.put(k, value);
            return this;
        }

        /** Whether initdb enables data page checksums (default false). */
        public Builder dataChecksums(boolean enabled) {
            this.dataChecksums = enabled;
            return this;
        }

        /**
         * A password for role {@code repmgr} (and the bootstrap superuser {@code postgres}); when
         * set, TCP connections need it (scram-sha-256) and {@link PgServer#conninfo()} carries
         * it. Default: none, TCP is trusted. Unix-socket connections are always trusted.
         */
        public Builder password(String password) {
            if (password != null && password.isEmpty()) {
                throw new IllegalArgumentException("a password must not be empty; pass null for none");
            }
            this.password = password;
            return this;
        }

        /** The directory of the PostgreSQL programs (default {@link PgBinaries#locate()}). */
        public Builder bindir(Path bindir) {
            this.bindir = bindir;
            return this;
        }

        /**
         * Creates and starts the server: initdb, configuration, start (on another port when
         * the chosen one was taken meanwhile, up to 3 times), role and database {@code repmgr}.
         * On failure everything created is removed.
         *
         * @throws PgTestkitException when a step fails; the message says which, with the server log's tail
         */
        public PgServer start() {
            String n = name != null ? name : "pg" + COUNTER.incrementAndGet();
            Place place = namespace == null ? Place.allocate(n, osUser, password, bindir)
                    : Place.allocateInNamespace(n, osUser, password, bindir, namespace[0], namespace[1], namespace[2]);
            PgServer server = new PgServer(place);
            Workspace.register(server);
            try {
                server.initdb(dataChecksums);
                server.configure(settings);
                server.startServer(PORT_ATTEMPTS);
                server.bootstrap();
                return server;
            } catch (RuntimeException e) {
                try {
                    server.close();
                } catch (RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            }
        }
    }
}
