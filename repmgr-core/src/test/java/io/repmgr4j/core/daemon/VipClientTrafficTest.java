package io.repmgr4j.core.daemon;

import static io.repmgr4j.core.daemon.DaemonTestSupport.await;
import static io.repmgr4j.core.daemon.DaemonTestSupport.config;
import static io.repmgr4j.core.daemon.DaemonTestSupport.fast;
import static io.repmgr4j.core.daemon.DaemonTestSupport.isPrimary;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.repmgr4j.FailoverDaemon;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.core.ReplicationClusters;
import io.repmgr4j.testkit.AddressWatch;
import io.repmgr4j.testkit.NetReplicaSet;
import io.repmgr4j.testkit.PgServer;
import io.repmgr4j.testkit.PgWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Client traffic through the built-in virtual IP: three nodes whose servers run inside
 * network namespaces of a NetLab (each forwards the VIP's port to its own server), daemons
 * that move the VIP with {@code ip} and {@code arping} in those namespaces, and a writer on
 * the client host that knows only the VIP and one port. The switchover's plan moves the
 * address itself (off the old primary before it restarts as a standby, onto the new one
 * right after the promotion). Through a switchover and a kill -9
 * failover the writer's commits go on through the VIP to the new primary, none is refused
 * by a node in recovery, and a sampler of every node's addresses never finds the VIP on
 * two.
 */
class VipClientTrafficTest {

    @Test
    void aWriterThroughTheVipFollowsASwitchoverAndAFailover() throws Exception {
        assumeTrue(NamespaceNet.available(), "needs root, ip and arping (bin/prereqs installs iputils-arping)");
        List<FailoverDaemon> daemons = new ArrayList<>();
        try (NetReplicaSet set = NetReplicaSet.start(3, b -> b.setting("wal_retrieve_retry_interval", "200ms"))) {
            String vip = set.lab().spareAddress(100);
            int vipPort = set.server(1).port();
            List<NodeConfig> configs = new ArrayList<>();
            ReplicationClusters.Builder b = ReplicationClusters.builder();
            int[] priority = {100, 90, 80};
            for (int i = 1; i <= 3; i++) {
                PgServer s = set.server(i);
                set.lab().forward(set.node(i), vip, vipPort, s.port());
                NodeConfig c = config(i, s, priority[i - 1], x -> x.vip(vip + "/24").vipInterface("eth0"));
                configs.add(c);
                b.seed(s.conninfo()).node(c, set.node(i).hostRunner(s.runner()));
            }
            try (ReplicationCluster cluster = b.build()) {
                cluster.registerPrimary(configs.get(0)).execute();
                cluster.registerStandby(configs.get(1)).waitUntilAttached(Duration.ofSeconds(30)).execute();
                cluster.registerStandby(configs.get(2)).waitUntilAttached(Duration.ofSeconds(30)).execute();
                for (NodeConfig c : configs) {
                    daemons.add(cluster.daemon(c, fast()).start());
                }
                AddressWatch watch = AddressWatch.start(List.of(set.node(1), set.node(2), set.node(3)), vip);
                await("the VIP on n1", Duration.ofSeconds(30), () -> set.node(1).hasAddress(vip));

                try (PgWriter w = PgWriter.startVia(vip, vipPort, set.server(1), Duration.ofMillis(10))) {
                    w.awaitCommits(30, Duration.ofSeconds(20));
                    assertThat(w.acknowledgedBy(set.server(1), 0)).as("commits through the VIP land on pg1").isPositive();

                    // the switchover moves the address itself: off the old primary before it starts as a standby
                    assertThat(cluster.switchover(configs.get(1)).siblingsFollow(true).plan().steps())
                            .extracting(io.repmgr4j.plan.Step::name)
                            .anyMatch(n -> n.startsWith("remove the virtual IP " + vip + "/24 on eth0 from the host of node \"pg1\""))
                            .anyMatch(n -> n.startsWith("add the virtual IP " + vip + "/24 on eth0 to the host of node \"pg2\""));
                    cluster.switchover(configs.get(1)).siblingsFollow(true).execute();
                    assertThat(isPrimary(set.server(2))).isTrue();
                    await("the VIP on n2", Duration.ofSeconds(30), () -> set.node(2).hasAddress(vip));
                    long afterSwitchover = System.nanoTime();
                    await("commits on pg2 through the VIP", Duration.ofSeconds(30),
                            () -> w.acknowledgedBy(set.server(2), afterSwitchover) > 10);

                    await("pg3's daemon to watch pg2", Duration.ofSeconds(30),
                            () -> daemons.get(2).status().upstreamNodeId().equals(java.util.OptionalInt.of(2)));
                    set.server(2).kill9();
                    long killed = System.nanoTime();
                    await("a standby promoted", Duration.ofSeconds(30),
                            () -> isPrimary(set.server(1)) || isPrimary(set.server(3)));
                    int next = isPrimary(set.server(1)) ? 1 : 3;
                    await("the VIP on the new primary's host", Duration.ofSeconds(30), () -> set.node(next).hasAddress(vip));
                    await("commits on the new primary through the VIP", Duration.ofSeconds(30),
                            () -> w.acknowledgedBy(set.server(next), killed) > 10);
                    assertThat(set.node(2).hasAddress(vip)).as("released by pg2's daemon").isFalse();
                    w.stop();
                    assertThat(w.readOnlyRejections()).as("writes that reached a node in recovery").isZero();
                }
                watch.close();
                assertThat(watch.samples()).isGreaterThan(20);
                assertThat(watch.samplesOnTwo()).as("samples with the VIP on two hosts").isZero();
            }
        } finally {
            daemons.forEach(FailoverDaemon::close);
        }
    }
}
