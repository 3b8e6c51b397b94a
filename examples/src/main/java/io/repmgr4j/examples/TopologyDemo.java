package io.repmgr4j.examples;

import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.core.ReplicationClusters;
import io.repmgr4j.format.ClusterShowFormat;
import io.repmgr4j.format.EventTableFormat;
import io.repmgr4j.format.OperationReportFormat;
import io.repmgr4j.plan.OperationReport;
import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import java.time.Duration;
import java.util.List;

import static io.repmgr4j.examples.Console.say;

/**
 * Topology changes on a throw-away 3-node set, the way the seed walkthrough's steps 12
 * and 13 do them with repmgr: a switchover with siblings following, a crash of the new
 * primary (kill -9) and the promotion of a standby, then the rejoin of the crashed node
 * with crash recovery and pg_rewind. Run it with
 * {@code bin/demo io.repmgr4j.examples.TopologyDemo}. Everything it started is stopped and
 * deleted at the end.
 */
public final class TopologyDemo {
    private TopologyDemo() {
    }

    public static void main(String[] args) {
        say("starting a primary and two streaming standbys on 127.0.0.1 (throw-away data directories)");
        try (PgReplicaSet servers = PgReplicaSet.start(3)) {
            List<PgServer> s = servers.servers();
            NodeConfig pg1 = s.get(0).nodeConfig(1).build();
            NodeConfig pg2 = s.get(1).nodeConfig(2).build();
            NodeConfig pg3 = s.get(2).nodeConfig(3).build();

            // the handle must know every node it may have to stop, start or rewind
            ReplicationClusters.Builder builder = ReplicationClusters.builder().seed(pg1.conninfo());
            for (int i = 0; i < 3; i++) {
                builder.node(List.of(pg1, pg2, pg3).get(i), s.get(i).runner());
            }
            try (ReplicationCluster cluster = builder.build()) {
                say("primary register (node 1) and standby register (nodes 2 and 3)");
                cluster.registerPrimary(pg1).execute();
                cluster.registerStandby(pg2).waitUntilAttached(Duration.ofSeconds(30)).execute();
                cluster.registerStandby(pg3).waitUntilAttached(Duration.ofSeconds(30)).execute();
                show(cluster);

                say("standby switchover to pg2, dry run first (nothing changes)");
                System.out.print(OperationReportFormat.text(cluster.switchover(2).siblingsFollow(true).plan()));

                say("standby switchover to pg2 --siblings-follow");
                OperationReport switchover = cluster.switchover(2).siblingsFollow(true).execute();
                System.out.print(OperationReportFormat.text(switchover));
                show(cluster);

                say("kill -9 of the new primary pg2's postmaster");
                s.get(1).kill9();
                show(cluster);

                say("standby promote of pg1 --siblings-follow");
                System.out.print(OperationReportFormat.text(cluster.promote(1).siblingsFollow(true).execute()));
                show(cluster);

                say("node rejoin of pg2: crash recovery first, then pg_rewind (it diverged when it crashed)");
                OperationReport rejoin = cluster.rejoin(pg2).recoverCrashedNode(true).forceRewind(true).execute();
                System.out.print(OperationReportFormat.text(rejoin));
                show(cluster);

                say("cluster event");
                System.out.print(EventTableFormat.table(cluster.events().limit(12).list()));
            }
            say("stopping the servers and deleting their directories");
        }
        say("done");
    }

    private static void show(ReplicationCluster cluster) {
        say("cluster show");
        System.out.print(ClusterShowFormat.table(cluster.show().timeout(Duration.ofSeconds(5)).execute()));
    }
}
