package io.repmgr4j.core.daemon;

import static io.repmgr4j.core.daemon.DaemonTestSupport.await;
import static io.repmgr4j.core.daemon.DaemonTestSupport.config;
import static io.repmgr4j.core.daemon.DaemonTestSupport.fast;
import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.DaemonEvents;
import io.repmgr4j.DaemonMode;
import io.repmgr4j.DaemonState;
import io.repmgr4j.FailoverDaemon;
import io.repmgr4j.NodeType;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.core.ReplicationClusters;
import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * A daemon started while its local server is down runs, reports the local node down, and
 * finishes its start (checks, repmgrd_start, monitoring) once the server answers, as
 * repmgrd's loop does, for a standby and for the primary.
 */
class DaemonStartWhileLocalDownTest {

    @Test
    void theDaemonWaitsForItsServerAndThenMonitors() {
        try (PgReplicaSet set = PgReplicaSet.start(2);
             ReplicationCluster cluster = ReplicationClusters.connect(set.primary().conninfo())) {
            PgServer pg1 = set.server("pg1");
            PgServer pg2 = set.server("pg2");
            cluster.registerPrimary(config(1, pg1, 100)).execute();
            cluster.registerStandby(config(2, pg2, 80)).waitUntilAttached(Duration.ofSeconds(30)).execute();
            DaemonTestSupport.Recorder recorder = new DaemonTestSupport.Recorder();

            pg2.stop();
            try (FailoverDaemon d2 = cluster.daemon(config(2, pg2, 80), fast()).addListener(recorder).start()) {
                assertThat(d2.state()).isEqualTo(DaemonState.RUNNING);
                assertThat(d2.status().mode()).isEqualTo(DaemonMode.LOCAL_DOWN);
                DaemonTestSupport.sleep(1000);
                assertThat(d2.status().mode()).isEqualTo(DaemonMode.LOCAL_DOWN);
                assertThat(recorder.names()).doesNotContain(DaemonEvents.REPMGRD_START);
                pg2.start();
                await("the standby's daemon to monitor its upstream", Duration.ofSeconds(30),
                        () -> d2.status().mode() == DaemonMode.MONITORING && d2.status().upstreamLastSeen().isPresent());
                assertThat(d2.status().localRole()).isEqualTo(Optional.of(NodeType.STANDBY));
                assertThat(recorder.names()).contains(DaemonEvents.REPMGRD_LOCAL_DISCONNECT, DaemonEvents.REPMGRD_START,
                        DaemonEvents.REPMGRD_LOCAL_RECONNECT);
            }

            pg1.stop();
            try (FailoverDaemon d1 = cluster.daemon(config(1, pg1, 100), fast()).addListener(recorder).start()) {
                assertThat(d1.status().mode()).isEqualTo(DaemonMode.LOCAL_DOWN);
                pg1.start();
                await("the primary's daemon to monitor", Duration.ofSeconds(30),
                        () -> d1.status().mode() == DaemonMode.MONITORING
                                && d1.status().localRole().equals(Optional.of(NodeType.PRIMARY)));
                assertThat(pg1.inRecovery()).isFalse();
            }
            DaemonTestSupport.assertNoLeftovers(pg1, pg2);
        }
    }
}
