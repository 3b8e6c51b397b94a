package io.repmgr4j.benchmarks;

import io.repmgr4j.ClusterStatus;
import io.repmgr4j.ConnInfo;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.NodeState;
import io.repmgr4j.NodeType;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.core.ReplicationClusters;
import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import io.repmgr4j.testkit.SilentServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

/**
 * {@code benchmarks/run status}: how long {@code cluster show} takes on 3 healthy nodes,
 * and on the same 3 plus 3 hung hosts (TCP accepted, never answered) registered with
 * connect_timeout=2. Probing is parallel, so the second figure should stay near one
 * timeout (2 s), not three.
 */
public final class StatusBenchmark {
    private static final int ROUNDS = 7;

    private StatusBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        try (PgReplicaSet set = PgReplicaSet.start(3);
             ReplicationCluster cluster = ReplicationClusters.connect(set.primary().conninfo())) {
            int id = 1;
            for (PgServer s : set.servers()) {
                NodeConfig cfg = NodeConfig.builder().nodeId(id).nodeName(s.name()).conninfo(s.conninfo())
                        .dataDirectory(s.dataDirectory().toString()).build();
                if (id == 1) {
                    cluster.registerPrimary(cfg).execute();
                } else {
                    cluster.registerStandby(cfg).waitUntilAttached(Duration.ofSeconds(30)).execute();
                }
                id++;
            }
            cluster.show().execute(); // warm-up: class loading, JIT, first connections

            List<Long> healthy = time(cluster, 3, 0);
            List<SilentServer> hung = new ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) {
                    SilentServer s = SilentServer.start();
                    hung.add(s);
                    cluster.metadata().insertNode(NodeRecord.builder().nodeId(100 + i).upstreamNodeId(OptionalInt.of(1))
                            .nodeName("hung" + i).type(NodeType.STANDBY)
                            .conninfo(ConnInfo.parse("host=127.0.0.1 port=" + s.port() + " user=repmgr dbname=repmgr connect_timeout=2"))
                            .repluser("repmgr").configFile("benchmark").build());
                }
                List<Long> withUnreachable = time(cluster, 3, 3);
                System.out.println("rounds=" + ROUNDS);
                System.out.println("status_healthy_runs_ms=" + healthy);
                System.out.println("status_with_unreachable_runs_ms=" + withUnreachable);
                Stats.figure("status_healthy_ms", Stats.median(healthy));
                Stats.figure("status_with_unreachable_ms", Stats.median(withUnreachable));
            } finally {
                for (SilentServer s : hung) {
                    s.close();
                }
            }
        }
    }

    private static List<Long> time(ReplicationCluster cluster, int expectRunning, int expectUnreachable) {
        List<Long> ms = new ArrayList<>();
        for (int r = 0; r < ROUNDS; r++) {
            long t0 = System.nanoTime();
            ClusterStatus status = cluster.show().timeout(Duration.ofSeconds(30)).execute();
            ms.add((System.nanoTime() - t0) / 1_000_000);
            long running = status.nodes().stream().filter(n -> n.state().reachable()).count();
            long unreachable = status.nodes().stream().filter(n -> n.state() == NodeState.UNREACHABLE).count();
            if (running != expectRunning || unreachable != expectUnreachable) {
                throw new IllegalStateException("unexpected cluster state: " + status.problems());
            }
        }
        return ms;
    }
}
