package io.repmgr4j.testcontainers;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.ImmutableNodeConfig;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.spi.Command;
import io.repmgr4j.spi.CommandResult;
import io.repmgr4j.testkit.PgNode;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.startupcheck.IsRunningStartupCheckStrategy;
import org.testcontainers.utility.DockerImageName;

/**
 * One PostgreSQL node in its own container, for tests: the container runs an init process
 * and the node's server (started with {@code pg_ctl} inside it, as OS user
 * {@code postgres}); its data directory lives in the container at
 * {@code /var/lib/postgresql/<name>/data}. All nodes of a set share the Docker host's
 * network ({@code --network host}) and listen on their own free loopback port, so the same
 * connection string ({@code host=127.0.0.1 port=N user=repmgr dbname=repmgr}) works from
 * the test JVM and from inside every other node's container (pg_basebackup, primary_conninfo,
 * pg_rewind): repmgr4j uses one connection string per node for both.
 *
 * <p>The image (default {@value #DEFAULT_IMAGE}, or {@code REPMGR4J_PG_IMAGE}) needs
 * PostgreSQL 12 or later with pg_basebackup in {@link #bindir()} (default
 * {@value #DEFAULT_BINDIR}, or {@code REPMGR4J_PG_CONTAINER_BINDIR}), {@code sh}, coreutils
 * and an OS user {@code postgres}; {@code bin/pg-image} builds one from Debian packages,
 * and the official {@code postgres:15} image fits too. {@link #close()} removes the
 * container. Thread-safe: lifecycle methods are serialized; SQL helpers may run concurrently.
 */
public final class PgContainer implements PgNode, AutoCloseable {
    /** The image used unless {@code REPMGR4J_PG_IMAGE} names another. */
    public static final String DEFAULT_IMAGE = "repmgr4j/postgres:15-bookworm";
    /** Where the PostgreSQL programs are in the image unless {@code REPMGR4J_PG_CONTAINER_BINDIR} says otherwise. */
    public static final String DEFAULT_BINDIR = "/usr/lib/postgresql/15/bin";
    /** The superuser role (also allowed to replicate) and its database, as in the local test kit. */
    public static final String ROLE = "repmgr";
    static final String HOST = "127.0.0.1";
    static final String OS_USER = "postgres";
    private static final String SOCKET_DIR = "/var/run/postgresql";
    private static final Logger LOG = LoggerFactory.getLogger(PgContainer.class);

    private final String name;
    private final int port;
    private final String bindir;
    private final GenericContainer<?> container;
    private final ContainerCommandRunner runner;
    private final Object lifecycle = new Object();
    private volatile boolean closed;

    private PgContainer(String name, GenericContainer<?> container, int port, String bindir) {
        this.name = name;
        this.container = container;
        this.port = port;
        this.bindir = bindir;
        this.runner = new ContainerCommandRunner(container, OS_USER, name);
    }

    /** The image from {@code REPMGR4J_PG_IMAGE}, else {@value #DEFAULT_IMAGE}. */
    public static String image() {
        String env = System.getenv("REPMGR4J_PG_IMAGE");
        return env == null || env.isBlank() ? DEFAULT_IMAGE : env;
    }

    /**
     * A started container for node {@code name} without a data directory yet: code under
     * test clones into {@link #dataDirectory()} through {@link #runner()}, then
     * {@link #start()} (or the library) starts it.
     */
    public static PgContainer empty(String name) {
        if (name == null || !name.matches("[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")) {
            throw new IllegalArgumentException("a node name is 1 to 40 letters, digits, '_', '.' or '-'; got " + name);
        }
        String bindir = System.getenv().getOrDefault("REPMGR4J_PG_CONTAINER_BINDIR", DEFAULT_BINDIR);
        int port = freeLoopbackPort();
        String containerName = "repmgr4j-" + name + "-" + UUID.randomUUID().toString().substring(0, 8);
        @SuppressWarnings("resource")
        GenericContainer<?> c = new GenericContainer<>(DockerImageName.parse(image()))
                .withNetworkMode("host")
                .withCommand("sleep", "infinity")
                .withCreateContainerCmdModifier(cmd -> {
                    cmd.withName(containerName).withUser("root");
                    cmd.getHostConfig().withInit(true);   // reaps a killed postmaster's children
                })
                .withStartupCheckStrategy(new IsRunningStartupCheckStrategy())
                .withStartupTimeout(Duration.ofSeconds(60));
        c.start();
        PgContainer node = new PgContainer(name, c, port, bindir);
        try {
            node.sh("mkdir -p \"$1\" " + SOCKET_DIR, "/var/lib/postgresql/" + name);
            LOG.info("container {} for {} (port {})", containerName, name, port);
            return node;
        } catch (RuntimeException e) {
            node.close();
            throw e;
        }
    }

    // ------------------------------------------------------------------ accessors

    /** The node's name (also its application_name when it streams). */
    public String name() {
        return name;
    }

    /** {@code 127.0.0.1}: the containers share the Docker host's network. */
    @Override
    public String host() {
        return HOST;
    }

    /** The loopback port the server listens on (the same inside the containers and on the host). */
    @Override
    public int port() {
        return port;
    }

    /** The data directory, a path inside the container. */
    public String dataDirectory() {
        return "/var/lib/postgresql/" + name + "/data";
    }

    /** The server log, a path inside the container. */
    public String logFile() {
        return "/var/lib/postgresql/" + name + "/postgresql.log";
    }

    /** The directory of the PostgreSQL programs inside the container. */
    public String bindir() {
        return bindir;
    }

    /** The OS user the server runs as inside the container ({@code postgres}). */
    public String osUser() {
        return OS_USER;
    }

    /**
     * A node configuration for this node: id, name, conninfo, and the data directory and
     * pg_bindir as paths inside the container (where {@link #runner()} runs the programs).
     */
    @Override
    public ImmutableNodeConfig.Builder nodeConfig(int nodeId) {
        return NodeConfig.builder().nodeId(nodeId).nodeName(name).conninfo(conninfo()).dataDirectory(dataDirectory())
                .pgBindir(bindir);
    }

    /** Runs commands inside this node's container as {@code postgres}. */
    public ContainerCommandRunner runner() {
        return runner;
    }

    /** The Testcontainers container, for what this class does not cover. */
    public GenericContainer<?> container() {
        return container;
    }

    /** {@code host=127.0.0.1 port=N user=repmgr dbname=repmgr connect_timeout=2}. */
    public ConnInfo conninfo() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("host", HOST);
        p.put("port", Integer.toString(port));
        p.put("user", ROLE);
        p.put("dbname", ROLE);
        p.put("connect_timeout", "2");
        return ConnInfo.of(p);
    }

    /** The last {@code lines} lines of the server log. */
    public String logTail(int lines) {
        CommandResult r = runner.run(Command.of("tail", "-n", Integer.toString(lines), logFile())
                .withTimeout(Duration.ofSeconds(10)));
        return r.stdout();
    }

    // ------------------------------------------------------------------ SQL

    /** A new pgjdbc connection as {@code repmgr} to database {@code repmgr}; the caller closes it. */
    public Connection connect() {
        Properties props = new Properties();
        props.setProperty("user", ROLE);
        props.setProperty("connectTimeout", "10");
        props.setProperty("loginTimeout", "10");
        props.setProperty("ApplicationName", "repmgr4j-testcontainers");
        try {
            return DriverManager.getConnection("jdbc:postgresql://" + HOST + ":" + port + "/" + ROLE, props);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot connect to " + name + " (" + HOST + ":" + port + "): " + e.getMessage(), e);
        }
    }

    /** Runs one statement as {@code repmgr} in its own connection (autocommit). */
    public void execute(String sql) {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(name + ": " + sql + ": " + e.getMessage(), e);
        }
    }

    /** The first column of the first row of a query, or null. */
    public <T> T query(String sql, Class<T> type) {
        try (Connection c = connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getObject(1, type) : null;
        } catch (SQLException e) {
            throw new IllegalStateException(name + ": " + sql + ": " + e.getMessage(), e);
        }
    }

    /** {@code pg_is_in_recovery()}. */
    public boolean inRecovery() {
        return Boolean.TRUE.equals(query("SELECT pg_is_in_recovery()", Boolean.class));
    }

    // ------------------------------------------------------------------ lifecycle

    /** initdb, configuration, start, role and database {@code repmgr}: this node becomes a primary. */
    void initPrimary(Map<String, String> settings) {
        synchronized (lifecycle) {
            pg("initdb", "-D", dataDirectory(), "--username=postgres", "--encoding=UTF8", "--locale=C", "--no-sync",
                    "--auth-local=trust", "--auth-host=trust");
            StringBuilder conf = new StringBuilder("\n# ---- repmgr4j testcontainers ----\n");
            Map<String, String> all = new LinkedHashMap<>(defaults());
            all.putAll(settings);
            all.forEach((k, v) -> conf.append(k).append(" = '").append(v.replace("'", "''")).append("'\n"));
            String hba = "local all all trust\nlocal replication all trust\n"
                    + "host all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n";
            sh("printf '%s' \"$2\" >> \"$1/postgresql.conf\" && printf '%s' \"$3\" > \"$1/pg_hba.conf\"",
                    dataDirectory(), conf.toString(), hba);
            start();
            pg("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", SOCKET_DIR, "-p", Integer.toString(port), "-U", "postgres",
                    "-d", "postgres", "-c", "CREATE ROLE " + ROLE + " SUPERUSER REPLICATION LOGIN",
                    "-c", "CREATE DATABASE " + ROLE + " OWNER " + ROLE);
        }
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
        d.put("listen_addresses", HOST);
        d.put("unix_socket_directories", SOCKET_DIR);
        return d;
    }

    /**
     * Clones {@code upstream} into this (empty) node with pg_basebackup, run inside this
     * node's container, starts it and waits until the upstream shows it streaming.
     */
    void cloneFrom(PgContainer upstream) {
        synchronized (lifecycle) {
            pg("pg_basebackup", "-D", dataDirectory(), "-d", "host=" + HOST + " port=" + upstream.port() + " user=" + ROLE
                    + " application_name=" + ConnInfo.quote(name), "-X", "stream", "-R", "-c", "fast", "--no-sync");
            start();
        }
        upstream.waitForStreaming(name, Duration.ofSeconds(60));
    }

    /**
     * Starts the server unless it runs, first writing its port into postgresql.auto.conf
     * (a data directory copied from another node, by pg_basebackup or pg_rewind, carries that
     * node's port).
     */
    public void start() {
        synchronized (lifecycle) {
            checkOpen();
            if (isRunning()) {
                return;
            }
            sh("f=\"$1/postgresql.auto.conf\"; { [ -f \"$f\" ] && grep -v '^port = ' \"$f\"; echo \"port = '$2'\"; } > \"$f.tmp\""
                    + " && mv \"$f.tmp\" \"$f\" && chmod 600 \"$f\"", dataDirectory(), Integer.toString(port));
            check(runner.run(pgCtl("start", "-l", "postgresql.log", "-w", "-t", "60").withTimeout(Duration.ofMinutes(2))), "pg_ctl");
            LOG.info("started {} in its container on {}:{}", name, HOST, port);
        }
    }

    /** {@code pg_ctl stop -m fast}; nothing when it is not running. */
    public void stop() {
        synchronized (lifecycle) {
            checkOpen();
            if (isRunning()) {
                check(runner.run(pgCtl("stop", "-m", "fast", "-w", "-t", "60").withTimeout(Duration.ofMinutes(2))), "pg_ctl");
            }
        }
    }

    /** Whether a postmaster serves the data directory ({@code pg_ctl status}). */
    public boolean isRunning() {
        CommandResult r = runner.run(pgCtl("status").withTimeout(Duration.ofSeconds(10)));
        return r.exitCode() == 0;
    }

    /** SIGKILLs the postmaster inside the container and waits until it is gone. */
    public void kill9() {
        synchronized (lifecycle) {
            checkOpen();
            sh("pid=$(head -n 1 \"$1/postmaster.pid\") && kill -9 \"$pid\" && "
                    + "for i in $(seq 1 300); do kill -0 \"$pid\" 2>/dev/null || exit 0; sleep 0.1; done; exit 1", dataDirectory());
            LOG.info("killed {}'s postmaster with SIGKILL", name);
        }
    }

    /** Waits until this server's pg_stat_replication shows {@code applicationName} streaming. */
    public void waitForStreaming(String applicationName, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "no walsender";
        while (true) {
            try {
                String state = query("SELECT state FROM pg_stat_replication WHERE application_name = '"
                        + applicationName.replace("'", "''") + "' ORDER BY state = 'streaming' DESC", String.class);
                if ("streaming".equals(state)) {
                    return;
                }
                last = state == null ? "no walsender" : "state " + state;
            } catch (IllegalStateException e) {
                last = e.getMessage();
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("timed out after " + timeout.toSeconds() + " s waiting for " + applicationName
                        + " to stream from " + name + " (" + last + ")");
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
        }
    }

    /** Removes the container (and with it the server and its data). Idempotent. */
    @Override
    public void close() {
        synchronized (lifecycle) {
            if (closed) {
                return;
            }
            closed = true;
            container.stop();
        }
    }

    @Override
    public String toString() {
        return "PgContainer[" + name + " " + HOST + ":" + port + "]";
    }

    // ------------------------------------------------------------------ internals

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException(name + " is closed");
        }
    }

    /**
     * A pg_ctl command on the data directory, given in {@code PGDATA} and never as
     * {@code -D} (pg_ctl splices {@code -D} and {@code -l} into the {@code sh -c} line it
     * starts postgres with), run from the node's directory so that {@code logFile()} is
     * named relative to it; as the library's {@code PgControl} and the test kit do.
     */
    private Command pgCtl(String... args) {
        String[] argv = new String[args.length + 1];
        argv[0] = bindir + "/pg_ctl";
        System.arraycopy(args, 0, argv, 1, args.length);
        return Command.of(argv).withEnv("PGDATA", dataDirectory()).withWorkingDirectory("/var/lib/postgresql/" + name);
    }

    private void pg(String program, String... args) {
        String[] argv = new String[args.length + 1];
        argv[0] = bindir + "/" + program;
        System.arraycopy(args, 0, argv, 1, args.length);
        check(runner.run(Command.of(argv).withTimeout(Duration.ofMinutes(2))), program);
    }

    private void sh(String script, String... args) {
        String[] argv = new String[args.length + 4];
        argv[0] = "sh";
        argv[1] = "-c";
        argv[2] = script;
        argv[3] = "sh";
        System.arraycopy(args, 0, argv, 4, args.length);
        check(runner.run(Command.of(argv).withTimeout(Duration.ofMinutes(1))), "sh");
    }

    private void check(CommandResult r, String what) {
        if (!r.succeeded()) {
            throw new IllegalStateException(what + " in the container of " + name + " failed (exit " + r.exitCode()
                    + (r.timedOut() ? ", timed out" : "") + "): " + r.lastErrorLine());
        }
    }

    private static int freeLoopbackPort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException("no free loopback port: " + e.getMessage(), e);
        }
    }

    static void requireNonNull(Object o, String what) {
        Objects.requireNonNull(o, what);
    }
}
