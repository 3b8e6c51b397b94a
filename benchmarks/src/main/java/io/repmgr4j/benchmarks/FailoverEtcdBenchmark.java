package io.repmgr4j.benchmarks;

import io.repmgr4j.ConsensusConfig;
import io.repmgr4j.DaemonEvents;
import io.repmgr4j.DaemonOptions;
import io.repmgr4j.EventRecord;
import io.repmgr4j.FailoverDaemon;
import io.repmgr4j.FailoverMode;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.core.ReplicationClusters;
import io.repmgr4j.testkit.EtcdCluster;
import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import io.repmgr4j.testkit.PgWriter;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * {@code benchmarks/run failover-etcd}: a 3-node set with a daemon on every node on
 * {@code consensus = etcd} (a real 3-member etcd, lease {@code --ttl} seconds, default 10;
 * monitor 500 ms, 3 reconnect attempts 200 ms apart) and a writer committing every 10 ms
 * through a pgjdbc multi-host URL. Each round measures, from the kill to the first
 * acknowledged commit on the new primary:
 * <ul>
 *   <li>{@code failover_rto_etcd_pg_killed_ms}: the primary's postmaster SIGKILLed, its
 *       daemon alive (it resigns the leader key at once);</li>
 *   <li>{@code failover_rto_etcd_host_lost_ms}: the primary's daemon stopped without
 *       resigning and its postmaster SIGKILLed together (the lease has to run out);</li>
 *   <li>{@code acked_after_promotion}: commits the old primary acknowledged after the new
 *       one's first, over all rounds (must be 0); {@code promotions_per_round}: the most
 *       promotions seen in one round (must be 1).</li>
 * </ul>
 * The old primary is rejoined (pg_rewind) with a new daemon for the next round.
 * Options: {@code --rounds N} (default 3), {@code --ttl S} (default 10).
 */
public final class FailoverEtcdBenchmark {
    private FailoverEtcdBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int rounds = 3;
        int ttl = 10;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--ttl" -> ttl = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        List<Long> pgKilled = new ArrayList<>();
        List<Long> hostLost = new ArrayList<>();
        int ackedAfter = 0;
        int promotionsPerRound = 0;
        try (Bench b = new Bench(ttl)) {
            for (int r = 1; r <= rounds; r++) {
                for (boolean host : new boolean[] {false, true}) {
                    Bench.Round round = b.killRound(host);
                    System.out.printf("round %d, %s: rto %d ms, promotions %d, acknowledged by the old primary after"
                                    + " the new one's first commit: %d%n", r, host ? "host lost" : "pg killed", round.rtoMs(),
                            round.promotions(), round.ackedAfter());
                    (host ? hostLost : pgKilled).add(round.rtoMs());
                    ackedAfter += round.ackedAfter();
                    promotionsPerRound = Math.max(promotionsPerRound, round.promotions());
                }
            }
        }
        System.out.println();
        System.out.println("settings=consensus=etcd (3 members), etcd_ttl=" + ttl + " s, monitor 500 ms,"
                + " reconnect_attempts=3 200 ms apart (DaemonOptions)");
        System.out.println("rounds=" + rounds);
        System.out.println("failover_rto_etcd_pg_killed_runs_ms=" + pgKilled);
        System.out.println("failover_rto_etcd_host_lost_runs_ms=" + hostLost);
        Stats.figure("failover_rto_etcd_pg_killed_ms", Stats.median(pgKilled));
        Stats.figure("failover_rto_etcd_host_lost_ms", Stats.median(hostLost));
        Stats.figure("acked_after_promotion", ackedAfter);
        Stats.figure("promotions_per_round", promotionsPerRound);
    }

    /** The etcd cluster, the replica set, the daemons and the writer. */
    private static final class Bench implements AutoCloseable {
        record Round(long rtoMs, int promotions, int ackedAfter) {
        }

        private final EtcdCluster etcd;
        private final PgReplicaSet set;
        private final ReplicationCluster cluster;
        private final Map<PgServer, Integer> ids = new LinkedHashMap<>();
        private final Map<PgServer, FailoverDaemon> daemons = new LinkedHashMap<>();
        private final List<EventRecord> events = new CopyOnWriteArrayList<>();
        private final DaemonOptions options;
        private final PgWriter writer;
        private PgServer primary;

        Bench(int ttl) {
            etcd = EtcdCluster.start(3);
            PgReplicaSet s = null;
            ReplicationCluster c = null;
            PgWriter w = null;
            try {
                s = PgReplicaSet.start(3, b -> b.setting("wal_retrieve_retry_interval", "200ms"));
                ReplicationClusters.Builder builder = ReplicationClusters.builder().eventListener(events::add);
                int id = 1;
                for (PgServer server : s.servers()) {
                    ids.put(server, id++);
                    builder.seed(server.conninfo());
                }
                c = builder.build();
                c.registerPrimary(config(s.server("pg1"))).execute();
                c.registerStandby(config(s.server("pg2"))).waitUntilAttached(Duration.ofSeconds(30)).execute();
                c.registerStandby(config(s.server("pg3"))).waitUntilAttached(Duration.ofSeconds(30)).execute();
                w = PgWriter.start(s.servers(), Duration.ofMillis(10));
                w.awaitCommits(20, Duration.ofSeconds(10));
            } catch (RuntimeException e) {
                if (w != null) {
                    w.close();
                }
                if (c != null) {
                    c.close();
                }
                if (s != null) {
                    s.close();
                }
                etcd.close();
                throw e;
            }
            set = s;
            cluster = c;
            writer = w;
            options = DaemonOptions.builder().monitorInterval(Duration.ofMillis(500)).reconnectInterval(Duration.ofMillis(200))
                    .consensus(ConsensusConfig.builder()
                            .endpoints(Arrays.stream(etcd.endpoints().split(",")).map(URI::create).toList())
                            .ttl(Duration.ofSeconds(ttl)).build())
                    .build();
            primary = set.server("pg1");
            for (PgServer server : set.servers()) {
                daemons.put(server, cluster.daemon(config(server), options).start());
            }
            Probes.sleep(2000);
        }

        NodeConfig config(PgServer s) {
            return NodeConfig.builder().nodeId(ids.get(s)).nodeName(s.name()).conninfo(s.conninfo())
                    .dataDirectory(s.dataDirectory().toString()).pgBindir(s.bindir().toString())
                    .failover(FailoverMode.AUTOMATIC).monitorIntervalSecs(1).reconnectAttempts(3).reconnectInterval(1)
                    .build();
        }

        Round killRound(boolean hostLost) {
            List<PgServer> standbys = set.servers().stream().filter(s -> s != primary).toList();
            for (PgServer s : standbys) {
                primary.waitForStreaming(s, Duration.ofSeconds(60));
            }
            Probes.sleep(2000); // the new daemons have seen their upstream and the primary holds the key
            writer.awaitCommits(20, Duration.ofSeconds(30));
            long promotionsBefore = promotions();
            long t0 = System.nanoTime();
            if (hostLost) {
                daemons.remove(primary).close(); // gone with its host: it does not resign
            }
            primary.kill9();
            long deadline = t0 + Duration.ofMinutes(3).toNanos();
            PgServer winner = null;
            while (winner == null && System.nanoTime() < deadline) {
                winner = standbys.stream().filter(Probes::writable).findFirst().orElse(null);
                Probes.sleep(2);
            }
            if (winner == null) {
                throw new IllegalStateException("no standby promoted within 3 minutes (events: " + events + ")");
            }
            String label = PgWriter.label(winner);
            long first = -1;
            while (first < 0 && System.nanoTime() < deadline) {
                first = writer.commits().stream().filter(c -> c.server().equals(label) && c.ackNanos() > t0)
                        .mapToLong(PgWriter.Commit::ackNanos).min().orElse(-1);
                Probes.sleep(2);
            }
            if (first < 0) {
                throw new IllegalStateException("no commit on the new primary " + winner.name() + " within 3 minutes");
            }
            Probes.sleep(3000); // a second promotion, if any, would show
            int promotions = (int) (promotions() - promotionsBefore);
            int ackedAfter = writer.acknowledgedBy(primary, first);
            PgServer old = primary;
            FailoverDaemon oldDaemon = daemons.remove(old);
            if (oldDaemon != null) {
                oldDaemon.close();
            }
            cluster.rejoin(config(old)).forceRewind(true).recoverCrashedNode(true).timeout(Duration.ofSeconds(120)).execute();
            winner.waitForStreaming(old, Duration.ofSeconds(60));
            daemons.put(old, cluster.daemon(config(old), options).start());
            primary = winner;
            return new Round((first - t0) / 1_000_000, promotions, ackedAfter);
        }

        private long promotions() {
            return events.stream().filter(e -> e.event().equals(DaemonEvents.REPMGRD_FAILOVER_PROMOTE)).count();
        }

        @Override
        public void close() {
            daemons.values().forEach(FailoverDaemon::close);
            daemons.clear();
            writer.close();
            cluster.close();
            set.close();
            etcd.close();
        }
    }
}
