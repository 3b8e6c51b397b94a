package io.repmgr4j.core.daemon;

import static io.repmgr4j.core.daemon.DaemonTestSupport.await;
import static io.repmgr4j.core.daemon.DaemonTestSupport.config;
import static io.repmgr4j.core.daemon.DaemonTestSupport.fast;
import static io.repmgr4j.core.daemon.DaemonTestSupport.isPrimary;
import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.DaemonEvents;
import io.repmgr4j.DaemonMode;
import io.repmgr4j.FailoverDaemon;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.NodeType;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.core.ReplicationClusters;
import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/**
 * A switchover while the daemons run (with a reconnect window far shorter than the
 * switchover): the daemons see the primary stop, find the cluster-wide topology lock
 * held, and wait instead of failing over; afterwards they monitor the new topology.
 */
class SwitchoverWithDaemonsTest {

    @Test
    void daemonsDoNotFailOverDuringASwitchover() {
        List<FailoverDaemon> daemons = new ArrayList<>();
        try (PgReplicaSet set = PgReplicaSet.start(3, b -> b.setting("wal_retrieve_retry_interval", "200ms"));
             ReplicationCluster cluster = ReplicationClusters.connect(set.primary().conninfo())) {
            List<NodeConfig> configs = List.of(config(1, set.server("pg1"), 100), config(2, set.server("pg2"), 100),
                    config(3, set.server("pg3"), 100));
            cluster.registerPrimary(configs.get(0)).execute();
            cluster.registerStandby(configs.get(1)).waitUntilAttached(Duration.ofSeconds(30)).execute();
            cluster.registerStandby(configs.get(2)).waitUntilAttached(Duration.ofSeconds(30)).execute();
            DaemonTestSupport.Recorder recorder = new DaemonTestSupport.Recorder();
            for (NodeConfig c : configs) {
                daemons.add(cluster.daemon(c, fast()).addListener(recorder).start());
            }
            await("standby daemons to see pg1", Duration.ofSeconds(10),
                    () -> daemons.get(2).status().upstreamLastSeen().isPresent());

            cluster.switchover(configs.get(1)).siblingsFollow(true).execute();

            PgServer pg1 = set.server("pg1");
            PgServer pg2 = set.server("pg2");
            assertThat(isPrimary(pg2)).isTrue();
            await("pg1's daemon to monitor pg2 as a standby", Duration.ofSeconds(20), () ->
                    daemons.get(0).status().localRole().equals(java.util.Optional.of(NodeType.STANDBY))
                            && daemons.get(0).status().upstreamNodeId().equals(OptionalInt.of(2))
                            && daemons.get(0).status().mode() == DaemonMode.MONITORING);
            await("pg3's daemon to monitor pg2", Duration.ofSeconds(20), () ->
                    daemons.get(2).status().upstreamNodeId().equals(OptionalInt.of(2))
                            && daemons.get(2).status().mode() == DaemonMode.MONITORING);
            assertThat(daemons.get(1).status().localRole()).hasValue(NodeType.PRIMARY);
            pg2.waitForStreaming(pg1, Duration.ofSeconds(10));
            assertThat(recorder.names()).doesNotContain(DaemonEvents.REPMGRD_FAILOVER_PROMOTE,
                    DaemonEvents.REPMGRD_FAILOVER_FOLLOW, DaemonEvents.REPMGRD_FAILOVER_ABORTED,
                    DaemonEvents.REPMGRD_PROMOTE_ERROR, DaemonEvents.SPLIT_BRAIN_DETECTED);
            assertThat(cluster.metadata().votingTerm()).isEqualTo(2);
        } finally {
            daemons.forEach(FailoverDaemon::close);
        }
    }
}
