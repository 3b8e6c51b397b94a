package io.repmgr4j.core.daemon;

import static io.repmgr4j.core.daemon.DaemonTestSupport.await;
import static io.repmgr4j.core.daemon.DaemonTestSupport.config;
import static io.repmgr4j.core.daemon.DaemonTestSupport.fast;
import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.DaemonOptions;
import io.repmgr4j.FailoverDaemon;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.SyncEvents;
import io.repmgr4j.SyncMode;
import io.repmgr4j.SynchronousRecord;
import io.repmgr4j.core.ReplicationClusters;
import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import io.repmgr4j.testkit.PgWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * A primary and its only sync standby. Strict: with the standby stopped no commit is
 * acknowledged; they resume when it is back, and none is missing on it. Non-strict: after
 * the degrade timeout the primary drops to asynchronous (event synchronous_degraded) and
 * commits go on; when the standby is back and caught up, synchronous_restored.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SyncStrictDegradeTest {
    private PgReplicaSet set;
    private ReplicationCluster cluster;
    private final List<FailoverDaemon> daemons = new ArrayList<>();
    private final DaemonTestSupport.Recorder recorder = new DaemonTestSupport.Recorder();
    private PgWriter writer;

    @BeforeAll
    void start() {
        set = PgReplicaSet.start(2);
        cluster = ReplicationClusters.connect(set.primary().conninfo());
        cluster.registerPrimary(cfg(1, "pg1")).execute();
        cluster.registerStandby(cfg(2, "pg2")).waitUntilAttached(Duration.ofSeconds(30)).execute();
        // two nodes and no witness: with the isolation fence on, the primary would fence itself as soon as
        // its only standby is gone (a majority of two needs both), which is not what this test is about
        DaemonOptions options = DaemonOptions.builder().from(fast()).fencing(io.repmgr4j.FencingMode.NONE).build();
        daemons.add(cluster.daemon(cfg(1, "pg1"), options).addListener(recorder).start());
        daemons.add(cluster.daemon(cfg(2, "pg2"), options).addListener(recorder).start());
        writer = PgWriter.start(set.servers(), Duration.ofMillis(10));
    }

    @AfterAll
    void stop() {
        if (writer != null) {
            writer.close();
        }
        daemons.forEach(FailoverDaemon::close);
        if (cluster != null) {
            cluster.close();
        }
        if (set != null) {
            set.close();
        }
    }

    private NodeConfig cfg(int id, String name) {
        return config(id, set.server(name), 100);
    }

    @Test
    @Order(1)
    void strictModeHoldsCommitsWhileTheOnlySyncStandbyIsGone() {
        PgServer pg1 = set.server("pg1");
        PgServer pg2 = set.server("pg2");
        cluster.synchronousReplication().mode(SyncMode.PRIORITY).strict(true).apply();
        await("pg2 synchronous", Duration.ofSeconds(20), () -> SyncTestSupport.settled(pg1, SynchronousRecord.Kind.PRIORITY, 1));
        writer.awaitCommits(20, Duration.ofSeconds(20));
        pg2.stop();
        int before = writer.acknowledged();
        DaemonTestSupport.sleep(3000); // longer than the degrade timeout's default would matter: strict never degrades
        assertThat(writer.acknowledged()).as("commits acknowledged without a synchronous standby").isLessThanOrEqualTo(before + 1);
        assertThat(pg1.query("SHOW synchronous_standby_names", String.class)).isEqualTo("FIRST 1 (\"pg2\")");
        pg2.start();
        writer.awaitCommits(20, Duration.ofSeconds(60));
        long now = System.nanoTime();
        await("pg2 to replay what was acknowledged", Duration.ofSeconds(20), () -> writer.missingOn(pg2, now).isEmpty());
        assertThat(writer.missingOn(pg1, now)).isEmpty();
        assertThat(recorder.has(SyncEvents.SYNCHRONOUS_DEGRADED)).isFalse();
    }

    @Test
    @Order(2)
    void nonStrictModeDegradesAfterTheTimeoutAndRestores() {
        PgServer pg1 = set.server("pg1");
        PgServer pg2 = set.server("pg2");
        cluster.synchronousReplication().mode(SyncMode.PRIORITY).strict(false).degradeTimeout(Duration.ofSeconds(2)).apply();
        await("pg2 synchronous", Duration.ofSeconds(30), () -> SyncTestSupport.settled(pg1, SynchronousRecord.Kind.PRIORITY, 1));
        pg2.stop();
        await("synchronous_degraded", Duration.ofSeconds(30), () -> recorder.has(SyncEvents.SYNCHRONOUS_DEGRADED));
        assertThat(SyncTestSupport.record(pg1).orElseThrow().kind()).isEqualTo(SynchronousRecord.Kind.DEGRADED);
        assertThat(pg1.query("SHOW synchronous_standby_names", String.class)).isEmpty();
        writer.awaitCommits(20, Duration.ofSeconds(20)); // asynchronous now: commits go on
        assertThat(recorder.events).filteredOn(e -> e.event().equals(SyncEvents.SYNCHRONOUS_DEGRADED)).first()
                .satisfies(e -> assertThat(e.details().orElse("")).contains("synchronous_degrade_timeout (2 s)"));
        pg2.start();
        await("synchronous_restored", Duration.ofSeconds(30), () -> recorder.has(SyncEvents.SYNCHRONOUS_RESTORED));
        await("pg2 synchronous again", Duration.ofSeconds(30),
                () -> SyncTestSupport.settled(pg1, SynchronousRecord.Kind.PRIORITY, 1));
        try (ReplicationCluster c = ReplicationClusters.connect(pg1.conninfo())) {
            await("the events stored", Duration.ofSeconds(10), () -> !c.events().event(SyncEvents.SYNCHRONOUS_RESTORED).list().isEmpty());
            assertThat(c.events().event(SyncEvents.SYNCHRONOUS_DEGRADED).list()).hasSize(1);
        }
    }
}
