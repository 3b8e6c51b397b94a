package io.repmgr4j.jdbc;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.TopologyNotice;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.function.Consumer;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * The DataSource's one thread: keeps a metadata connection to every node (the repmgr
 * database, the nodes' own conninfo), polls them all (server state, voting term, timeline,
 * {@code repmgr.nodes}), chooses the metadata copy with the highest voting term and newest
 * timeline, and publishes a {@link Topology}. Between polls it waits on
 * {@code LISTEN repmgr4j_topology} on the primary's connection, so a role-change notice
 * triggers a poll at once; when the primary is unknown or its connection broke it polls
 * every {@code failoverPollInterval} until a legitimate primary appears.
 *
 * <p>Only the watcher thread touches the connections; {@link #current()},
 * {@link #kick()} and {@link #awaitChange} are thread-safe.
 */
final class TopologyWatcher implements Runnable {
    private static final System.Logger LOG = System.getLogger(TopologyWatcher.class.getName());
    /** How long one wait on the listening connection lasts, between checks for a kick or close. */
    private static final int LISTEN_SLICE_MS = 20;
    /** The longest a failing node waits before it is tried again. */
    private static final long MAX_BACKOFF_MS = 1000;

    private static final String STATE_SQL = "SELECT pg_catalog.pg_is_in_recovery(),"
            + " pg_catalog.current_setting('transaction_read_only') = 'on',"
            + " CASE WHEN pg_catalog.pg_is_in_recovery() THEN"
            + "   COALESCE((SELECT NULLIF(r.received_tli, 0) FROM pg_catalog.pg_stat_wal_receiver r),"
            + "            (SELECT k.timeline_id FROM pg_catalog.pg_control_checkpoint() k))"
            + " ELSE ('x' || substr(pg_catalog.pg_walfile_name(pg_catalog.pg_current_wal_lsn()), 1, 8))::bit(32)::int END";
    private static final String TERM_SQL = "SELECT term FROM repmgr.voting_term LIMIT 1";
    private static final String NODES_SQL = "SELECT node_id, node_name, type, active, conninfo FROM repmgr.nodes ORDER BY node_id";
    private static final String LAG_SQL = "SELECT application_name, state,"
            + " COALESCE(EXTRACT(epoch FROM replay_lag), 0)::float8 FROM pg_catalog.pg_stat_replication";

    /** One row of repmgr.nodes. */
    record Row(int nodeId, String name, String type, boolean active, ConnInfo conninfo) {
    }

    /** What the watcher knows of one endpoint; touched by the watcher thread only. */
    private static final class Probe {
        ConnInfo conninfo;
        Connection c;
        int failures;
        long retryAt;
        String problem;
        boolean ok;
        boolean inRecovery;
        boolean readOnly;
        int timeline;
        Integer term;
        List<Row> rows;
        boolean schemaSeen;

        Probe(ConnInfo conninfo) {
            this.conninfo = conninfo;
        }
    }

    /** Opens an application connection to a node (a spare for when it is promoted). */
    interface SpareOpener {
        Connection open(Topology.Member node) throws SQLException;
    }

    private final ClusterDataSource.Settings settings;
    private final SpareOpener spareOpener;
    /** One application connection kept open to each standby: a promoted standby's sessions stay, and become writable. */
    private final Map<Endpoint, Connection> spares = new java.util.concurrent.ConcurrentHashMap<>();
    private final List<Endpoint> seeds = new ArrayList<>();
    private final Map<Endpoint, Probe> probes = new LinkedHashMap<>();
    private final Consumer<Topology> onPublish;
    private final Object lock = new Object();
    private final Thread thread;
    private volatile Topology current = Topology.NONE;
    private volatile boolean kicked;
    private volatile boolean closed;
    private Endpoint listeningOn;
    /** When to poll again after a notice (0: no follow-up due). */
    private long followUpAt;
    /** How long after a notice the nodes are polled once more. */
    private static final Duration FOLLOW_UP = Duration.ofMillis(250);
    /** The connection LISTEN was run on (a connection opened again must LISTEN again). */
    private Connection listeningConnection;

    TopologyWatcher(ClusterDataSource.Settings settings, Consumer<Topology> onPublish, SpareOpener spareOpener) {
        this.settings = settings;
        this.spareOpener = spareOpener;
        this.onPublish = onPublish;
        for (ConnInfo seed : settings.seeds()) {
            for (ConnInfo.HostPort hp : seed.hosts()) {
                Endpoint e = new Endpoint(hp.host(), hp.port());
                if (!probes.containsKey(e)) {
                    seeds.add(e);
                    probes.put(e, new Probe(seed.without("hostaddr").with("host", hp.host())
                            .with("port", String.valueOf(hp.port()))));
                }
            }
        }
        thread = new Thread(this, "repmgr4j-jdbc-watcher");
        thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    Topology current() {
        return current;
    }

    /** Asks for a poll now (a connection to the published primary failed or was refused). */
    void kick() {
        kicked = true;
    }

    /** Waits until a topology other than {@code seen} is published, at most {@code millis}. */
    void awaitChange(Topology seen, long millis) throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000;
        synchronized (lock) {
            while (current == seen && !closed) {
                long left = (deadline - System.nanoTime()) / 1_000_000;
                if (left <= 0) {
                    return;
                }
                lock.wait(left);
            }
        }
    }

    void close() {
        closed = true;
        synchronized (lock) {
            lock.notifyAll();
        }
        try {
            thread.join(Math.max(2000, settings.failoverPollInterval().toMillis() * 4));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!thread.isAlive()) {
            closeAll();
        }
    }

    @Override
    public void run() {
        try {
            while (!closed) {
                Topology t;
                try {
                    t = poll();
                    publish(t);
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "topology poll failed: " + e);
                    t = null;
                }
                boolean fast = t == null || t.primary() == null || kicked;
                kicked = false;
                if (fast) {
                    sleep(settings.failoverPollInterval().toMillis());
                } else {
                    keepSpares(t);
                    listen(t.primary().endpoint());
                }
            }
        } finally {
            closeAll();
        }
    }

    private void sleep(long ms) {
        long deadline = System.nanoTime() + ms * 1_000_000;
        while (!closed && !kicked) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return;
            }
            try {
                Thread.sleep(Math.min(left / 1_000_000, 5), (int) (Math.min(left, 5_000_000) % 1_000_000));
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** The nodes a spare connection is kept to. */
    Set<Endpoint> spareEndpoints() {
        return Set.copyOf(spares.keySet());
    }

    /** The spare connection to a node, if one is kept (it is no longer kept afterwards). */
    Connection takeSpare(Endpoint e) {
        return spares.remove(e);
    }

    /**
     * Keeps one application connection open to each standby (at most one opened per call),
     * and closes those to nodes that are gone or no longer standbys.
     */
    private void keepSpares(Topology t) {
        if (spareOpener == null) {
            return;
        }
        Set<Endpoint> standbys = new LinkedHashSet<>();
        for (Topology.Member m : t.members()) {
            Probe p = probes.get(m.endpoint());
            if (p != null && p.ok && p.inRecovery && (t.primary() == null || !t.primary().endpoint().equals(m.endpoint()))) {
                standbys.add(m.endpoint());
            }
        }
        // the spare to a node promoted since stays for the first connection to it
        Endpoint primary = t.primary() == null ? null : t.primary().endpoint();
        for (Map.Entry<Endpoint, Connection> en : spares.entrySet()) {
            if (!(standbys.contains(en.getKey()) || en.getKey().equals(primary)) || isClosed(en.getValue())) {
                if (spares.remove(en.getKey(), en.getValue())) {
                    quietClose(en.getValue());
                }
            }
        }
        for (Topology.Member m : t.members()) {
            if (standbys.contains(m.endpoint()) && !spares.containsKey(m.endpoint())) {
                try {
                    Connection c = spareOpener.open(m);
                    if (closed || spares.putIfAbsent(m.endpoint(), c) != null) {
                        quietClose(c);
                    }
                } catch (SQLException e) {
                    LOG.log(System.Logger.Level.DEBUG, "no spare connection to " + m.describe() + ": " + e.getMessage());
                }
                return;
            }
        }
    }

    private static void quietClose(Connection c) {
        try {
            c.close();
        } catch (SQLException ignored) {
            // unusable anyway
        }
    }

    /** Waits for a notice on the primary's connection, up to the poll interval. */
    private void listen(Endpoint primary) {
        Probe p = probes.get(primary);
        if (p == null || p.c == null) {
            return;
        }
        try {
            if (!primary.equals(listeningOn) || p.c != listeningConnection) {
                Probe old = listeningOn == null ? null : probes.get(listeningOn);
                if (old != null && old.c != null) {
                    try (Statement st = old.c.createStatement()) {
                        st.execute("UNLISTEN *");
                    } catch (SQLException e) {
                        drop(old, e);
                    }
                }
                try (Statement st = p.c.createStatement()) {
                    st.execute("LISTEN " + TopologyNotice.CHANNEL);
                }
                listeningOn = primary;
                listeningConnection = p.c;
            }
            PGConnection pg = p.c.unwrap(PGConnection.class);
            long deadline = System.nanoTime() + settings.pollInterval().toNanos();
            if (followUpAt != 0) {
                // a notice came with the last wait: look once more shortly after it, when the
                // replication state it announced has settled (a walsender leaving, for example)
                deadline = Math.min(deadline, followUpAt);
                followUpAt = 0;
            }
            while (!closed && !kicked) {
                long left = (deadline - System.nanoTime()) / 1_000_000;
                if (left <= 0) {
                    return;
                }
                PGNotification[] got = pg.getNotifications((int) Math.max(1, Math.min(left, LISTEN_SLICE_MS)));
                if (got != null && got.length > 0) {
                    for (PGNotification n : got) {
                        LOG.log(System.Logger.Level.DEBUG, "topology notice from " + primary + ": " + n.getParameter());
                    }
                    followUpAt = System.nanoTime() + FOLLOW_UP.toNanos();
                    return;
                }
            }
        } catch (SQLException e) {
            // the primary's connection broke: poll fast from now on
            listeningOn = null;
            drop(p, e);
        }
    }

    private void publish(Topology t) {
        synchronized (lock) {
            current = t;
            lock.notifyAll();
        }
        try {
            onPublish.accept(t);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "invalidating connections failed: " + e);
        }
    }

    /** Polls every known endpoint and works out the topology. */
    Topology poll() {
        Topology before = current;
        Set<Endpoint> targets = new LinkedHashSet<>(seeds);
        for (Topology.Member m : before.members()) {
            targets.add(m.endpoint());
        }
        long now = System.nanoTime();
        for (Endpoint e : targets) {
            probe(e, probes.get(e), now);
        }
        // the copy with the highest voting term, then the newest timeline, then a primary's
        Optional<Map.Entry<Endpoint, Probe>> chosen = probes.entrySet().stream()
                .filter(en -> targets.contains(en.getKey()) && en.getValue().ok && en.getValue().rows != null)
                .max(Comparator.<Map.Entry<Endpoint, Probe>>comparingInt(en -> en.getValue().term)
                        .thenComparingInt(en -> en.getValue().timeline)
                        .thenComparing(en -> !en.getValue().inRecovery));
        Map<Endpoint, String> problems = new LinkedHashMap<>();
        List<Topology.Member> members = new ArrayList<>();
        String from = null;
        int term = 0;
        if (chosen.isPresent()) {
            Probe copy = chosen.get().getValue();
            from = chosen.get().getKey().toString();
            term = copy.term;
            for (Row r : copy.rows) {
                if (!r.active() || !(r.type().equals("primary") || r.type().equals("standby"))) {
                    continue;
                }
                Endpoint e;
                ConnInfo ci;
                try {
                    ci = r.conninfo().get("hostaddr").isPresent()
                            ? r.conninfo().with("host", r.conninfo().get("hostaddr").get()).without("hostaddr") : r.conninfo();
                    ConnInfo.HostPort hp = ci.hosts().get(0);
                    e = new Endpoint(hp.host(), hp.port());
                } catch (ReplicationException bad) {
                    continue;
                }
                members.add(new Topology.Member(r.nodeId(), r.name(), r.type(), e));
                ConnInfo meta = metadataConninfo(ci);
                Probe known = probes.get(e);
                if (known == null) {
                    Probe p = new Probe(meta);
                    probes.put(e, p);
                    probe(e, p, now);
                } else if (!seeds.contains(e) && !known.conninfo.equals(meta)) {
                    known.conninfo = meta;
                }
            }
        }
        Set<Endpoint> all = new LinkedHashSet<>(targets);
        members.forEach(m -> all.add(m.endpoint()));
        Topology.Member primary = null;
        int writableRecorded = 0;
        for (Topology.Member m : members) {
            Probe p = probes.get(m.endpoint());
            if (m.type().equals("primary") && p != null && p.ok && !p.inRecovery && !p.readOnly) {
                writableRecorded++;
                primary = m;
            }
        }
        if (writableRecorded > 1) {
            primary = null; // two writable nodes both recorded as primary: hand out neither
        }
        if (writableRecorded == 0 && chosen.isPresent()) {
            primary = promotedNotYetRecorded(chosen.get().getKey(), chosen.get().getValue(), members, all);
        }
        for (Endpoint e : all) {
            Probe p = probes.get(e);
            Optional<Topology.Member> m = members.stream().filter(x -> x.endpoint().equals(e)).findFirst();
            if (primary != null && primary.endpoint().equals(e)) {
                continue;
            }
            String why;
            if (p == null || !p.ok) {
                why = p == null || p.problem == null ? "not reached" : p.problem;
            } else if (p.inRecovery) {
                why = "in recovery (a standby" + (p.readOnly ? "" : "") + ")";
            } else if (p.readOnly) {
                why = "read-only (transaction_read_only is on: fenced?)";
            } else if (writableRecorded > 1 && m.isPresent() && m.get().type().equals("primary")) {
                why = "writable, but more than one writable node is recorded as primary";
            } else if (m.isEmpty() || !m.get().type().equals("primary")) {
                why = "writable, but not the primary the metadata records (voting term " + term + " read on " + from
                        + "): a stale primary";
            } else {
                why = "not usable";
            }
            problems.put(e, why);
        }
        if (chosen.isEmpty() && problems.isEmpty()) {
            problems.put(new Endpoint("-", 0), "no seed given");
        }
        long epoch = before.epoch();
        if (primary != null && (before.primary() == null || !before.primary().endpoint().equals(primary.endpoint()))) {
            epoch++;
        }
        int copyTerm = term;
        Set<Endpoint> notPrimary = new LinkedHashSet<>();
        for (Endpoint e : all) {
            Probe p = probes.get(e);
            // with no legitimate primary: what is surely not one (in recovery, read-only, or writable with
            // a voting term older than the metadata's: a stale primary); a node promoted a moment ago and
            // not yet recorded keeps its connections
            boolean knownBad = p != null && p.ok && (p.inRecovery || p.readOnly
                    || (p.term != null && p.term < copyTerm));
            if (primary != null ? !primary.endpoint().equals(e) : knownBad) {
                notPrimary.add(e);
            }
        }
        List<Topology.Member> standbys = new ArrayList<>();
        Set<Endpoint> notStandby = new LinkedHashSet<>();
        if (settings.maxLag() != null) {
            Map<String, Double> lag = primary == null ? Map.of() : lags(probes.get(primary.endpoint()));
            for (Endpoint e : all) {
                Probe p = probes.get(e);
                Optional<Topology.Member> m = members.stream().filter(x -> x.endpoint().equals(e)).findFirst();
                Double l = m.map(x -> lag.get(x.name())).orElse(null);
                boolean eligible = p != null && p.ok && p.inRecovery && m.isPresent() && l != null
                        && l <= settings.maxLag().toMillis() / 1000.0;
                if (eligible) {
                    standbys.add(m.get());
                } else if (p != null && p.ok && (!p.inRecovery || (primary != null && m.isPresent()))) {
                    notStandby.add(e);
                }
            }
        }
        return new Topology(true, members.isEmpty() && chosen.isEmpty() ? before.members() : List.copyOf(members),
                primary, epoch, List.copyOf(standbys), Set.copyOf(notPrimary), Set.copyOf(notStandby),
                Map.copyOf(problems), from, term);
    }

    /**
     * A node promoted a moment ago, before its promotion is recorded: no node recorded as
     * primary is writable, and the node whose copy won (highest voting term, then newest
     * timeline) is itself writable on a timeline strictly newer than every other reachable
     * node's. A stale primary can never qualify (its timeline is older than the one that
     * replaced it), nor can two nodes at once; a fenced node is not writable.
     */
    private Topology.Member promotedNotYetRecorded(Endpoint e, Probe copy, List<Topology.Member> members,
                                                   Set<Endpoint> all) {
        if (!copy.ok || copy.inRecovery || copy.readOnly) {
            return null;
        }
        for (Endpoint other : all) {
            Probe p = probes.get(other);
            if (!other.equals(e) && p != null && p.ok && p.timeline >= copy.timeline) {
                return null;
            }
        }
        return members.stream().filter(m -> m.endpoint().equals(e)).findFirst().orElse(null);
    }

    /** Replay lag in seconds per application_name of the streaming standbys, read on the primary. */
    private Map<String, Double> lags(Probe primary) {
        Map<String, Double> out = new HashMap<>();
        if (primary == null || primary.c == null) {
            return out;
        }
        try (Statement st = primary.c.createStatement(); ResultSet rs = st.executeQuery(LAG_SQL)) {
            while (rs.next()) {
                if ("streaming".equals(rs.getString(2))) {
                    out.put(rs.getString(1), rs.getDouble(3));
                }
            }
        } catch (SQLException e) {
            drop(primary, e);
        }
        return out;
    }

    /** A node's conninfo for the metadata connection: the seed's password when the node's has none. */
    private ConnInfo metadataConninfo(ConnInfo node) {
        ConnInfo out = node;
        if (node.password().isEmpty()) {
            for (ConnInfo seed : settings.seeds()) {
                if (seed.password().isPresent()) {
                    out = out.with("password", seed.password().get());
                    break;
                }
            }
        }
        return out;
    }

    private void probe(Endpoint e, Probe p, long now) {
        if (p == null) {
            return;
        }
        p.ok = false;
        if (p.c == null) {
            if (now < p.retryAt) {
                return;
            }
            try {
                p.c = DriverManager.getConnection(url(e, p.conninfo), metadataProperties(p.conninfo));
            } catch (SQLException ex) {
                fail(p, ex);
                return;
            }
        }
        try (Statement st = p.c.createStatement()) {
            if (p.schemaSeen) {
                // one round trip: the three queries in one go (the schema was there last time)
                st.execute(STATE_SQL + "; " + TERM_SQL + "; " + NODES_SQL);
                readState(p, st.getResultSet());
                st.getMoreResults();
                readTerm(p, st.getResultSet());
                st.getMoreResults();
                readNodes(p, st.getResultSet());
            } else {
                readState(p, st.executeQuery(STATE_SQL));
                readTerm(p, st.executeQuery(TERM_SQL));
                readNodes(p, st.executeQuery(NODES_SQL));
                p.schemaSeen = true;
            }
        } catch (SQLException ex) {
            String state = Objects.requireNonNullElse(ex.getSQLState(), "");
            if (p.schemaSeen && (state.equals("42P01") || state.equals("3F000"))) {
                p.schemaSeen = false; // dropped since: ask again query by query
                p.ok = false;
                p.problem = "repmgr metadata disappeared";
                return;
            }
            if (p.ok && (state.equals("42P01") || state.equals("3F000"))) {
                p.rows = null;
                p.term = 0;
                p.problem = "no repmgr metadata in database " + p.conninfo.dbname().orElse("?")
                        + " (repmgr.nodes is missing)";
                return;
            }
            if (state.startsWith("08") || isClosed(p.c)) {
                drop(p, ex);
            } else {
                // a promotion between the two recovery tests of the state query, or a query refused: ask again
                p.ok = false;
                p.problem = p.conninfo.maskIn(ex.getMessage());
            }
        }
    }

    private static void readState(Probe p, ResultSet rs) throws SQLException {
        try (rs) {
            rs.next();
            p.inRecovery = rs.getBoolean(1);
            p.readOnly = rs.getBoolean(2);
            p.timeline = rs.getInt(3);
        }
        p.ok = true;
        p.failures = 0;
        p.problem = null;
    }

    private static void readTerm(Probe p, ResultSet rs) throws SQLException {
        try (rs) {
            p.term = rs.next() ? rs.getInt(1) : 0;
        }
    }

    private static void readNodes(Probe p, ResultSet rs) throws SQLException {
        List<Row> rows = new ArrayList<>();
        try (rs) {
            while (rs.next()) {
                ConnInfo ci;
                try {
                    ci = ConnInfo.parse(rs.getString(5));
                } catch (ReplicationException bad) {
                    continue;
                }
                rows.add(new Row(rs.getInt(1), rs.getString(2), rs.getString(3), rs.getBoolean(4), ci));
            }
        }
        p.rows = rows;
    }

    private static boolean isClosed(Connection c) {
        try {
            return c == null || c.isClosed();
        } catch (SQLException e) {
            return true;
        }
    }

    private void fail(Probe p, SQLException ex) {
        p.ok = false;
        p.failures++;
        p.retryAt = System.nanoTime() + Math.min(MAX_BACKOFF_MS, settings.failoverPollInterval().toMillis()
                << Math.min(10, p.failures - 1)) * 1_000_000;
        p.problem = p.conninfo.maskIn(Objects.requireNonNullElse(ex.getMessage(), ex.toString()))
                + (ex.getSQLState() == null ? "" : " (SQLState " + ex.getSQLState() + ")");
    }

    private void drop(Probe p, SQLException ex) {
        if (p.c != null) {
            try {
                p.c.close();
            } catch (SQLException ignored) {
                // already broken
            }
            p.c = null;
        }
        p.rows = null;
        fail(p, ex);
        // a broken connection is tried again at once, once
        if (p.failures == 1) {
            p.retryAt = 0;
        }
    }

    private void closeAll() {
        for (Endpoint e : List.copyOf(spares.keySet())) {
            Connection c = spares.remove(e);
            if (c != null) {
                quietClose(c);
            }
        }
        for (Probe p : probes.values()) {
            if (p.c != null) {
                try {
                    p.c.close();
                } catch (SQLException ignored) {
                    // closing anyway
                }
                p.c = null;
            }
        }
    }

    static String url(Endpoint e, ConnInfo info) {
        return "jdbc:postgresql://" + e + "/" + info.dbname().map(ClusterDataSource::encode).orElse("");
    }

    private Properties metadataProperties(ConnInfo info) {
        Properties p = new Properties();
        info.user().ifPresent(u -> p.setProperty("user", u));
        info.password().ifPresent(pw -> p.setProperty("password", pw));
        for (String k : List.of("sslmode", "sslcert", "sslkey", "sslrootcert", "sslpassword")) {
            info.get(k).ifPresent(v -> p.setProperty(k, v));
        }
        int connect = (int) Math.max(1, Math.min(2, settings.loginTimeout().toSeconds()));
        p.setProperty("connectTimeout", String.valueOf(connect));
        p.setProperty("loginTimeout", String.valueOf(connect));
        p.setProperty("socketTimeout", String.valueOf(Math.max(2, connect)));
        p.setProperty("ApplicationName", "repmgr4j-jdbc-watcher");
        p.setProperty("assumeMinServerVersion", "10");
        return p;
    }

    Duration pollInterval() {
        return settings.pollInterval();
    }
}
