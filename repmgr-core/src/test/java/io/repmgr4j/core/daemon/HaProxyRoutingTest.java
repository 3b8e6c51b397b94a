package io.repmgr4j.core.daemon;

import static io.repmgr4j.core.daemon.DaemonTestSupport.await;
import static io.repmgr4j.core.daemon.DaemonTestSupport.config;
import static io.repmgr4j.core.daemon.DaemonTestSupport.fast;
import static io.repmgr4j.core.daemon.DaemonTestSupport.isPrimary;
import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.DaemonOptions;
import io.repmgr4j.FailoverDaemon;
import io.repmgr4j.HttpEndpoint;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.core.ReplicationClusters;
import io.repmgr4j.testkit.HaProxy;
import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import io.repmgr4j.testkit.PgWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A real HAProxy, configured as Patroni's documentation shows ({@code option httpchk GET
 * /primary}, {@code inter 500ms fall 2 rise 1}, {@code on-marked-down shutdown-sessions}),
 * in front of three nodes whose daemons serve the health endpoints; a writer connects only
 * through HAProxy, every 10 ms. A switchover (pg1 to pg2) and then a kill -9 of the new
 * primary: the writer keeps committing after each, every commit made after the crash is on
 * the node that became primary, and no write ever reached a node in recovery (the switchover
 * keeps the old primary down until HAProxy marked it down: oldPrimaryRestartDelay).
 */
class HaProxyRoutingTest {

    @Test
    void writesFollowThePrimaryThroughHaProxy() {
        List<FailoverDaemon> daemons = new ArrayList<>();
        try (PgReplicaSet set = PgReplicaSet.start(3, b -> b.setting("wal_retrieve_retry_interval", "200ms"));
             ReplicationCluster cluster = ReplicationClusters.connect(set.primary().conninfo())) {
            List<NodeConfig> configs = List.of(config(1, set.server("pg1"), 100), config(2, set.server("pg2"), 90),
                    config(3, set.server("pg3"), 80));
            cluster.registerPrimary(configs.get(0)).execute();
            cluster.registerStandby(configs.get(1)).waitUntilAttached(Duration.ofSeconds(30)).execute();
            cluster.registerStandby(configs.get(2)).waitUntilAttached(Duration.ofSeconds(30)).execute();
            HaProxy.Builder lb = HaProxy.builder();
            for (NodeConfig c : configs) {
                int port = HaProxy.freePort();
                DaemonOptions o = DaemonOptions.builder().from(fast()).http(HttpEndpoint.builder().port(port).build()).build();
                daemons.add(cluster.daemon(c, o).start());
                lb.server(c.nodeName(), set.server(c.nodeName()), port);
            }
            try (HaProxy haproxy = lb.start()) {
                assertThat(haproxy.config()).contains("option httpchk GET /primary", "http-check expect status 200",
                        "inter 500ms fall 2 rise 1 on-marked-down shutdown-sessions", "check port");
                // HAProxy starts with every server up; the writer starts once its checks marked the
                // standbys down, or its first writes could be sent to one
                await("HAProxy to mark the standbys down", Duration.ofSeconds(20),
                        () -> haproxy.log().contains("/pg2 is DOWN") && haproxy.log().contains("/pg3 is DOWN"));
                PgWriter writer = awaitWriter(haproxy, set.server("pg1"));
                try (writer) {
                    writer.awaitCommits(20, Duration.ofSeconds(20));

                    // the old primary stays down until HAProxy (inter 500ms fall 2: down within about 1 s) has
                    // marked it down, so no write reaches it as a standby; 3 s leaves room for a loaded host
                    cluster.switchover(configs.get(1)).siblingsFollow(true).oldPrimaryRestartDelay(Duration.ofSeconds(3))
                            .execute();
                    PgServer pg2 = set.server("pg2");
                    assertThat(isPrimary(pg2)).isTrue();
                    long afterSwitchover = System.nanoTime();
                    writer.awaitCommits(50, Duration.ofSeconds(30));
                    assertThat(writer.firstCommitAfter(afterSwitchover)).isPresent();
                    assertThat(writer.missingOn(pg2)).as("commits acknowledged through HAProxy, on the new primary").isEmpty();

                    await("pg1's daemon to monitor it as a standby", Duration.ofSeconds(30),
                            () -> daemons.get(0).status().upstreamNodeId().equals(java.util.OptionalInt.of(2)));
                    await("pg3's daemon to watch pg2", Duration.ofSeconds(30),
                            () -> daemons.get(2).status().upstreamNodeId().equals(java.util.OptionalInt.of(2)));
                    assertThat(writer.readOnlyRejections()).as("writes that reached the old primary as a standby").isZero();
                    pg2.kill9();
                    long killed = System.nanoTime();
                    List<Long> lostInTheCrash = null;
                    await("a standby to be promoted", Duration.ofSeconds(30),
                            () -> isPrimary(set.server("pg1")) || isPrimary(set.server("pg3")));
                    PgServer next = isPrimary(set.server("pg1")) ? set.server("pg1") : set.server("pg3");
                    writer.awaitCommits(50, Duration.ofSeconds(30));
                    assertThat(writer.firstCommitAfter(killed)).isPresent();
                    writer.stop();
                    lostInTheCrash = writer.missingOn(next, killed);
                    assertThat(writer.missingOn(next)).as("every commit after the crash is on " + next.name())
                            .isEqualTo(lostInTheCrash);
                    assertThat(writer.readOnlyRejections()).as("writes that reached a node in recovery").isZero();
                } finally {
                    writer.stop();
                }
            }
        } finally {
            daemons.forEach(FailoverDaemon::close);
        }
    }

    /** The writer, once HAProxy has marked the primary up (its first checks take up to one interval). */
    private static PgWriter awaitWriter(HaProxy haproxy, PgServer any) {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (true) {
            try {
                return PgWriter.startVia(haproxy.host(), haproxy.port(), any, Duration.ofMillis(10));
            } catch (RuntimeException e) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("no connection through HAProxy: " + e.getMessage() + "\n" + haproxy.log(), e);
                }
                DaemonTestSupport.sleep(100);
            }
        }
    }
}
