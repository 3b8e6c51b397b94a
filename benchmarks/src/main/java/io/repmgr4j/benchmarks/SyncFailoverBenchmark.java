package io.repmgr4j.benchmarks;

import io.repmgr4j.DaemonOptions;
import io.repmgr4j.FailoverDaemon;
import io.repmgr4j.FailoverMode;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.SyncMode;
import io.repmgr4j.SynchronousRecord;
import io.repmgr4j.core.ReplicationClusters;
import io.repmgr4j.plan.OperationReport;
import io.repmgr4j.sql.SyncStateTable;
import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import io.repmgr4j.testkit.PgWriter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * {@code benchmarks/run sync-failover}: synchronous replication managed by the library on a
 * 3-node set. In order:
 * <ul>
 *   <li>{@code commit_latency_async_us} / {@code commit_latency_sync_us}: median time of one
 *       small INSERT commit on the primary, the same loop on the same connection, first with
 *       {@code synchronous = off}, then {@code priority} ({@code FIRST 1}); their ratio
 *       {@code sync_commit_overhead_ratio};</li>
 *   <li>{@code switchover_write_gap_sync_ms}: the longest gap between acknowledged commits of
 *       a writer (every 10 ms) during switchovers in priority mode (median of 4);</li>
 *   <li>{@code lost_commits_sync_priority} / {@code lost_commits_sync_quorum}: acknowledged
 *       commits missing on the new primary after kill -9 failovers (daemons on every node,
 *       monitor 500 ms, 3 reconnect attempts 200 ms apart), summed over all rounds, in
 *       priority mode and in quorum mode ({@code ANY 1} of 2);</li>
 *   <li>{@code failover_rto_sync_ms}: kill to the first acknowledged commit on the new
 *       primary, median over all failover rounds.</li>
 * </ul>
 * Options: {@code --rounds N} failovers per mode (default 30), {@code --commits N} for the
 * latency loops (default 2000).
 */
public final class SyncFailoverBenchmark {
    private SyncFailoverBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int rounds = 30;
        int commits = 2000;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--commits" -> commits = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        double asyncUs;
        double syncUs;
        List<Long> gaps = new ArrayList<>();
        List<Long> rto = new ArrayList<>();
        long lostPriority = 0;
        long lostQuorum = 0;
        try (Bench b = new Bench()) {
            asyncUs = b.commitLatencyUs(commits);
            b.cluster.synchronousReplication().mode(SyncMode.PRIORITY).count(1).degradeTimeout(Duration.ofSeconds(30)).apply();
            b.awaitSettled(SynchronousRecord.Kind.PRIORITY, 1);
            syncUs = b.commitLatencyUs(commits);
            System.out.printf("commit latency: async %.0f us, sync %.0f us (medians of %d commits)%n", asyncUs, syncUs, commits);
            // one writer for the whole run: its sequence numbers must not start again
            try (PgWriter w = PgWriter.start(b.set.servers(), Duration.ofMillis(10))) {
                b.writer = w;
                w.awaitCommits(20, Duration.ofSeconds(10));
                for (int r = 0; r < 4; r++) {
                    int target = b.primaryId == 1 ? 2 : 1;
                    long t0 = System.nanoTime();
                    OperationReport rep = b.cluster.switchover(target).siblingsFollow(true).execute();
                    long t1 = System.nanoTime();
                    w.awaitCommits(20, Duration.ofSeconds(30));
                    gaps.add(w.longestGap(t0, t1).toMillis());
                    b.primaryId = target;
                    b.primary = b.set.server("pg" + target);
                    System.out.printf("switchover %d: %d ms, write gap %d ms, %s%n", r + 1, (t1 - t0) / 1_000_000,
                            gaps.get(gaps.size() - 1), rep.successful() ? "ok" : rep.summary());
                    b.awaitSettled(SynchronousRecord.Kind.PRIORITY, 1);
                }
                long now = System.nanoTime();
                if (!w.missingOn(b.primary, now).isEmpty()) {
                    throw new IllegalStateException("switchovers lost " + w.missingOn(b.primary, now).size()
                            + " acknowledged commits");
                }
                b.startDaemons();
                w.awaitCommits(20, Duration.ofSeconds(10));
                for (int r = 1; r <= rounds; r++) {
                    long[] res = b.killRound(SynchronousRecord.Kind.PRIORITY, 1);
                    lostPriority += res[1];
                    rto.add(res[0]);
                    System.out.printf("priority round %d: rto %d ms, lost %d%n", r, res[0], res[1]);
                }
                b.cluster.synchronousReplication().mode(SyncMode.QUORUM).count(1).apply();
                for (int r = 1; r <= rounds; r++) {
                    long[] res = b.killRound(SynchronousRecord.Kind.QUORUM, 2);
                    lostQuorum += res[1];
                    rto.add(res[0]);
                    System.out.printf("quorum round %d: rto %d ms, lost %d%n", r, res[0], res[1]);
                }
            }
        }
        System.out.println();
        System.out.println("failover_rounds_per_mode=" + rounds);
        System.out.println("settings=daemons: monitor 500 ms, reconnect_attempts=3, 200 ms apart; writer every 10 ms;"
                + " servers with fsync=off (test kit)");
        System.out.println("failover_rto_sync_runs_ms=" + rto);
        System.out.println("switchover_write_gap_sync_runs_ms=" + gaps);
        Stats.figure("commit_latency_async_us", asyncUs);
        Stats.figure("commit_latency_sync_us", syncUs);
        System.out.println("sync_commit_overhead_ratio=" + String.format(java.util.Locale.ROOT, "%.2f", syncUs / asyncUs));
        Stats.figure("switchover_write_gap_sync_ms", Stats.median(gaps));
        Stats.figure("failover_rto_sync_ms", Stats.median(rto));
        Stats.figure("lost_commits_sync_priority", lostPriority);
        Stats.figure("lost_commits_sync_quorum", lostQuorum);
    }

    private static final class Bench implements AutoCloseable {
        final PgReplicaSet set;
        final ReplicationCluster cluster;
        final Map<PgServer, Integer> ids = new LinkedHashMap<>();
        final List<FailoverDaemon> daemons = new ArrayList<>();
        PgServer primary;
        int primaryId = 1;
        PgWriter writer;
        private int lostSoFar;

        Bench() {
            set = PgReplicaSet.start(3, b -> b.setting("wal_retrieve_retry_interval", "200ms"));
            ReplicationClusters.Builder builder = ReplicationClusters.builder();
            int id = 1;
            for (PgServer s : set.servers()) {
                ids.put(s, id++);
            }
            for (PgServer s : set.servers()) {
                builder.seed(s.conninfo()).node(config(s), s.runner());
            }
            cluster = builder.build();
            cluster.registerPrimary(config(set.server("pg1"))).execute();
            cluster.registerStandby(config(set.server("pg2"))).waitUntilAttached(Duration.ofSeconds(30)).execute();
            cluster.registerStandby(config(set.server("pg3"))).waitUntilAttached(Duration.ofSeconds(30)).execute();
            primary = set.server("pg1");
        }

        NodeConfig config(PgServer s) {
            return NodeConfig.builder().nodeId(ids.get(s)).nodeName(s.name()).conninfo(s.conninfo())
                    .dataDirectory(s.dataDirectory().toString()).pgBindir(s.bindir().toString())
                    .failover(FailoverMode.AUTOMATIC).monitorIntervalSecs(1).reconnectAttempts(3).reconnectInterval(1)
                    .promoteCheckTimeout(30).shutdownCheckTimeout(30).nodeRejoinTimeout(60).standbyReconnectTimeout(30)
                    .build();
        }

        /** Rejoins the old primary; while the new primary's promotion still holds the topology lock, tries again. */
        void rejoin(PgServer old) {
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (true) {
                try {
                    cluster.rejoin(config(old)).forceRewind(true).recoverCrashedNode(true).timeout(Duration.ofSeconds(120))
                            .execute();
                    return;
                } catch (io.repmgr4j.ReplicationException e) {
                    if (!e.getMessage().startsWith("another topology operation is in progress") || System.nanoTime() > deadline) {
                        throw e;
                    }
                    Probes.sleep(200);
                }
            }
        }

        void startDaemons() {
            DaemonOptions fast = DaemonOptions.builder().monitorInterval(Duration.ofMillis(500))
                    .reconnectInterval(Duration.ofMillis(200)).build();
            for (PgServer s : set.servers()) {
                daemons.add(cluster.daemon(config(s), fast).start());
            }
            Probes.sleep(1500);
        }

        /** Median microseconds of one INSERT commit on the primary, one connection, {@code n} times. */
        double commitLatencyUs(int n) throws SQLException {
            try (Connection c = primary.connect()) {
                try (Statement st = c.createStatement()) {
                    st.execute("CREATE TABLE IF NOT EXISTS sync_bench (id bigserial PRIMARY KEY, at timestamptz DEFAULT now())");
                }
                List<Long> us = new ArrayList<>();
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO sync_bench DEFAULT VALUES")) {
                    for (int i = 0; i < n + 100; i++) {
                        long t0 = System.nanoTime();
                        ps.executeUpdate();
                        long t = (System.nanoTime() - t0) / 1000;
                        if (i >= 100) {
                            us.add(t); // the first 100 warm up
                        }
                    }
                }
                return Stats.median(us);
            }
        }

        void awaitSettled(SynchronousRecord.Kind kind, int members) {
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (System.nanoTime() < deadline) {
                if (settled(primary, kind, members)) {
                    return;
                }
                Probes.sleep(50);
            }
            throw new IllegalStateException(primary.name() + " did not settle on " + kind + " with " + members + " member(s)");
        }

        private static boolean settled(PgServer p, SynchronousRecord.Kind kind, int members) {
            try (Connection c = p.connect()) {
                Optional<SynchronousRecord> r = SyncStateTable.read(c);
                if (r.isEmpty() || r.get().kind() != kind || r.get().members().size() != members) {
                    return false;
                }
                String want = kind == SynchronousRecord.Kind.QUORUM ? "quorum" : "sync";
                try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM pg_stat_replication"
                        + " WHERE state = 'streaming' AND sync_state = ?")) {
                    ps.setString(1, want);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        return rs.getInt(1) >= members;
                    }
                }
            } catch (SQLException | RuntimeException e) {
                return false;
            }
        }

        /** One kill -9 round: {rto ms, commits lost}. */
        long[] killRound(SynchronousRecord.Kind kind, int members) {
            List<PgServer> standbys = set.servers().stream().filter(s -> s != primary).toList();
            for (PgServer s : standbys) {
                primary.waitForStreaming(s, Duration.ofSeconds(60));
            }
            awaitSettled(kind, members);
            writer.awaitCommits(20, Duration.ofSeconds(30));
            long t0 = System.nanoTime();
            primary.kill9();
            long dead = System.nanoTime();
            long deadline = t0 + Duration.ofMinutes(2).toNanos();
            PgServer winner = null;
            long rto = -1;
            while (System.nanoTime() < deadline && (winner == null || rto < 0)) {
                if (winner == null) {
                    winner = standbys.stream().filter(Probes::writable).findFirst().orElse(null);
                }
                OptionalLong first = writer.firstCommitAfter(dead);
                if (first.isPresent() && rto < 0) {
                    rto = first.getAsLong() - t0;
                }
                Probes.sleep(2);
            }
            if (winner == null || rto < 0) {
                throw new IllegalStateException("no failover within 2 minutes");
            }
            int missing = writer.missingOn(winner, System.nanoTime()).size();
            int lost = missing - lostSoFar;
            lostSoFar = missing;
            PgServer old = primary;
            rejoin(old);
            winner.waitForStreaming(old, Duration.ofSeconds(60));
            primary = winner;
            primaryId = ids.get(winner);
            return new long[] {rto / 1_000_000, lost};
        }

        @Override
        public void close() {
            daemons.forEach(FailoverDaemon::close);
            cluster.close();
            set.close();
        }
    }
}
