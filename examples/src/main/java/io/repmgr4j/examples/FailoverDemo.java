package io.repmgr4j.examples;

import io.repmgr4j.DaemonEvents;
import io.repmgr4j.DaemonOptions;
import io.repmgr4j.EventRecord;
import io.repmgr4j.FailoverDaemon;
import io.repmgr4j.FailoverMode;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.core.ReplicationClusters;
import io.repmgr4j.format.ClusterShowFormat;
import io.repmgr4j.format.EventTableFormat;
import io.repmgr4j.format.ServiceStatusFormat;
import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import java.time.Duration;

import static io.repmgr4j.examples.Console.say;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The seed walkthrough's automatic failover (its steps 14 and 15), embedded in a Java
 * program: a primary and two standbys with priorities 80 and 20, a failover daemon for
 * each node, {@code service status}, pause and unpause, then {@code kill -9} of the
 * primary's postmaster: the standby with priority 80 is promoted and the other follows
 * it. Everything it started is stopped and deleted at the end.
 *
 * <p>Run it with {@code bin/demo io.repmgr4j.examples.FailoverDemo}.
 */
public final class FailoverDemo {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");

    private FailoverDemo() {
    }

    public static void main(String[] args) throws InterruptedException {
        say("starting a primary and two streaming standbys on 127.0.0.1 (throw-away data directories)");
        try (PgReplicaSet servers = PgReplicaSet.start(3, b -> b.setting("wal_retrieve_retry_interval", "500ms"))) {
            PgServer pg1 = servers.server("pg1");
            PgServer pg2 = servers.server("pg2");
            PgServer pg3 = servers.server("pg3");
            List<NodeConfig> configs = List.of(config(1, pg1, 100), config(2, pg2, 80), config(3, pg3, 20));

            try (ReplicationCluster cluster = ReplicationClusters.connect(pg1.conninfo(), pg2.conninfo(), pg3.conninfo())) {
                say("register pg1 as primary, pg2 (priority 80) and pg3 (priority 20) as standbys");
                cluster.registerPrimary(configs.get(0)).execute();
                cluster.registerStandby(configs.get(1)).waitUntilAttached(Duration.ofSeconds(30)).execute();
                cluster.registerStandby(configs.get(2)).waitUntilAttached(Duration.ofSeconds(30)).execute();
                System.out.print(ClusterShowFormat.table(cluster.show().execute()));

                say("start a failover daemon for each node (failover=automatic; checks every 500 ms,"
                        + " 3 reconnect attempts 300 ms apart)");
                DaemonOptions options = DaemonOptions.builder()
                        .monitorInterval(Duration.ofMillis(500))
                        .reconnectInterval(Duration.ofMillis(300))
                        .build();
                CountDownLatch followed = new CountDownLatch(1);
                List<FailoverDaemon> daemons = new ArrayList<>();
                try {
                    for (NodeConfig c : configs) {
                        daemons.add(cluster.daemon(c, options).addListener(e -> {
                            print(e);
                            if (e.event().equals(DaemonEvents.REPMGRD_FAILOVER_FOLLOW)) {
                                followed.countDown();
                            }
                        }).start());
                    }
                    Thread.sleep(1500);

                    say("service status");
                    System.out.print(ServiceStatusFormat.table(cluster.serviceStatus().execute()));

                    say("service pause, then service status (paused daemons keep monitoring, never fail over)");
                    cluster.pauseDaemons().waitUntilApplied(Duration.ofSeconds(10)).execute();
                    System.out.print(ServiceStatusFormat.table(cluster.serviceStatus().execute()));
                    say("service unpause");
                    cluster.unpauseDaemons().waitUntilApplied(Duration.ofSeconds(10)).execute();

                    say("kill -9 of pg1's postmaster: the daemons take over");
                    long t0 = System.nanoTime();
                    pg1.kill9();
                    if (!followed.await(60, TimeUnit.SECONDS)) {
                        throw new IllegalStateException("no automatic failover within 60 s");
                    }
                    say("automatic failover done in " + (System.nanoTime() - t0) / 1_000_000
                            + " ms: pg2 (priority 80) is the primary and pg3 follows it");
                    Thread.sleep(1000);

                    say("cluster show");
                    System.out.print(ClusterShowFormat.table(cluster.show().timeout(Duration.ofSeconds(5)).execute()));
                    say("service status");
                    System.out.print(ServiceStatusFormat.table(cluster.serviceStatus().timeout(Duration.ofSeconds(5)).execute()));
                    say("cluster event");
                    System.out.print(EventTableFormat.table(cluster.events().limit(12).list()));
                } finally {
                    say("stopping the daemons");
                    daemons.forEach(FailoverDaemon::close);
                }
            }
            say("stopping the servers and deleting their directories");
        }
        say("done");
    }

    private static NodeConfig config(int id, PgServer server, int priority) {
        return server.nodeConfig(id)
                .priority(priority)
                .failover(FailoverMode.AUTOMATIC)
                .reconnectAttempts(3)
                .build();
    }

    private static void print(EventRecord e) {
        System.out.println("    event " + e.timestamp().map(TIME::format).orElse("") + " [" + e.nodeName().orElse("")
                + "] " + e.event() + (e.successful() ? "" : " (failed)") + ": " + e.details().orElse(""));
    }
}
