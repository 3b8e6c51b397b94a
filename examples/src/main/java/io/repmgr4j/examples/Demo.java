package io.repmgr4j.examples;

import io.repmgr4j.ClusterStatus;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.core.ReplicationClusters;
import io.repmgr4j.format.ClusterShowFormat;
import io.repmgr4j.format.EventTableFormat;
import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import java.time.Duration;

/**
 * The README's demo: a primary and two standbys on loopback, registered through the
 * library, shown the way {@code repmgr cluster show} shows them; then one standby is
 * killed and shown again. Everything it started is stopped and deleted at the end.
 */
public final class Demo {
    private Demo() {
    }

    public static void main(String[] args) {
        say("starting a primary and two streaming standbys on 127.0.0.1 (throw-away data directories)");
        try (PgReplicaSet servers = PgReplicaSet.start(3)) {
            PgServer pg1 = servers.server("pg1");
            PgServer pg2 = servers.server("pg2");
            PgServer pg3 = servers.server("pg3");

            try (ReplicationCluster cluster = ReplicationClusters.connect(pg1.conninfo())) {
                say("primary register (node 1, pg1)");
                cluster.registerPrimary(config(1, pg1, 100)).execute();

                say("standby register (node 2, pg2) and (node 3, pg3), waiting until each streams");
                cluster.registerStandby(config(2, pg2, 80)).waitUntilAttached(Duration.ofSeconds(30)).execute();
                cluster.registerStandby(config(3, pg3, 20)).upstreamNodeId(1)
                        .waitUntilAttached(Duration.ofSeconds(30)).execute();

                say("cluster show");
                ClusterStatus status = cluster.show().execute();
                System.out.print(ClusterShowFormat.table(status));

                say("cluster event");
                System.out.print(EventTableFormat.table(cluster.events().list()));

                say("kill -9 of pg3's postmaster, then cluster show again");
                pg3.kill9();
                System.out.print(ClusterShowFormat.table(cluster.show().timeout(Duration.ofSeconds(5)).execute()));
            }
            say("stopping the servers and deleting their directories");
        }
        say("done");
    }

    private static NodeConfig config(int id, PgServer server, int priority) {
        return NodeConfig.builder()
                .nodeId(id)
                .nodeName(server.name())
                .conninfo(server.conninfo())
                .dataDirectory(server.dataDirectory().toString())
                .pgBindir(server.bindir().toString())
                .priority(priority)
                .build();
    }

    private static void say(String what) {
        System.out.println();
        System.out.println("==> " + what);
    }
}
