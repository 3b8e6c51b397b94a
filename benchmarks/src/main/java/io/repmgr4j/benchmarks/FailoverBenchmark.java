package io.repmgr4j.benchmarks;

import io.repmgr4j.DaemonEvents;
import io.repmgr4j.DaemonOptions;
import io.repmgr4j.EventRecord;
import io.repmgr4j.FailoverDaemon;
import io.repmgr4j.FailoverMode;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.core.ReplicationClusters;
import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import io.repmgr4j.testkit.PgWriter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * {@code benchmarks/run failover}: a 3-node set with a failover daemon on every node and
 * a writer committing every 10 ms through a pgjdbc multi-host URL
 * (targetServerType=primary). Each round kills the primary's postmaster with SIGKILL and
 * measures
 * <ul>
 *   <li>{@code failover_rto_*_ms}: from the kill to the first acknowledged commit on the
 *       new primary;</li>
 *   <li>{@code siblings_following_ms}: from the kill until every other standby streams
 *       from the new primary;</li>
 *   <li>{@code lost_commits}: acknowledged commits missing on the new primary
 *       (asynchronous replication), worst round;</li>
 * </ul>
 * then rejoins the old primary as a standby (pg_rewind) for the next round. Settings:
 * repmgr's defaults (monitor 2 s, reconnect 6 × 10 s), repmgrd's "fast" settings
 * (monitor 1 s, reconnect 2 × 1 s), and this library's fast settings (monitor 500 ms,
 * 3 reconnect attempts 200 ms apart, which the Java-only options allow). The daemons'
 * upstream watch notices a killed primary at once under every setting. Last,
 * {@code false_failovers}: failovers during a healthy run of 5 minutes under the fast
 * settings (must be 0).
 *
 * <p>Options: {@code --rounds N} (default 5), {@code --healthy-seconds N} (default 300),
 * {@code --skip-defaults} (the default settings take about a minute per round).
 */
public final class FailoverBenchmark {
    private FailoverBenchmark() {
    }

    /** One set of daemon settings. */
    private record Setting(String name, int monitorSecs, int attempts, int intervalSecs, DaemonOptions options) {
    }

    public static void main(String[] args) throws Exception {
        int rounds = 5;
        int healthySeconds = 300;
        boolean skipDefaults = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--healthy-seconds" -> healthySeconds = Integer.parseInt(args[++i]);
                case "--skip-defaults" -> skipDefaults = true;
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        Setting fast = new Setting("fast", 1, 3, 1, DaemonOptions.builder().monitorInterval(Duration.ofMillis(500))
                .reconnectInterval(Duration.ofMillis(200)).build());
        // reconnect_attempts 3 (set below for this setting): attempts at 0, 200 and 400 ms after the loss
        Setting repmgrFast = new Setting("1s_2x1s", 1, 2, 1, DaemonOptions.defaults());
        Setting defaults = new Setting("default", 2, 6, 10, DaemonOptions.defaults());

        Map<String, List<Long>> rto = new LinkedHashMap<>();
        List<Long> siblings = new ArrayList<>();
        List<Long> lost = new ArrayList<>();
        int falseFailovers;
        try (Bench b = new Bench()) {
            for (Setting s : skipDefaults ? List.of(fast, repmgrFast) : List.of(fast, repmgrFast, defaults)) {
                b.startDaemons(s);
                List<Long> times = new ArrayList<>();
                for (int r = 1; r <= rounds; r++) {
                    Bench.Round round = b.killPrimaryRound();
                    System.out.printf("settings %s, round %d: rto %d ms, siblings following %d ms, lost commits %d%n",
                            s.name(), r, round.rtoMs(), round.siblingsMs(), round.lost());
                    times.add(round.rtoMs());
                    lost.add((long) round.lost());
                    if (s == fast) {
                        siblings.add(round.siblingsMs());
                    }
                }
                rto.put(s.name(), times);
                b.stopDaemons();
            }
            b.startDaemons(fast);
            falseFailovers = b.healthyRun(Duration.ofSeconds(healthySeconds));
            b.stopDaemons();
        }
        System.out.println();
        System.out.println("settings_fast=monitor 500 ms, reconnect_attempts=3, 200 ms apart (DaemonOptions):"
                + " failover 400 ms after the loss; upstream watch on");
        System.out.println("settings_1s_2x1s=monitor_interval_secs=1 reconnect_attempts=2 reconnect_interval=1");
        System.out.println("settings_default=monitor_interval_secs=2 reconnect_attempts=6 reconnect_interval=10");
        System.out.println("rounds=" + rounds);
        System.out.println("healthy_run_seconds=" + healthySeconds);
        rto.forEach((k, v) -> System.out.println("failover_rto_" + k + "_runs_ms=" + v));
        System.out.println("siblings_following_runs_ms=" + siblings);
        if (rto.containsKey("default")) {
            Stats.figure("failover_rto_default_ms", Stats.median(rto.get("default")));
        }
        Stats.figure("failover_rto_1s_2x1s_ms", Stats.median(rto.get("1s_2x1s")));
        Stats.figure("failover_rto_fast_ms", Stats.median(rto.get("fast")));
        Stats.figure("siblings_following_ms", Stats.median(siblings));
        Stats.figure("lost_commits", lost.stream().mapToLong(Long::longValue).max().orElse(0));
        Stats.figure("false_failovers", falseFailovers);
    }

    /** The replica set, its cluster handle, the daemons and the writer. */
    private static final class Bench implements AutoCloseable {
        record Round(long rtoMs, long siblingsMs, int lost) {
        }

        private final PgReplicaSet set;
        private final ReplicationCluster cluster;
        private final Map<PgServer, Integer> ids = new LinkedHashMap<>();
        private final List<FailoverDaemon> daemons = new ArrayList<>();
        private final List<EventRecord> events = new CopyOnWriteArrayList<>();
        private final PgWriter writer;
        private PgServer primary;
        private int lostSoFar;
        private Setting setting;

        Bench() {
            set = PgReplicaSet.start(3, b -> b.setting("wal_retrieve_retry_interval", "200ms"));
            ReplicationClusters.Builder builder = ReplicationClusters.builder().eventListener(events::add);
            int id = 1;
            for (PgServer s : set.servers()) {
                ids.put(s, id++);
                builder.seed(s.conninfo());
            }
            cluster = builder.build();
            setting = new Setting("default", 2, 6, 10, DaemonOptions.defaults());
            cluster.registerPrimary(config(set.server("pg1"))).execute();
            cluster.registerStandby(config(set.server("pg2"))).waitUntilAttached(Duration.ofSeconds(30)).execute();
            cluster.registerStandby(config(set.server("pg3"))).waitUntilAttached(Duration.ofSeconds(30)).execute();
            primary = set.server("pg1");
            writer = PgWriter.start(set.servers(), Duration.ofMillis(10));
            writer.awaitCommits(20, Duration.ofSeconds(10));
        }

        NodeConfig config(PgServer s) {
            return NodeConfig.builder().nodeId(ids.get(s)).nodeName(s.name()).conninfo(s.conninfo())
                    .dataDirectory(s.dataDirectory().toString()).pgBindir(s.bindir().toString())
                    .failover(FailoverMode.AUTOMATIC).monitorIntervalSecs(setting.monitorSecs())
                    .reconnectAttempts(setting.attempts()).reconnectInterval(setting.intervalSecs()).build();
        }

        void startDaemons(Setting s) {
            setting = s;
            for (PgServer server : set.servers()) {
                daemons.add(cluster.daemon(config(server), s.options()).start());
            }
            Probes.sleep(Math.max(1000, 2L * s.monitorSecs() * 1000));
        }

        void stopDaemons() {
            daemons.forEach(FailoverDaemon::close);
            daemons.clear();
        }

        Round killPrimaryRound() {
            List<PgServer> standbys = set.servers().stream().filter(s -> s != primary).toList();
            for (PgServer s : standbys) {
                primary.waitForStreaming(s, Duration.ofSeconds(60));
            }
            writer.awaitCommits(20, Duration.ofSeconds(30));
            long t0 = System.nanoTime();
            primary.kill9();
            // kill9 returns once the postmaster and its backends are gone: a commit acknowledged
            // before that came from the old primary, still finishing the statement in flight
            long dead = System.nanoTime();
            long deadline = t0 + Duration.ofMinutes(3).toNanos();
            PgServer winner = null;
            long rto = -1;
            long siblingsAt = -1;
            while (System.nanoTime() < deadline && (rto < 0 || siblingsAt < 0)) {
                if (winner == null) {
                    winner = standbys.stream().filter(Probes::writable).findFirst().orElse(null);
                }
                if (rto < 0) {
                    OptionalLong first = writer.firstCommitAfter(dead);
                    if (first.isPresent()) {
                        rto = first.getAsLong() - t0;
                    }
                }
                if (winner != null && siblingsAt < 0) {
                    PgServer w = winner;
                    if (standbys.stream().filter(s -> s != w).allMatch(s -> streams(w, s.name()))) {
                        siblingsAt = System.nanoTime() - t0;
                    }
                }
                Probes.sleep(2);
            }
            if (winner == null || rto < 0 || siblingsAt < 0) {
                throw new IllegalStateException("no complete failover within 3 minutes (events: " + events + ")");
            }
            int missing = writer.missingOn(winner, System.nanoTime()).size();
            int lostNow = missing - lostSoFar;
            lostSoFar = missing;
            PgServer old = primary;
            cluster.rejoin(config(old)).forceRewind(true).recoverCrashedNode(true).timeout(Duration.ofSeconds(120)).execute();
            winner.waitForStreaming(old, Duration.ofSeconds(60));
            primary = winner;
            return new Round(rto / 1_000_000, siblingsAt / 1_000_000, lostNow);
        }

        /** Runs with a healthy primary and counts the promotions that happened anyway. */
        int healthyRun(Duration d) {
            long promotionsBefore = promotions();
            PgServer before = primary;
            int acknowledged = writer.acknowledged();
            Probes.sleep(d.toMillis());
            long falsePromotions = promotions() - promotionsBefore;
            System.out.printf("healthy run: %d s, %d commits, primary still %s: %s%n", d.toSeconds(),
                    writer.acknowledged() - acknowledged, before.name(), Probes.writable(before));
            return (int) falsePromotions + (Probes.writable(before) ? 0 : 1);
        }

        private long promotions() {
            return events.stream().filter(e -> e.event().equals(DaemonEvents.REPMGRD_FAILOVER_PROMOTE)).count();
        }

        private static boolean streams(PgServer upstream, String applicationName) {
            try (Connection c = upstream.connect(); PreparedStatement ps = c.prepareStatement(
                    "SELECT 1 FROM pg_stat_replication WHERE application_name = ? AND state = 'streaming'")) {
                ps.setString(1, applicationName);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next();
                }
            } catch (SQLException | RuntimeException e) {
                return false;
            }
        }

        @Override
        public void close() {
            stopDaemons();
            writer.close();
            cluster.close();
            set.close();
        }
    }
}
