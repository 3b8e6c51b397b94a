package io.repmgr4j.core.daemon;

import static io.repmgr4j.core.daemon.DaemonTestSupport.await;
import static io.repmgr4j.core.daemon.DaemonTestSupport.config;
import static io.repmgr4j.core.daemon.DaemonTestSupport.fast;
import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.DaemonEvents;
import io.repmgr4j.DaemonMode;
import io.repmgr4j.FailoverDaemon;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.core.ReplicationClusters;
import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/** A cascaded standby (pg3 streams from the standby pg2) re-attaches to the primary when pg2 fails. */
class CascadeFollowTest {

    @Test
    void aCascadedStandbyWhoseUpstreamStandbyFailsFollowsThePrimary() {
        List<FailoverDaemon> daemons = new ArrayList<>();
        try (PgReplicaSet set = PgReplicaSet.start(2, b -> b.setting("wal_retrieve_retry_interval", "200ms"));
             PgServer pg3 = set.server("pg2").createStandby("pg3");
             ReplicationCluster cluster = ReplicationClusters.connect(set.primary().conninfo())) {
            PgServer pg1 = set.server("pg1");
            PgServer pg2 = set.server("pg2");
            cluster.registerPrimary(config(1, pg1, 100)).execute();
            cluster.registerStandby(config(2, pg2, 100)).waitUntilAttached(Duration.ofSeconds(30)).execute();
            cluster.registerStandby(config(3, pg3, 100)).upstreamNodeId(2).waitUntilAttached(Duration.ofSeconds(30)).execute();
            DaemonTestSupport.Recorder recorder = new DaemonTestSupport.Recorder();
            daemons.add(cluster.daemon(config(1, pg1, 100), fast()).addListener(recorder).start());
            daemons.add(cluster.daemon(config(2, pg2, 100), fast()).addListener(recorder).start());
            FailoverDaemon d3 = cluster.daemon(config(3, pg3, 100), fast()).addListener(recorder).start();
            daemons.add(d3);
            await("pg3's daemon to watch pg2", Duration.ofSeconds(10), () -> d3.status().upstreamLastSeen().isPresent());
            assertThat(d3.status().upstreamNodeId()).hasValue(2);

            pg2.kill9();

            await("pg3 to follow pg1", Duration.ofSeconds(30), () -> recorder.has(DaemonEvents.REPMGRD_FAILOVER_FOLLOW));
            pg1.waitForStreaming(pg3, Duration.ofSeconds(10));
            assertThat(recorder.events).filteredOn(e -> e.event().equals(DaemonEvents.REPMGRD_FAILOVER_FOLLOW))
                    .singleElement().satisfies(e -> {
                        assertThat(e.nodeId()).isEqualTo(3);
                        assertThat(e.details()).hasValue("node \"pg3\" (ID: 3) now following new upstream node \"pg1\" (ID: 1)");
                    });
            assertThat(recorder.has(DaemonEvents.REPMGRD_FAILOVER_PROMOTE)).isFalse();
            assertThat(cluster.metadata().node(3).orElseThrow().upstreamNodeId()).isEqualTo(OptionalInt.of(1));
            await("pg3's daemon to monitor pg1", Duration.ofSeconds(10),
                    () -> d3.status().upstreamNodeId().equals(OptionalInt.of(1)) && d3.status().mode() == DaemonMode.MONITORING);
            await("pg1's daemon to see pg3 connect", Duration.ofSeconds(10),
                    () -> !DaemonTestSupport.stored(cluster, DaemonEvents.CHILD_NODE_NEW_CONNECT).isEmpty());
            daemons.forEach(FailoverDaemon::close);
            DaemonTestSupport.assertNoLeftovers(pg1, pg3);
        } finally {
            daemons.forEach(FailoverDaemon::close);
        }
    }
}
