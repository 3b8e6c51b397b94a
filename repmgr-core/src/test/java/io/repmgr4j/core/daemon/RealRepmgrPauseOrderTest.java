package io.repmgr4j.core.daemon;

import static io.repmgr4j.core.daemon.DaemonTestSupport.await;
import static io.repmgr4j.core.daemon.DaemonTestSupport.config;
import static io.repmgr4j.core.daemon.DaemonTestSupport.fast;
import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.FailoverDaemon;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.core.ReplicationClusters;
import io.repmgr4j.spi.CommandResult;
import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Real {@code repmgr service pause} / {@code unpause} (repmgr 5.3) on a cluster repmgr4j
 * built with the extension-free schema, whose primary has a node id between its
 * standbys' (standby 1, primary 2, standby 3): repmgr visits the nodes in node id order,
 * so it asks standby 1 before the primary. Every node must be reported paused (exit code
 * 0), every repmgr4j daemon must be paused, and the same for unpause.
 */
class RealRepmgrPauseOrderTest {

    @Test
    void aStandbyWithALowerNodeIdThanThePrimaryIsPausedAndReportedSo() {
        List<FailoverDaemon> daemons = new ArrayList<>();
        try (PgReplicaSet set = PgReplicaSet.start(3);
             ReplicationCluster cluster = ReplicationClusters.connect(set.primary().conninfo());
             RealRepmgr repmgr = new RealRepmgr()) {
            PgServer primary = set.server("pg1");
            PgServer low = set.server("pg2");
            PgServer high = set.server("pg3");
            // node ids: the standby pg2 is 1, the primary pg1 is 2, the standby pg3 is 3
            List<NodeConfig> configs = List.of(config(2, primary, 100), config(1, low, 100), config(3, high, 100));
            cluster.registerPrimary(configs.get(0)).extensionFree(true).execute();
            cluster.registerStandby(configs.get(1)).waitUntilAttached(Duration.ofSeconds(30)).execute();
            cluster.registerStandby(configs.get(2)).waitUntilAttached(Duration.ofSeconds(30)).execute();
            repmgr.configure(2, primary);
            repmgr.configure(1, low);
            repmgr.configure(3, high);
            for (NodeConfig c : configs) {
                daemons.add(cluster.daemon(c, fast()).start());
            }
            await("standby daemons to see the primary", Duration.ofSeconds(20), () ->
                    daemons.get(1).status().upstreamLastSeen().isPresent() && daemons.get(2).status().upstreamLastSeen().isPresent());

            CommandResult pause = repmgr.run(high, 3, Duration.ofSeconds(60), "service", "pause");
            String out = pause.stdout() + pause.stderr();
            assertThat(pause.exitCode()).as(out).isZero();
            assertThat(out).contains("node 1 (pg2) paused").contains("node 2 (pg1) paused").contains("node 3 (pg3) paused")
                    .doesNotContain("not paused");
            await("every repmgr4j daemon to be paused", Duration.ofSeconds(20),
                    () -> daemons.stream().allMatch(d -> d.status().paused()));
            await("repmgr service status to show every node paused", Duration.ofSeconds(10), () ->
                    repmgr.ok(low, 1, "service", "status", "--csv").lines().allMatch(l -> field(l, 4).equals("1") && field(l, 6).equals("1")));

            CommandResult unpause = repmgr.run(low, 1, Duration.ofSeconds(60), "service", "unpause");
            String out2 = unpause.stdout() + unpause.stderr();
            assertThat(unpause.exitCode()).as(out2).isZero();
            assertThat(out2).contains("node 1 (pg2) unpaused").contains("node 2 (pg1) unpaused").contains("node 3 (pg3) unpaused")
                    .doesNotContain("not unpaused");
            await("every repmgr4j daemon to be unpaused", Duration.ofSeconds(20),
                    () -> daemons.stream().noneMatch(d -> d.status().paused()));
            await("repmgr service status to show no node paused", Duration.ofSeconds(10), () ->
                    repmgr.ok(high, 3, "service", "status", "--csv").lines().allMatch(l -> field(l, 6).equals("0")));
        } finally {
            daemons.forEach(FailoverDaemon::close);
        }
    }

    private static String field(String csvLine, int i) {
        return csvLine.split(",", -1)[i];
    }
}
