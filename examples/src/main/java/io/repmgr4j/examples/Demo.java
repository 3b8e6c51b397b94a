package io.repmgr4j.examples;

import io.repmgr4j.CloneReport;
import io.repmgr4j.ClusterStatus;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.core.ReplicationClusters;
import io.repmgr4j.format.ClusterShowFormat;
import io.repmgr4j.format.EventTableFormat;
import io.repmgr4j.format.OperationReportFormat;
import io.repmgr4j.testkit.PgSandbox;
import io.repmgr4j.testkit.PgServer;
import java.time.Duration;

import static io.repmgr4j.examples.Console.say;

/**
 * The README's demo: a primary on loopback, registered through the library, and two
 * standbys the library clones from it (a dry run first, then clone, start, streaming
 * check and registration in one chain), shown the way {@code repmgr cluster show} shows
 * them; then one standby is killed and shown again. Everything it started is stopped and
 * deleted at the end. Then the topology demo (switchover, promote, rejoin) and the
 * failover demo (automatic failover by the daemons) run, each on servers of its own.
 */
public final class Demo {
    private Demo() {
    }

    public static void main(String[] args) throws InterruptedException {
        buildAndShow();
        TopologyDemo.main(args);   // switchover, promote after kill -9, rejoin with pg_rewind
        FailoverDemo.main(args);   // failover daemons: automatic failover by priority
    }

    /** Clone, register and show: the first part of the demo. */
    static void buildAndShow() {
        say("starting a primary on 127.0.0.1 (throw-away data directory)");
        try (PgServer pg1 = PgServer.builder().name("pg1").start();
             PgSandbox place2 = PgSandbox.allocate("pg2");   // a free port and an empty place for a data directory
             PgSandbox place3 = PgSandbox.allocate("pg3");
             ReplicationCluster cluster = ReplicationClusters.connect(pg1.conninfo())) {

            say("primary register (node 1, pg1)");
            cluster.registerPrimary(pg1.nodeConfig(1).priority(100).build()).execute();

            NodeConfig node2 = place2.nodeConfig(2).priority(80).build();
            say("standby clone --dry-run (node 2, pg2)");
            System.out.print(OperationReportFormat.dryRun(cluster.cloneStandby(node2).fastCheckpoint(true).plan()));

            say("standby clone, start, wait until streaming, standby register (node 2, pg2)");
            CloneReport r2 = clone(cluster, node2, place2).execute();
            System.out.println(OperationReportFormat.steps(r2.steps()).stripTrailing());
            System.out.printf("copied %.1f MB in %d ms (%.0f MB/s): %s%n", r2.sizeBytes() / 1048576.0,
                    r2.copyDuration().toMillis(), r2.throughputBytesPerSecond() / 1048576.0, r2.commandLine());

            say("the same for node 3 (pg3), cloned from and attached to pg2: a cascading standby");
            clone(cluster, place3.nodeConfig(3).priority(20).build(), place3).upstreamNodeId(2).execute();
            PgServer pg3 = place3.adopt(); // the test kit takes over the running server (and cleans it up)
            place2.adopt();

            say("cluster show");
            ClusterStatus status = cluster.show().execute();
            System.out.print(ClusterShowFormat.table(status));

            say("cluster event");
            System.out.print(EventTableFormat.table(cluster.events().list()));

            say("kill -9 of pg3's postmaster, then cluster show again");
            pg3.kill9();
            System.out.print(ClusterShowFormat.table(cluster.show().timeout(Duration.ofSeconds(5)).execute()));
            say("stopping the servers and deleting their directories");
        }
        say("done");
    }

    /** The chain the demo runs for each standby; the new server uses its place's socket directory. */
    private static ReplicationCluster.StandbyClone clone(ReplicationCluster cluster, NodeConfig node, PgSandbox place) {
        return cluster.cloneStandby(node)
                .fastCheckpoint(true)
                .serverSetting("unix_socket_directories", place.socketDirectory().toString())
                .thenStart()
                .waitUntilStreaming(Duration.ofSeconds(30))
                .thenRegister();
    }
}
