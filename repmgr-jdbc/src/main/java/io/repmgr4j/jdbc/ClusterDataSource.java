package io.repmgr4j.jdbc;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.ReplicationException;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.SQLInvalidAuthorizationSpecException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLTransientConnectionException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * A {@link DataSource} that follows the cluster's primary: it learns the nodes from the
 * repmgr metadata ({@code repmgr.nodes}, read from every reachable node; where copies
 * disagree, the one with the highest voting term and then the newest timeline wins),
 * listens for the role-change notices the library's operations and daemons publish
 * ({@code LISTEN repmgr4j_topology}) and polls as well (a standby cannot notify), all on
 * one thread of its own.
 *
 * <p>{@link #getConnection()} hands out a connection to the legitimate primary only: the
 * node the chosen metadata copy records as primary, checked on the new connection to be
 * writable ({@code pg_is_in_recovery()} false and {@code transaction_read_only} off) before
 * it is handed out. A fenced node (in recovery or stopped) and a stale primary (writable,
 * but not the metadata's primary) are never handed out. When the primary changes, new
 * connections go to the new one as soon as it is writable and recorded, and connections
 * to the old one become invalid: {@code isValid} false, every use an SQLException with
 * SQLState 08006, their driver connections aborted, so that pools (HikariCP) evict them.
 * While no primary is known, {@code getConnection} waits for one, never longer than the
 * login timeout, then fails with the nodes tried and why each was not used.
 *
 * <p>The read-only variant ({@link Builder#readOnly(Duration)}) hands out connections to
 * standbys that stream from the primary with a replay lag within the limit (as the
 * primary's {@code pg_stat_replication} reports it), in turn.
 *
 * <pre>{@code
 * ClusterDataSource ds = ClusterDataSource.builder()
 *         .seed("host=10.0.0.1 port=5432 user=repmgr dbname=repmgr")   // where the metadata is
 *         .database("app").user("app").password(secret)                // what the application uses
 *         .build();
 * HikariConfig hc = new HikariConfig();
 * hc.setDataSource(ds);
 * try (HikariDataSource pool = new HikariDataSource(hc)) { ... }
 * ds.close();
 * }</pre>
 *
 * Thread-safe; {@link #close()} stops its thread and aborts the connections still open.
 */
public final class ClusterDataSource implements DataSource, AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ClusterDataSource.class.getName());

    /** The login timeout by default. */
    public static final Duration DEFAULT_LOGIN_TIMEOUT = Duration.ofSeconds(5);
    /** How often the nodes are polled while a primary is known and listened to, by default. */
    public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofSeconds(1);
    /** How often the nodes are polled while no primary is known, by default. */
    public static final Duration DEFAULT_FAILOVER_POLL_INTERVAL = Duration.ofMillis(10);

    /** The settings, checked. */
    record Settings(List<ConnInfo> seeds, String database, String user, String password, Duration loginTimeout,
                    Duration pollInterval, Duration failoverPollInterval, Duration maxLag, String applicationName,
                    Map<String, String> properties, boolean spares) {
    }

    private final Settings settings;
    private final TopologyWatcher watcher;
    private final Set<RoutedConnection> open = ConcurrentHashMap.newKeySet();
    private final AtomicInteger turn = new AtomicInteger();
    private volatile Duration loginTimeout;
    private volatile PrintWriter logWriter;
    private volatile boolean closed;

    private ClusterDataSource(Settings settings) {
        this.settings = settings;
        this.loginTimeout = settings.loginTimeout();
        this.watcher = new TopologyWatcher(settings, this::invalidate, settings.maxLag() == null && settings.spares()
                ? node -> open(node, settings.user(), settings.password(), 2000) : null);
        watcher.start();
    }

    /** A builder; at least one seed is needed. */
    public static Builder builder() {
        return new Builder();
    }

    /** One node as the DataSource sees it: id, name and address. Immutable; thread-safe. */
    public record Node(int nodeId, String name, String host, int port) {
    }

    /** The legitimate primary as last polled, if one is known. */
    public Optional<Node> primary() {
        Topology.Member m = watcher.current().primary();
        return Optional.ofNullable(m).map(ClusterDataSource::node);
    }

    /** The standbys within the lag limit as last polled (read-only variant; empty otherwise). */
    public List<Node> standbys() {
        return watcher.current().standbys().stream().map(ClusterDataSource::node).toList();
    }

    private static Node node(Topology.Member m) {
        return new Node(m.nodeId(), m.name(), m.endpoint().host(), m.endpoint().port());
    }

    /** The ports of the nodes a spare connection is kept to (for tests). */
    Set<Integer> sparePorts() {
        return watcher.spareEndpoints().stream().map(Endpoint::port).collect(java.util.stream.Collectors.toSet());
    }

    /** How many connections this DataSource handed out are open. */
    public int openConnections() {
        return open.size();
    }

    @Override
    public Connection getConnection() throws SQLException {
        return getConnection(settings.user(), settings.password());
    }

    @Override
    public Connection getConnection(String user, String password) throws SQLException {
        boolean forPrimary = settings.maxLag() == null;
        long start = System.nanoTime();
        long deadline = start + loginTimeout.toNanos();
        List<String> failures = new ArrayList<>();
        SQLException lastCause = null;
        while (true) {
            if (closed) {
                throw new SQLNonTransientConnectionException("the ClusterDataSource is closed", "08003");
            }
            Topology t = watcher.current();
            Topology.Member target = forPrimary ? t.primary() : nextStandby(t);
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (target == null) {
                if (t.polled() && t.metadataFrom() != null && t.members().isEmpty()) {
                    throw new SQLNonTransientConnectionException("the cluster's metadata (read on " + t.metadataFrom()
                            + ") lists no active primary or standby: register the nodes first", "08001");
                }
                if (left <= 0) {
                    throw noNode(t, forPrimary, failures, lastCause);
                }
                watcher.kick();
                try {
                    watcher.awaitChange(t, Math.min(left, Math.max(1, settings.failoverPollInterval().toMillis() * 5)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new SQLTransientConnectionException("interrupted while waiting for a primary", "08001", e);
                }
                continue;
            }
            if (left <= 0) {
                throw noNode(t, forPrimary, failures, lastCause);
            }
            Connection c = null;
            try {
                String wrong = null;
                if (Objects.equals(user, settings.user()) && Objects.equals(password, settings.password())) {
                    // the connection kept open since the node was a standby: no connection set-up now
                    c = watcher.takeSpare(target.endpoint());
                    if (c != null) {
                        try {
                            wrong = check(c, forPrimary, left);
                        } catch (SQLException spareBroken) {
                            wrong = "spare broken";
                        }
                        if (wrong != null) {
                            close(c);
                            c = null;
                            wrong = null;
                        }
                    }
                }
                if (c == null) {
                    c = open(target, user, password, left);
                    wrong = check(c, forPrimary, left);
                }
                if (wrong != null) {
                    failures.add(target.describe() + ": " + wrong);
                    close(c);
                    watcher.kick();
                    watcher.awaitChange(t, Math.min(Math.max(1, (deadline - System.nanoTime()) / 1_000_000),
                            settings.failoverPollInterval().toMillis()));
                    continue;
                }
                Topology now = watcher.current();
                if (forPrimary ? now.primary() == null || !now.primary().endpoint().equals(target.endpoint())
                        || now.epoch() != t.epoch() : now.notStandby().contains(target.endpoint())) {
                    close(c);
                    continue; // the topology changed while connecting
                }
                RoutedConnection r = RoutedConnection.wrap(c, target, forPrimary, this);
                open.add(r);
                // a change published between the check above and the registration
                Topology after = watcher.current();
                if (after != now) {
                    invalidate(after);
                }
                return r.proxy();
            } catch (SQLException e) {
                close(c);
                String state = Objects.requireNonNullElse(e.getSQLState(), "");
                if (state.startsWith("28") || state.equals("3D000")) {
                    throw new SQLInvalidAuthorizationSpecException("unable to connect to " + target.describe()
                            + " as user \"" + user + "\" to database \"" + database() + "\": " + masked(e, password),
                            state, e);
                }
                lastCause = e;
                failures.add(target.describe() + ": " + masked(e, password));
                watcher.kick();
                try {
                    watcher.awaitChange(t, Math.min(Math.max(1, (deadline - System.nanoTime()) / 1_000_000),
                            settings.failoverPollInterval().toMillis()));
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new SQLTransientConnectionException("interrupted while waiting for a primary", "08001", ie);
                }
            } catch (InterruptedException e) {
                close(c);
                Thread.currentThread().interrupt();
                throw new SQLTransientConnectionException("interrupted while waiting for a primary", "08001", e);
            }
        }
    }

    private Topology.Member nextStandby(Topology t) {
        List<Topology.Member> s = t.standbys();
        if (s.isEmpty()) {
            return null;
        }
        return s.get(Math.floorMod(turn.getAndIncrement(), s.size()));
    }

    private SQLException noNode(Topology t, boolean forPrimary, List<String> failures, SQLException cause) {
        String what = forPrimary ? "no writable primary" : "no standby within the lag limit of "
                + settings.maxLag().toMillis() + " ms";
        StringBuilder sb = new StringBuilder(what).append(" could be reached within the login timeout of ")
                .append(loginTimeout.toMillis()).append(" ms; nodes tried: ").append(t.tried());
        if (!failures.isEmpty()) {
            sb.append("; connections refused: ").append(String.join("; ", failures.subList(
                    Math.max(0, failures.size() - 3), failures.size())));
        }
        if (!t.polled()) {
            sb.append(" (the cluster was not polled yet)");
        }
        SQLException e = new SQLTransientConnectionException(sb.toString(), "08001");
        if (cause != null) {
            e.initCause(cause);
        }
        return e;
    }

    private String database() {
        return settings.database();
    }

    private Connection open(Topology.Member node, String user, String password, long leftMillis) throws SQLException {
        Properties p = new Properties();
        p.putAll(settings.properties());
        if (user != null) {
            p.setProperty("user", user);
        }
        if (password != null) {
            p.setProperty("password", password);
        }
        int secs = (int) Math.max(1, (leftMillis + 999) / 1000);
        p.setProperty("connectTimeout", String.valueOf(secs));
        p.setProperty("loginTimeout", String.valueOf(secs));
        p.setProperty("ApplicationName", settings.applicationName());
        p.putIfAbsent("assumeMinServerVersion", "10");
        String url = "jdbc:postgresql://" + node.endpoint() + "/" + encode(settings.database());
        return DriverManager.getConnection(url, p);
    }

    /** Why the new connection may not be handed out, or null when it may. */
    private static String check(Connection c, boolean forPrimary, long leftMillis) throws SQLException {
        int before = c.getNetworkTimeout();
        c.setNetworkTimeout(Runnable::run, (int) Math.max(1, leftMillis));
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT pg_catalog.pg_is_in_recovery(),"
                     + " pg_catalog.current_setting('transaction_read_only')")) {
            rs.next();
            boolean recovery = rs.getBoolean(1);
            String readOnly = rs.getString(2);
            if (forPrimary && recovery) {
                return "in recovery";
            }
            if (forPrimary && !"off".equals(readOnly)) {
                return "read-only (transaction_read_only = " + readOnly + ")";
            }
            if (!forPrimary && !recovery) {
                return "not a standby (not in recovery)";
            }
        } finally {
            c.setNetworkTimeout(Runnable::run, before);
        }
        return null;
    }

    /** Invalidates the handed-out connections to nodes that are no longer what they were handed out as. */
    private void invalidate(Topology t) {
        for (RoutedConnection r : open) {
            if (r.invalid()) {
                continue;
            }
            boolean bad = r.forPrimary() ? t.notPrimary().contains(r.node().endpoint())
                    : t.notStandby().contains(r.node().endpoint());
            if (bad) {
                String why = t.problems().getOrDefault(r.node().endpoint(), "no longer the primary");
                String reason = r.forPrimary() && t.primary() != null
                        ? "the primary is now " + t.primary().describe() + " (" + why + ")" : why;
                LOG.log(System.Logger.Level.DEBUG, "invalidating " + r.proxy() + ": " + reason);
                r.invalidate(reason);
                open.remove(r);
            }
        }
    }

    void forget(RoutedConnection r) {
        open.remove(r);
    }

    private static void close(Connection c) {
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // unusable anyway
            }
        }
    }

    private static String masked(SQLException e, String password) {
        String m = Objects.requireNonNullElse(e.getMessage(), e.toString());
        if (password != null && !password.isEmpty()) {
            m = m.replace(password, ConnInfo.MASK);
        }
        return m + (e.getSQLState() == null ? "" : " (SQLState " + e.getSQLState() + ")");
    }

    static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** Stops the thread, closes its connections and aborts the handed-out connections still open. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        watcher.close();
        for (RoutedConnection r : open) {
            r.invalidate("the ClusterDataSource was closed");
        }
        open.clear();
    }

    @Override
    public PrintWriter getLogWriter() {
        return logWriter;
    }

    @Override
    public void setLogWriter(PrintWriter out) {
        this.logWriter = out;
    }

    /** Sets the login timeout: the longest {@link #getConnection()} waits and connects; 0 restores the configured one. */
    @Override
    public void setLoginTimeout(int seconds) {
        if (seconds < 0) {
            throw new IllegalArgumentException("login timeout must not be negative: " + seconds);
        }
        loginTimeout = seconds == 0 ? settings.loginTimeout() : Duration.ofSeconds(seconds);
    }

    @Override
    public int getLoginTimeout() {
        return (int) Math.max(1, (loginTimeout.toMillis() + 999) / 1000);
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        throw new SQLFeatureNotSupportedException("ClusterDataSource logs through System.Logger");
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        if (iface.isInstance(this)) {
            return iface.cast(this);
        }
        throw new SQLException("ClusterDataSource is not a " + iface.getName());
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) {
        return iface.isInstance(this);
    }

    @Override
    public String toString() {
        Topology t = watcher.current();
        return "ClusterDataSource[" + (settings.maxLag() == null ? "primary" : "standbys") + ", primary "
                + (t.primary() == null ? "unknown" : t.primary().describe()) + "]";
    }

    /**
     * Options of a {@link ClusterDataSource}. The seeds name where the metadata can be read
     * (any node; the user and database of the repmgr metadata, as in the nodes' conninfo);
     * the database, user and password are what the application's connections use (by
     * default those of the first seed). Not thread-safe.
     */
    public static final class Builder {
        private final List<ConnInfo> seeds = new ArrayList<>();
        private String database;
        private String user;
        private String password;
        private Duration loginTimeout = DEFAULT_LOGIN_TIMEOUT;
        private Duration pollInterval = DEFAULT_POLL_INTERVAL;
        private Duration failoverPollInterval = DEFAULT_FAILOVER_POLL_INTERVAL;
        private Duration maxLag;
        private String applicationName = "repmgr4j-jdbc";
        private final Map<String, String> properties = new LinkedHashMap<>();
        private boolean spares = true;

        private Builder() {
        }

        /** A node's libpq connection string (key=value or URI, one or several hosts) to read the metadata from. */
        public Builder seed(String conninfo) {
            return seed(parse(conninfo));
        }

        /** {@link #seed(String)} for a parsed connection string. */
        public Builder seed(ConnInfo conninfo) {
            seeds.add(Objects.requireNonNull(conninfo, "conninfo"));
            return this;
        }

        /** The application's database (default: the first seed's). */
        public Builder database(String database) {
            this.database = nonBlank(database, "database");
            return this;
        }

        /** The application's user (default: the first seed's). */
        public Builder user(String user) {
            this.user = nonBlank(user, "user");
            return this;
        }

        /** The application's password (default: the first seed's, if any). Never logged or shown. */
        public Builder password(String password) {
            this.password = Objects.requireNonNull(password, "password");
            return this;
        }

        /** The longest getConnection may take, waiting for a primary included (default 5 s; at least 1 s). */
        public Builder loginTimeout(Duration timeout) {
            this.loginTimeout = range(timeout, Duration.ofSeconds(1), Duration.ofHours(1), "loginTimeout");
            return this;
        }

        /** How often the nodes are polled while a primary is known (default 1 s; 10 ms to 60 s). */
        public Builder pollInterval(Duration interval) {
            this.pollInterval = range(interval, Duration.ofMillis(10), Duration.ofSeconds(60), "pollInterval");
            return this;
        }

        /** How often the nodes are polled while no primary is known (default 10 ms; 1 ms to 5 s). */
        public Builder failoverPollInterval(Duration interval) {
            this.failoverPollInterval = range(interval, Duration.ofMillis(1), Duration.ofSeconds(5), "failoverPollInterval");
            return this;
        }

        /**
         * Makes this the read-only variant: connections go to standbys that stream from the
         * primary with a replay lag of at most {@code maxLag}, in turn.
         */
        public Builder readOnly(Duration maxLag) {
            this.maxLag = range(maxLag, Duration.ZERO, Duration.ofDays(1), "maxLag");
            return this;
        }

        /**
         * Whether to keep one application connection open to each standby (default true):
         * a session survives its server's promotion and becomes writable, so the first
         * connection to a new primary needs no connection set-up. Costs one idle backend
         * per standby. Not used by the read-only variant.
         */
        public Builder spareConnections(boolean keep) {
            this.spares = keep;
            return this;
        }

        /** The application_name of the handed-out connections (default "repmgr4j-jdbc"). */
        public Builder applicationName(String name) {
            this.applicationName = nonBlank(name, "applicationName");
            return this;
        }

        /** One more pgjdbc property for the handed-out connections (for example sslmode, socketTimeout). */
        public Builder property(String key, String value) {
            properties.put(nonBlank(key, "property name"), Objects.requireNonNull(value, "value"));
            return this;
        }

        /**
         * Starts the DataSource (its watcher polls the seeds at once).
         *
         * @throws IllegalArgumentException when no seed was given or a setting is unusable
         */
        public ClusterDataSource build() {
            if (seeds.isEmpty()) {
                throw new IllegalArgumentException("a ClusterDataSource needs at least one seed: the conninfo of a node"
                        + " whose repmgr metadata it can read (seed(\"host=... port=... user=repmgr dbname=repmgr\"))");
            }
            for (ConnInfo s : seeds) {
                for (ConnInfo.HostPort hp : s.hosts()) {
                    if (hp.host().startsWith("/") || hp.host().startsWith("@")) {
                        throw new IllegalArgumentException("seed host \"" + hp.host() + "\" is a Unix-domain socket;"
                                + " pgjdbc speaks TCP only: give host=<address>");
                    }
                }
            }
            ConnInfo first = seeds.get(0);
            String db = database != null ? database : first.dbname().orElse(null);
            String u = user != null ? user : first.user().orElse(null);
            if (db == null || u == null) {
                throw new IllegalArgumentException("no " + (u == null ? "user" : "database")
                        + " for the application's connections: set it, or name it in the first seed");
            }
            String pw = password != null ? password : (user == null ? first.password().orElse(null) : null);
            return new ClusterDataSource(new Settings(List.copyOf(seeds), db, u, pw, loginTimeout, pollInterval,
                    failoverPollInterval, maxLag, applicationName, Map.copyOf(properties), spares));
        }

        private static ConnInfo parse(String conninfo) {
            try {
                return ConnInfo.parse(conninfo);
            } catch (ReplicationException e) {
                throw new IllegalArgumentException("invalid seed: " + e.getMessage()
                        + e.hint().map(h -> " (" + h + ")").orElse(""), e);
            }
        }

        private static Duration range(Duration d, Duration min, Duration max, String what) {
            Objects.requireNonNull(d, what);
            if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
                throw new IllegalArgumentException(what + " must be between " + min + " and " + max + ": " + d);
            }
            return d;
        }

        private static String nonBlank(String s, String what) {
            if (s == null || s.isBlank()) {
                throw new IllegalArgumentException(what + " must not be empty");
            }
            return s;
        }
    }
}
