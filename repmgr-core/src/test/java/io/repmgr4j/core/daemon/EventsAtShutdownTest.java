package io.repmgr4j.core.daemon;

import static io.repmgr4j.core.daemon.DaemonTestSupport.await;
import static io.repmgr4j.core.daemon.DaemonTestSupport.config;
import static io.repmgr4j.core.daemon.DaemonTestSupport.fast;
import static io.repmgr4j.core.daemon.DaemonTestSupport.isPrimary;
import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.DaemonEvents;
import io.repmgr4j.DaemonOptions;
import io.repmgr4j.FailoverDaemon;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.core.ReplicationClusters;
import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * An old primary's daemon fences its stopped server after a failover (standby.signal) and
 * is stopped right after, before its next search for a writable primary: the
 * {@code primary_fenced} event it queued is stored on the new primary at shutdown, not lost.
 */
class EventsAtShutdownTest {

    @Test
    void aFenceRecordedWhileTheServerIsDownIsStoredWhenTheDaemonStops() {
        try (PgReplicaSet set = PgReplicaSet.start(2);
             ReplicationCluster cluster = ReplicationClusters.connect(set.primary().conninfo())) {
            PgServer pg1 = set.server("pg1");
            PgServer pg2 = set.server("pg2");
            cluster.registerPrimary(config(1, pg1, 100)).execute();
            cluster.registerStandby(config(2, pg2, 80)).waitUntilAttached(Duration.ofSeconds(30)).execute();
            DaemonOptions options = DaemonOptions.builder().from(fast()).primaryIsolationTimeout(Duration.ofSeconds(2)).build();
            DaemonTestSupport.Recorder recorder = new DaemonTestSupport.Recorder();
            try (FailoverDaemon d2 = cluster.daemon(config(2, pg2, 80), options).start()) {
                FailoverDaemon d1 = cluster.daemon(config(1, pg1, 100), options).addListener(recorder).start();
                try {
                    await("pg2's daemon to see pg1", Duration.ofSeconds(10), () -> d2.status().upstreamLastSeen().isPresent());
                    pg1.kill9();
                    await("pg2 promoted", Duration.ofSeconds(30), () -> isPrimary(pg2));
                    await("pg1's daemon to fence its stopped server", Duration.ofSeconds(30),
                            () -> recorder.has(DaemonEvents.PRIMARY_FENCED));
                } finally {
                    d1.close(); // at once: its last search for a primary was moments ago
                }
                assertThat(DaemonTestSupport.stored(cluster, DaemonEvents.PRIMARY_FENCED))
                        .anySatisfy(e -> assertThat(e.nodeId()).isEqualTo(1));
                assertThat(pg1.dataDirectory().resolve("standby.signal")).exists();
            }
            DaemonTestSupport.assertNoLeftovers(pg2);
        }
    }
}
