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
import io.repmgr4j.spi.LocalCommandRunner;
import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The built-in virtual IP with real daemons: three nodes whose hosts' network is a network
 * namespace each (the daemons run {@code ip} and {@code arping} there through the node's
 * CommandRunner; the servers themselves stay on loopback), a client namespace on the same
 * bridge. The address is on pg1's host; after a switchover to pg2 it is on pg2's and the
 * client's ARP request is answered by pg2's host; after a kill -9 of pg2 it is on the
 * promoted node's host.
 * A sampler reading every host's addresses throughout never finds it on two.
 */
class VipFailoverTest {

    @Test
    void theVipFollowsASwitchoverAndAFailover() throws Exception {
        assumeTrue(NamespaceNet.available(), "needs root, ip and arping (bin/prereqs installs iputils-arping)");
        List<FailoverDaemon> daemons = new ArrayList<>();
        AtomicBoolean sampling = new AtomicBoolean(true);
        try (NamespaceNet net = new NamespaceNet("h1", "h2", "h3", "client");
             PgReplicaSet set = PgReplicaSet.start(3, b -> b.setting("wal_retrieve_retry_interval", "200ms"))) {
            String vip = net.address(100);
            List<NodeConfig> configs = new ArrayList<>();
            ReplicationClusters.Builder b = ReplicationClusters.builder().seed(set.primary().conninfo());
            int[] priority = {100, 90, 80};
            for (int i = 1; i <= 3; i++) {
                NodeConfig c = config(i, set.server("pg" + i), priority[i - 1], x -> x.vip(vip + "/24").vipInterface("eth0"));
                configs.add(c);
                b.node(c, net.hostRunner("h" + i, LocalCommandRunner.asUser("postgres")));
            }
            try (ReplicationCluster cluster = b.build()) {
                cluster.registerPrimary(configs.get(0)).execute();
                cluster.registerStandby(configs.get(1)).waitUntilAttached(Duration.ofSeconds(30)).execute();
                cluster.registerStandby(configs.get(2)).waitUntilAttached(Duration.ofSeconds(30)).execute();
                for (NodeConfig c : configs) {
                    daemons.add(cluster.daemon(c, fast()).start());
                }
                AtomicInteger samples = new AtomicInteger();
                AtomicInteger onTwo = new AtomicInteger();
                Thread sampler = new Thread(() -> {
                    while (sampling.get()) {
                        int holders = 0;
                        for (String h : List.of("h1", "h2", "h3")) {
                            holders += net.has(h, vip) ? 1 : 0;
                        }
                        samples.incrementAndGet();
                        if (holders > 1) {
                            onTwo.incrementAndGet();
                        }
                    }
                }, "vip-sampler");
                sampler.start();

                await("the VIP on pg1's host", Duration.ofSeconds(20), () -> net.has("h1", vip));
                assertThat(net.answerer("client", vip)).isEqualToIgnoringCase(net.mac("h1"));
                await("pg3's daemon to watch pg1", Duration.ofSeconds(10),
                        () -> daemons.get(2).status().upstreamLastSeen().isPresent());

                cluster.switchover(configs.get(1)).siblingsFollow(true).execute();
                PgServer pg2 = set.server("pg2");
                assertThat(isPrimary(pg2)).isTrue();
                await("the VIP on pg2's host", Duration.ofSeconds(30), () -> net.has("h2", vip));
                await("the VIP gone from pg1's host", Duration.ofSeconds(30), () -> !net.has("h1", vip));
                assertThat(net.answerer("client", vip)).isEqualToIgnoringCase(net.mac("h2"));

                await("pg3's daemon to watch pg2", Duration.ofSeconds(30),
                        () -> daemons.get(2).status().upstreamNodeId().equals(java.util.OptionalInt.of(2)));
                pg2.kill9();
                await("a standby to be promoted", Duration.ofSeconds(30),
                        () -> isPrimary(set.server("pg1")) || isPrimary(set.server("pg3")));
                String next = isPrimary(set.server("pg1")) ? "h1" : "h3";
                await("the VIP on the new primary's host", Duration.ofSeconds(30), () -> net.has(next, vip));
                assertThat(net.has("h2", vip)).as("released by pg2's daemon").isFalse();
                assertThat(net.answerer("client", vip)).isEqualToIgnoringCase(net.mac(next));

                sampling.set(false);
                sampler.join(5_000);
                assertThat(samples.get()).isGreaterThan(20);
                assertThat(onTwo.get()).as("samples with the VIP on two hosts").isZero();
            }
        } finally {
            sampling.set(false);
            daemons.forEach(FailoverDaemon::close);
        }
    }
}
