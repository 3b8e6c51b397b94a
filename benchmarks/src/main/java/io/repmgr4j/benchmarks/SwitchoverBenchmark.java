package io.repmgr4j.benchmarks;

import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.core.ReplicationClusters;
import io.repmgr4j.format.OperationReportFormat;
import io.repmgr4j.plan.OperationReport;
import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import io.repmgr4j.testkit.PgWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code benchmarks/run switchover}: on a 3-node set, a writer commits one small INSERT
 * every 10 ms through a pgjdbc multi-host URL (targetServerType=primary) while switchovers
 * with siblings follow move the primary back and forth. Prints the medians of the whole
 * operation ({@code switchover_ms}) and of the longest gap between acknowledged commits
 * ({@code switchover_write_gap_ms}), the acknowledged commits missing afterwards
 * ({@code lost_commits}), and the median time of a rejoin with crash recovery and
 * pg_rewind of a primary killed with SIGKILL after a promotion ({@code rejoin_ms}).
 * Also {@code rejoin_pg_rewind_step_ms}: the part of a rejoin spent in the pg_rewind step
 * (pg_rewind copies every WAL file of the source it does not find on the node).
 * Argument {@code fsync=on} runs the servers with fsync on (default: the test kit's off).
 */
public final class SwitchoverBenchmark {
    private static final int SWITCHOVERS = 6;
    private static final int REJOINS = 7;

    private SwitchoverBenchmark() {
    }

    public static void main(String[] args) {
        // "fsync=on" runs the servers durably (the test kit's default is fsync=off)
        boolean fsync = List.of(args).contains("fsync=on");
        try (PgReplicaSet set = PgReplicaSet.start(3, b -> b.setting("fsync", fsync ? "on" : "off"))) {
            Map<Integer, PgServer> servers = new LinkedHashMap<>();
            Map<Integer, NodeConfig> configs = new LinkedHashMap<>();
            ReplicationClusters.Builder b = ReplicationClusters.builder();
            int id = 1;
            for (PgServer s : set.servers()) {
                NodeConfig cfg = NodeConfig.builder().nodeId(id).nodeName(s.name()).conninfo(s.conninfo())
                        .dataDirectory(s.dataDirectory().toString()).pgBindir(s.bindir().toString()).build();
                servers.put(id, s);
                configs.put(id, cfg);
                b.seed(s.conninfo()).node(cfg, s.runner());
                id++;
            }
            try (ReplicationCluster cluster = b.build()) {
                cluster.registerPrimary(configs.get(1)).execute();
                for (int i = 2; i <= 3; i++) {
                    cluster.registerStandby(configs.get(i)).waitUntilAttached(Duration.ofSeconds(30)).execute();
                }
                List<Long> switchoverMs = new ArrayList<>();
                List<Long> gapMs = new ArrayList<>();
                int lost;
                int primary = 1;
                try (PgWriter writer = PgWriter.start(set.servers(), Duration.ofMillis(10))) {
                    writer.awaitCommits(20, Duration.ofSeconds(10));
                    for (int round = 0; round < SWITCHOVERS; round++) {
                        int target = primary == 1 ? 2 : 1;
                        long t0 = System.nanoTime();
                        OperationReport r = cluster.switchover(target).siblingsFollow(true).execute();
                        long t1 = System.nanoTime();
                        if (!r.successful() || !r.warnings().isEmpty()) {
                            throw new IllegalStateException("switchover round " + round + ": " + r.summary() + " " + r.warnings());
                        }
                        if (round == SWITCHOVERS - 1) {
                            System.out.print(OperationReportFormat.text(r));
                        }
                        System.out.println("switchover round " + round + ": checks " + (r.duration().toMillis()
                                - r.steps().stream().mapToLong(st -> st.duration().orElse(Duration.ZERO).toMillis()).sum())
                                + " ms, steps " + r.steps().stream().map(st -> st.name().split(" ")[0] + "="
                                + st.duration().orElse(Duration.ZERO).toMillis()).toList());
                        writer.awaitCommits(20, Duration.ofSeconds(10));
                        switchoverMs.add((t1 - t0) / 1_000_000);
                        gapMs.add(writer.longestGap(t0, t1).toMillis());
                        primary = target;
                    }
                    writer.stop();
                    lost = writer.missingOn(servers.get(primary)).size();
                    System.out.println("commits_acknowledged=" + writer.acknowledged());
                }

                List<Long> rejoinMs = new ArrayList<>();
                List<Long> rewindMs = new ArrayList<>();
                for (int round = 0; round < REJOINS; round++) {
                    int next = primary == 1 ? 2 : 1;
                    PgServer old = servers.get(primary);
                    old.execute("INSERT INTO repmgr4j_writes (id) VALUES (" + (-1 - round) + ")");
                    awaitReplay(old, servers.get(next));
                    old.kill9();
                    cluster.promote(next).siblingsFollow(true).execute();
                    servers.get(next).execute("INSERT INTO repmgr4j_writes (id) VALUES (" + (-100 - round) + ")");
                    long t0 = System.nanoTime();
                    OperationReport r = cluster.rejoin(configs.get(primary)).recoverCrashedNode(true).forceRewind(true).execute();
                    rejoinMs.add((System.nanoTime() - t0) / 1_000_000);
                    if (!r.successful()) {
                        throw new IllegalStateException("rejoin round " + round + ": " + r.summary());
                    }
                    if (round == REJOINS - 1) {
                        System.out.print(OperationReportFormat.text(r));
                    }
                    rewindMs.add(r.steps().stream().filter(st -> st.name().startsWith("pg_rewind"))
                            .mapToLong(st -> st.duration().orElse(Duration.ZERO).toMillis()).sum());
                    long steps = r.steps().stream().mapToLong(st -> st.duration().orElse(Duration.ZERO).toMillis()).sum();
                    System.out.println("rejoin round " + round + ": checks " + (r.duration().toMillis() - steps) + " ms, steps "
                            + r.steps().stream().map(st -> st.name().split(" ")[0] + "=" + st.duration().orElse(Duration.ZERO).toMillis())
                            .toList());
                    primary = next;
                }

                System.out.println("switchover_rounds=" + SWITCHOVERS);
                System.out.println("switchover_runs_ms=" + switchoverMs);
                System.out.println("switchover_write_gap_runs_ms=" + gapMs);
                System.out.println("rejoin_runs_ms=" + rejoinMs);
                Stats.figure("switchover_ms", Stats.median(switchoverMs));
                Stats.figure("switchover_write_gap_ms", Stats.median(gapMs));
                Stats.figure("lost_commits", lost);
                Stats.figure("rejoin_ms", Stats.median(rejoinMs));
                Stats.figure("rejoin_pg_rewind_step_ms", Stats.median(rewindMs));
            }
        }
    }

    private static void awaitReplay(PgServer primary, PgServer standby) {
        String lsn = primary.query("SELECT pg_current_wal_lsn()::text", String.class);
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!Boolean.TRUE.equals(standby.query("SELECT pg_last_wal_replay_lsn() >= '" + lsn + "'::pg_lsn", Boolean.class))) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(standby.name() + " did not replay up to " + lsn);
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }
}
