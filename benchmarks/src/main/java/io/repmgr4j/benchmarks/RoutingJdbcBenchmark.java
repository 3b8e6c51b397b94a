package io.repmgr4j.benchmarks;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.repmgr4j.DaemonOptions;
import io.repmgr4j.FailoverDaemon;
import io.repmgr4j.FailoverMode;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.core.ReplicationClusters;
import io.repmgr4j.jdbc.ClusterDataSource;
import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
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
import java.util.Map;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

/**
 * {@code benchmarks/run routing-jdbc}: how fast an application's writes follow the primary,
 * two clients side by side on the same 3-node set with failover daemons at the fast
 * settings (monitor 500 ms, 3 reconnect attempts 200 ms apart, as in
 * {@code benchmarks/run failover}). Both run the same writer, one commit every 10 ms,
 * each into its own table:
 * <ul>
 *   <li>multihost: one pgjdbc connection from a multi-host URL with
 *       {@code targetServerType=primary} and pgjdbc's defaults otherwise (hostRecheckSeconds
 *       10), reconnecting after an error;</li>
 *   <li>datasource: HikariCP (2 connections) over {@code ClusterDataSource}, one borrow per
 *       commit.</li>
 * </ul>
 * Each failover round kills the primary's postmaster with SIGKILL, notes when the new
 * primary became writable (polled every millisecond on the standbys), and measures for each
 * client the time from then to its first acknowledged commit
 * ({@code first_commit_after_writable_*_ms}, median of the rounds); then rejoins the old
 * primary. {@code writes_to_read_only_node}: writes the DataSource client sent to a node
 * in recovery or read-only (each would fail with SQLState 25006) or committed on a standby.
 * Last, switchovers (daemons running): each client's longest write gap
 * ({@code switchover_gap_*_ms}, median).
 *
 * <p>Options: {@code --rounds N} (default 7), {@code --switchovers N} (default 5).
 */
public final class RoutingJdbcBenchmark {
    private RoutingJdbcBenchmark() {
    }

    /** Where a writer gets its connection. */
    interface Source {
        Connection get() throws SQLException;

        /** Whether each commit borrows and gives back (a pool), rather than keeping one connection. */
        boolean pooled();
    }

    /** One commit every 10 ms through a source, remembering each acknowledged commit's time and every error. */
    static final class Writer implements AutoCloseable {
        final String name;
        final String table;
        final Source source;
        final AtomicBoolean running = new AtomicBoolean(true);
        final List<Long> commits = new ArrayList<>();
        final AtomicInteger readOnlyWrites = new AtomicInteger();
        final AtomicInteger errors = new AtomicInteger();
        final Thread thread;

        Writer(String name, String table, Source source) {
            this.name = name;
            this.table = table;
            this.source = source;
            this.thread = new Thread(this::loop, "writer-" + name);
            this.thread.setDaemon(true);
            this.thread.start();
        }

        private void loop() {
            Connection kept = null;
            while (running.get()) {
                long started = System.nanoTime();
                Connection c = null;
                try {
                    c = source.pooled() ? source.get() : (kept != null ? kept : (kept = source.get()));
                    try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + table + " (at) VALUES (clock_timestamp())"
                            + " RETURNING pg_is_in_recovery()"); ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        if (rs.getBoolean(1)) {
                            readOnlyWrites.incrementAndGet();
                        }
                    }
                    synchronized (commits) {
                        commits.add(System.nanoTime());
                    }
                } catch (SQLException e) {
                    errors.incrementAndGet();
                    if ("25006".equals(e.getSQLState())) {
                        readOnlyWrites.incrementAndGet();
                    }
                    if (!source.pooled()) {
                        quietClose(kept);
                        kept = null;
                    }
                } finally {
                    if (source.pooled()) {
                        quietClose(c);
                    }
                }
                long sleep = 10_000_000 - (System.nanoTime() - started);
                if (sleep > 0) {
                    try {
                        Thread.sleep(sleep / 1_000_000, (int) (sleep % 1_000_000));
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }
            quietClose(kept);
        }

        OptionalLong firstCommitAfter(long nanos) {
            synchronized (commits) {
                return commits.stream().mapToLong(Long::longValue).filter(t -> t > nanos).findFirst();
            }
        }

        long longestGapMs(long from, long to) {
            long longest = 0;
            synchronized (commits) {
                for (int i = 1; i < commits.size(); i++) {
                    long a = commits.get(i - 1);
                    long b = commits.get(i);
                    if (b >= from && a <= to) {
                        longest = Math.max(longest, b - a);
                    }
                }
            }
            return longest / 1_000_000;
        }

        int count() {
            synchronized (commits) {
                return commits.size();
            }
        }

        void awaitCommits(int more, Duration timeout) {
            int target = count() + more;
            long deadline = System.nanoTime() + timeout.toNanos();
            while (count() < target) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("writer " + name + ": no " + more + " commits within " + timeout);
                }
                Probes.sleep(5);
            }
        }

        @Override
        public void close() {
            running.set(false);
            try {
                thread.join(30_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    public static void main(String[] args) throws Exception {
        int rounds = 7;
        int switchovers = 5;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--switchovers" -> switchovers = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        List<Long> multihost = new ArrayList<>();
        List<Long> datasource = new ArrayList<>();
        List<Long> gapMultihost = new ArrayList<>();
        List<Long> gapDatasource = new ArrayList<>();
        List<Long> routedAfter = new ArrayList<>();
        int readOnlyWrites;
        int readOnlyWritesMultihost;
        DaemonOptions fast = DaemonOptions.builder().monitorInterval(Duration.ofMillis(500))
                .reconnectInterval(Duration.ofMillis(200)).build();
        try (PgReplicaSet set = PgReplicaSet.start(3, b -> b.setting("wal_retrieve_retry_interval", "200ms"))) {
            Map<PgServer, Integer> ids = new LinkedHashMap<>();
            ReplicationClusters.Builder cb = ReplicationClusters.builder();
            int id = 1;
            for (PgServer s : set.servers()) {
                ids.put(s, id++);
                cb.seed(s.conninfo());
            }
            List<FailoverDaemon> daemons = new ArrayList<>();
            try (ReplicationCluster cluster = cb.build()) {
                cluster.registerPrimary(config(set.server("pg1"), ids)).execute();
                cluster.registerStandby(config(set.server("pg2"), ids)).waitUntilAttached(Duration.ofSeconds(30)).execute();
                cluster.registerStandby(config(set.server("pg3"), ids)).waitUntilAttached(Duration.ofSeconds(30)).execute();
                set.server("pg1").execute("CREATE TABLE writes_multihost (id bigserial PRIMARY KEY, at timestamptz NOT NULL);"
                        + " CREATE TABLE writes_datasource (id bigserial PRIMARY KEY, at timestamptz NOT NULL)");
                for (PgServer s : set.servers()) {
                    daemons.add(cluster.daemon(config(s, ids), fast).start());
                }
                Probes.sleep(2000);

                String url = "jdbc:postgresql://" + set.servers().stream().map(s -> s.host() + ":" + s.port())
                        .collect(Collectors.joining(",")) + "/" + set.primary().conninfo().dbname().orElseThrow()
                        + "?targetServerType=primary";
                Properties props = new Properties();
                props.setProperty("user", set.primary().conninfo().user().orElseThrow());
                set.primary().conninfo().password().ifPresent(p -> props.setProperty("password", p));
                ClusterDataSource.Builder db = ClusterDataSource.builder();
                set.servers().forEach(s -> db.seed(s.conninfo()));
                try (ClusterDataSource ds = db.build()) {
                    HikariConfig hc = new HikariConfig();
                    hc.setDataSource(ds);
                    hc.setMaximumPoolSize(2);
                    hc.setMinimumIdle(2);
                    hc.setPoolName("routing-jdbc");
                    try (HikariDataSource pool = new HikariDataSource(hc);
                         Writer mh = new Writer("multihost", "writes_multihost", new Source() {
                             public Connection get() throws SQLException {
                                 return DriverManager.getConnection(url, props);
                             }

                             public boolean pooled() {
                                 return false;
                             }
                         });
                         Writer dw = new Writer("datasource", "writes_datasource", new Source() {
                             public Connection get() throws SQLException {
                                 return pool.getConnection();
                             }

                             public boolean pooled() {
                                 return true;
                             }
                         })) {
                        mh.awaitCommits(50, Duration.ofSeconds(30));
                        dw.awaitCommits(50, Duration.ofSeconds(30));
                        PgServer primary = set.server("pg1");
                        for (int r = 1; r <= rounds; r++) {
                            PgServer p = primary;
                            List<PgServer> standbys = set.servers().stream().filter(s -> s != p).toList();
                            for (PgServer s : standbys) {
                                primary.waitForStreaming(s, Duration.ofSeconds(60));
                            }
                            mh.awaitCommits(30, Duration.ofSeconds(60));
                            dw.awaitCommits(30, Duration.ofSeconds(60));
                            long[] writable = {0};
                            PgServer winner = killAndAwaitPromotion(primary, standbys, writable);
                            long t = writable[0];
                            long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
                            long routed = -1;
                            while (System.nanoTime() < deadline) {
                                if (ds.primary().map(n -> n.port() == winner.port()).orElse(false)) {
                                    routed = (System.nanoTime() - t) / 1_000_000;
                                    break;
                                }
                                Probes.sleep(1);
                            }
                            routedAfter.add(routed);
                            while ((mh.firstCommitAfter(t).isEmpty() || dw.firstCommitAfter(t).isEmpty())
                                    && System.nanoTime() < deadline) {
                                Probes.sleep(5);
                            }
                            long m = mh.firstCommitAfter(t).orElseThrow(() -> new IllegalStateException(
                                    "the multi-host writer did not commit within 90 s")) - t;
                            long d = dw.firstCommitAfter(t).orElseThrow(() -> new IllegalStateException(
                                    "the DataSource writer did not commit within 90 s")) - t;
                            multihost.add(m / 1_000_000);
                            datasource.add(d / 1_000_000);
                            System.out.printf("failover round %d: %s promoted; first commit after writable: multihost %d ms,"
                                    + " datasource %d ms%n", r, winner.name(), m / 1_000_000, d / 1_000_000);
                            // the daemon records the promotion just after the new primary is writable, and the
                            // sibling follows it: both before the old primary rejoins
                            PgServer w = winner;
                            awaitTrue("the promotion of " + winner.name() + " recorded", () -> winner.query(
                                    "SELECT count(*) = 1 FROM repmgr.nodes WHERE type = 'primary' AND active AND node_id = "
                                            + ids.get(w), Boolean.class));
                            for (PgServer s : standbys) {
                                if (s != winner) {
                                    winner.waitForStreaming(s, Duration.ofSeconds(60));
                                }
                            }
                            cluster.rejoin(config(primary, ids)).forceRewind(true).recoverCrashedNode(true)
                                    .timeout(Duration.ofSeconds(120)).execute();
                            winner.waitForStreaming(primary, Duration.ofSeconds(60));
                            primary = winner;
                        }
                        for (int r = 1; r <= switchovers; r++) {
                            PgServer p = primary;
                            PgServer target = set.servers().stream().filter(s -> s != p).findFirst().orElseThrow();
                            for (PgServer s : set.servers()) {
                                if (s != primary) {
                                    primary.waitForStreaming(s, Duration.ofSeconds(60));
                                }
                            }
                            mh.awaitCommits(30, Duration.ofSeconds(60));
                            dw.awaitCommits(30, Duration.ofSeconds(60));
                            long from = System.nanoTime();
                            cluster.switchover(ids.get(target)).siblingsFollow(true).execute();
                            long to = System.nanoTime();
                            mh.awaitCommits(30, Duration.ofSeconds(60));
                            dw.awaitCommits(30, Duration.ofSeconds(60));
                            long gm = mh.longestGapMs(from, to);
                            long gd = dw.longestGapMs(from, to);
                            gapMultihost.add(gm);
                            gapDatasource.add(gd);
                            System.out.printf("switchover %d to %s (%d ms): longest write gap multihost %d ms, datasource %d ms%n",
                                    r, target.name(), (to - from) / 1_000_000, gm, gd);
                            primary = target;
                        }
                        readOnlyWrites = dw.readOnlyWrites.get();
                        readOnlyWritesMultihost = mh.readOnlyWrites.get();
                        System.out.printf("commits: multihost %d (%d errors), datasource %d (%d errors)%n",
                                mh.count(), mh.errors.get(), dw.count(), dw.errors.get());
                    }
                } finally {
                    daemons.forEach(FailoverDaemon::close);
                }
            }
        }
        System.out.println();
        System.out.println("settings_fast=monitor 500 ms, reconnect_attempts=3, 200 ms apart (DaemonOptions)");
        System.out.println("writer=one commit every 10 ms; multihost: one connection, jdbc:postgresql://h1,h2,h3/db"
                + "?targetServerType=primary (hostRecheckSeconds 10); datasource: HikariCP (2) over ClusterDataSource");
        System.out.println("rounds=" + rounds);
        System.out.println("switchovers=" + switchovers);
        System.out.println("first_commit_after_writable_multihost_runs_ms=" + multihost);
        System.out.println("first_commit_after_writable_datasource_runs_ms=" + datasource);
        System.out.println("datasource_routes_after_writable_runs_ms=" + routedAfter);
        System.out.println("switchover_gap_multihost_runs_ms=" + gapMultihost);
        System.out.println("switchover_gap_datasource_runs_ms=" + gapDatasource);
        Stats.figure("writes_to_read_only_node_multihost", readOnlyWritesMultihost);
        Stats.figure("switchover_gap_multihost_ms", Stats.median(gapMultihost));
        Stats.figure("first_commit_after_writable_multihost_ms", Stats.median(multihost));
        Stats.figure("first_commit_after_writable_datasource_ms", Stats.median(datasource));
        Stats.figure("writes_to_read_only_node", readOnlyWrites);
        Stats.figure("switchover_gap_datasource_ms", Stats.median(gapDatasource));
    }

    /** Kills the primary with SIGKILL; returns the standby that became writable, and when (nanoTime) in {@code at[0]}. */
    private static PgServer killAndAwaitPromotion(PgServer primary, List<PgServer> standbys, long[] at) throws SQLException {
        List<Connection> watch = new ArrayList<>();
        try {
            for (PgServer s : standbys) {
                watch.add(s.connect());
            }
            primary.kill9();
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (System.nanoTime() < deadline) {
                for (int i = 0; i < watch.size(); i++) {
                    try (Statement st = watch.get(i).createStatement();
                         ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery()")) {
                        rs.next();
                        if (!rs.getBoolean(1)) {
                            at[0] = System.nanoTime();
                            return standbys.get(i);
                        }
                    }
                }
                Probes.sleep(1);
            }
            throw new IllegalStateException("no standby was promoted within 60 s");
        } finally {
            for (Connection c : watch) {
                quietClose(c);
            }
        }
    }

    private static void awaitTrue(String what, java.util.function.BooleanSupplier condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            boolean ok;
            try {
                ok = condition.getAsBoolean();
            } catch (RuntimeException e) {
                ok = false;
            }
            if (ok) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("timed out waiting for " + what);
            }
            Probes.sleep(20);
        }
    }

    private static NodeConfig config(PgServer s, Map<PgServer, Integer> ids) {
        return NodeConfig.builder().nodeId(ids.get(s)).nodeName(s.name()).conninfo(s.conninfo())
                .dataDirectory(s.dataDirectory().toString()).pgBindir(s.bindir().toString())
                .failover(FailoverMode.AUTOMATIC).monitorIntervalSecs(1).reconnectAttempts(3).reconnectInterval(1)
                .build();
    }

    private static void quietClose(Connection c) {
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // gone
            }
        }
    }

}
