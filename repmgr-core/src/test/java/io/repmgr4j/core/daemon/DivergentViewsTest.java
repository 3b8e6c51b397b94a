package io.repmgr4j.core.daemon;

import static io.repmgr4j.core.daemon.DaemonTestSupport.await;
import static io.repmgr4j.core.daemon.DaemonTestSupport.config;
import static io.repmgr4j.core.daemon.DaemonTestSupport.fast;
import static io.repmgr4j.core.daemon.DaemonTestSupport.isPrimary;
import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.DaemonEvents;
import io.repmgr4j.FailoverDaemon;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.core.ReplicationClusters;
import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Two standbys that each believe they should win: pg2 has not replayed the priority
 * change that pg3 has (pg2's replay is paused), so in pg2's copy of the metadata pg2 has
 * the higher priority and in pg3's copy pg3 has. Both claim the promotion; the claims
 * make one of them step back, so exactly one is promoted and the other follows it.
 */
class DivergentViewsTest {

    @Test
    void standbysThatBothThinkTheyWinStillPromoteOnlyOne() {
        List<FailoverDaemon> daemons = new ArrayList<>();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger maxWritable = new AtomicInteger();
        Thread sampler = null;
        try (PgReplicaSet set = PgReplicaSet.start(3, b -> b.setting("wal_retrieve_retry_interval", "200ms"));
             ReplicationCluster cluster = ReplicationClusters.connect(set.primary().conninfo())) {
            PgServer pg1 = set.server("pg1");
            PgServer pg2 = set.server("pg2");
            PgServer pg3 = set.server("pg3");
            cluster.registerPrimary(config(1, pg1, 100)).execute();
            cluster.registerStandby(config(2, pg2, 100)).waitUntilAttached(Duration.ofSeconds(30)).execute();
            cluster.registerStandby(config(3, pg3, 50)).waitUntilAttached(Duration.ofSeconds(30)).execute();

            pg2.execute("SELECT pg_wal_replay_pause()");
            await("pg2's replay to pause", Duration.ofSeconds(10),
                    () -> "paused".equals(pg2.query("SELECT pg_get_wal_replay_pause_state()", String.class)));
            cluster.metadata().updateNode(NodeRecord.builder().from(cluster.metadata().node(2).orElseThrow()).priority(50).build());
            cluster.metadata().updateNode(NodeRecord.builder().from(cluster.metadata().node(3).orElseThrow()).priority(100).build());
            String lsn = pg1.query("SELECT pg_current_wal_lsn()::text", String.class);
            await("both standbys to receive " + lsn, Duration.ofSeconds(10), () -> List.of(pg2, pg3).stream().allMatch(s ->
                    Boolean.TRUE.equals(s.query("SELECT pg_last_wal_receive_lsn() >= '" + lsn + "'::pg_lsn", Boolean.class))));
            await("pg3 to see the new priorities", Duration.ofSeconds(10),
                    () -> Integer.valueOf(100).equals(pg3.query("SELECT priority FROM repmgr.nodes WHERE node_id = 3", Integer.class)));
            assertThat(pg2.query("SELECT priority FROM repmgr.nodes WHERE node_id = 2", Integer.class)).isEqualTo(100);

            DaemonTestSupport.Recorder recorder = new DaemonTestSupport.Recorder();
            daemons.add(cluster.daemon(config(2, pg2, 50), fast()).addListener(recorder).start());
            daemons.add(cluster.daemon(config(3, pg3, 100), fast()).addListener(recorder).start());
            await("daemons to see pg1", Duration.ofSeconds(10), () -> daemons.stream()
                    .allMatch(d -> d.status().upstreamLastSeen().isPresent()));

            sampler = new Thread(() -> {
                while (!stop.get()) {
                    int w = (isPrimary(pg2) ? 1 : 0) + (isPrimary(pg3) ? 1 : 0);
                    maxWritable.accumulateAndGet(w, Math::max);
                    DaemonTestSupport.sleep(5);
                }
            }, "divergent-sampler");
            sampler.start();

            pg1.kill9();

            await("a standby to be promoted and the other to follow", Duration.ofSeconds(60),
                    () -> recorder.has(DaemonEvents.REPMGRD_FAILOVER_FOLLOW));
            PgServer winner = isPrimary(pg2) ? pg2 : pg3;
            PgServer loser = winner == pg2 ? pg3 : pg2;
            winner.waitForStreaming(loser, Duration.ofSeconds(10));
            stop.set(true);
            sampler.join(5000);
            assertThat(maxWritable.get()).as("standbys writable at the same time").isEqualTo(1);
            assertThat(recorder.events).filteredOn(e -> e.event().equals(DaemonEvents.REPMGRD_FAILOVER_PROMOTE))
                    .singleElement().satisfies(e -> assertThat(e.nodeName()).hasValue(winner.name()));
            assertThat(isPrimary(loser)).isFalse();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        } finally {
            stop.set(true);
            daemons.forEach(FailoverDaemon::close);
        }
    }
}
