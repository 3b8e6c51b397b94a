package io.repmgr4j.core.daemon;

import static io.repmgr4j.core.daemon.DaemonTestSupport.await;
import static io.repmgr4j.core.daemon.DaemonTestSupport.config;
import static io.repmgr4j.core.daemon.DaemonTestSupport.fast;
import static io.repmgr4j.core.daemon.DaemonTestSupport.sleep;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.repmgr4j.DaemonEvents;
import io.repmgr4j.DaemonMode;
import io.repmgr4j.DaemonOptions;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.FailoverDaemon;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.core.ReplicationClusters;
import io.repmgr4j.spi.EventListener;
import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import io.repmgr4j.testkit.PgWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The primary's isolation watch and its readonly fence on real servers (pg1 primary, pg2
 * and pg3 standbys, a daemon on each, primary_isolation_timeout 2 s): settings that break
 * fence-before-promotion are refused at start; one standby lost is no isolation; both
 * standbys lost (servers and daemons) fence the primary, after which no write is
 * acknowledged and no client can undo it; when the standbys come back and nobody was
 * promoted, the fence is lifted on the same timeline.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class IsolationFenceTest {
    private static final Duration ISOLATION = Duration.ofSeconds(2);

    private PgReplicaSet set;
    private ReplicationCluster cluster;
    private final FailoverDaemon[] daemons = new FailoverDaemon[4];
    private final DaemonTestSupport.Recorder recorder = new DaemonTestSupport.Recorder();
    private final Map<String, Long> firstSeen = new ConcurrentHashMap<>();
    private final EventListener clock = e -> firstSeen.putIfAbsent(e.event() + "@" + e.nodeId(), System.nanoTime());
    private DaemonOptions options;

    @BeforeAll
    void start() {
        set = PgReplicaSet.start(3);
        cluster = ReplicationClusters.connect(set.primary().conninfo());
        cluster.registerPrimary(config(1, set.server("pg1"), 100)).execute();
        cluster.registerStandby(config(2, set.server("pg2"), 80)).waitUntilAttached(Duration.ofSeconds(30)).execute();
        cluster.registerStandby(config(3, set.server("pg3"), 20)).waitUntilAttached(Duration.ofSeconds(30)).execute();
        options = DaemonOptions.builder().from(fast()).primaryIsolationTimeout(ISOLATION).build();
    }

    @AfterAll
    void stop() {
        for (FailoverDaemon d : daemons) {
            if (d != null) {
                d.close();
            }
        }
        if (cluster != null) {
            cluster.close();
        }
        if (set != null) {
            set.close();
        }
    }

    private FailoverDaemon daemon(int id, DaemonOptions o) {
        int priority = id == 1 ? 100 : id == 2 ? 80 : 20;
        return cluster.daemon(config(id, set.server("pg" + id), priority), o).addListener(recorder).addListener(clock);
    }

    @Test
    @Order(1)
    void settingsThatBreakFenceBeforePromotionAreRefused() {
        assertThatThrownBy(() -> daemon(1, DaemonOptions.builder().from(options)
                .primaryIsolationTimeout(Duration.ofMillis(500)).build()).start())
                .isInstanceOfSatisfying(ReplicationException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.BAD_CONFIG);
                    assertThat(e.getMessage()).contains("primary_isolation_timeout 500 ms is not longer than one isolation"
                            + " probe round (1100 ms)");
                });
        daemons[1] = daemon(1, options).start();
        daemons[2] = daemon(2, options).start();
        // node 3 would take up to 9 s to fence itself as primary, while nodes 1 and 2 may promote 3 s after a cut
        assertThatThrownBy(() -> daemon(3, DaemonOptions.builder().from(options)
                .primaryIsolationTimeout(Duration.ofSeconds(8)).build()).start())
                .isInstanceOfSatisfying(ReplicationException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.BAD_CONFIG);
                    assertThat(e.getMessage()).contains("fence before promotion is not guaranteed")
                            .contains("could promote 3000 ms").contains("up to 9000 ms to fence itself");
                    assertThat(e.hint().orElse("")).contains("primary_isolation_timeout");
                });
        daemons[3] = daemon(3, options).start();
        await("three daemons monitoring", Duration.ofSeconds(10), () -> daemons[2].status().upstreamLastSeen().isPresent()
                && daemons[3].status().upstreamLastSeen().isPresent());
    }

    @Test
    @Order(2)
    void oneStandbyLostIsNoIsolation() {
        PgServer pg1 = set.server("pg1");
        PgServer pg3 = set.server("pg3");
        daemons[3].close();
        pg3.kill9();
        sleep(ISOLATION.multipliedBy(3).toMillis());
        assertThat(pg1.inRecovery()).isFalse();
        assertThat(recorder.names()).doesNotContain(DaemonEvents.PRIMARY_ISOLATED, DaemonEvents.PRIMARY_FENCED);
        assertThat(daemons[1].status().mode()).isEqualTo(DaemonMode.MONITORING);
        pg3.start();
        pg1.waitForStreaming(pg3, Duration.ofSeconds(30));
        daemons[3] = daemon(3, options).start();
    }

    @Test
    @Order(3)
    void bothStandbysLostFenceThePrimaryAndNoWriteIsAcknowledgedAfter() throws SQLException {
        PgServer pg1 = set.server("pg1");
        int timeline = pg1.query("SELECT timeline_id FROM pg_control_checkpoint()", Integer.class);
        try (PgWriter writer = PgWriter.start(List.of(pg1), Duration.ofMillis(5))) {
            writer.awaitCommits(50, Duration.ofSeconds(10));
            daemons[2].close();
            daemons[3].close();
            long cut = System.nanoTime();
            set.server("pg2").kill9();
            set.server("pg3").kill9();

            await("pg1 to fence itself", Duration.ofSeconds(60), () -> firstSeen.containsKey(DaemonEvents.PRIMARY_FENCED + "@1"));
            long isolated = firstSeen.get(DaemonEvents.PRIMARY_ISOLATED + "@1");
            long fenced = firstSeen.get(DaemonEvents.PRIMARY_FENCED + "@1");
            await("pg1 back as a read-only standby", Duration.ofSeconds(60), () -> {
                try {
                    return pg1.isRunning() && pg1.inRecovery();
                } catch (RuntimeException e) {
                    return false;
                }
            });
            sleep(500);
            writer.stop();
            OptionalLong after = writer.firstCommitAfter(fenced);
            System.out.printf("isolation fence: standbys killed -> primary_isolated %d ms, -> fence done %d ms"
                            + " (computed longest cut-to-fence %d ms); writes acknowledged after isolation was detected: %s;"
                            + " after the fence: %s%n",
                    (isolated - cut) / 1_000_000, (fenced - cut) / 1_000_000,
                    ISOLATION.plus(FenceSettings.FENCE_DEADLINE).toMillis(),
                    writer.firstCommitAfter(isolated).isPresent() ? "some" : "none", after.isPresent() ? "some" : "none");
            assertThat(after).isEmpty();
            assertThat(writer.missingOn(pg1)).isEmpty();
        }
        // reads work, writes are refused whatever the session sets
        assertThat(pg1.query("SELECT count(*) > 0 FROM repmgr4j_writes", Boolean.class)).isTrue();
        try (Connection c = pg1.connect(); Statement st = c.createStatement()) {
            st.execute("SET default_transaction_read_only = off");
            assertThatThrownBy(() -> st.execute("INSERT INTO repmgr4j_writes (id) VALUES (-1)"))
                    .isInstanceOf(SQLException.class).hasMessageContaining("read-only");
        }
        assertThat(pg1.query("SELECT timeline_id FROM pg_control_checkpoint()", Integer.class)).isEqualTo(timeline);
        await("pg1's daemon in fenced mode", Duration.ofSeconds(10), () -> daemons[1].status().mode() == DaemonMode.FENCED);
        assertThat(recorder.events).filteredOn(e -> e.event().equals(DaemonEvents.PRIMARY_FENCED)).singleElement()
                .satisfies(e -> assertThat(e.details().orElse("")).contains("fencing=readonly")
                        .contains("restarted as a read-only standby"));
    }

    @Test
    @Order(4)
    void quorumBackAndNobodyPromotedLiftsTheFenceOnTheSameTimeline() {
        PgServer pg1 = set.server("pg1");
        int timeline = pg1.query("SELECT timeline_id FROM pg_control_checkpoint()", Integer.class);
        set.server("pg2").start();
        set.server("pg3").start();
        daemons[2] = daemon(2, options).start();
        daemons[3] = daemon(3, options).start();
        await("the fence to be lifted", Duration.ofSeconds(60), () -> recorder.has(DaemonEvents.PRIMARY_FENCE_LIFTED));
        await("pg1 writable again", Duration.ofSeconds(60), () -> DaemonTestSupport.isPrimary(pg1));
        pg1.execute("INSERT INTO repmgr4j_writes (id) VALUES (-2)");
        assertThat(pg1.query("SELECT timeline_id FROM pg_control_checkpoint()", Integer.class)).isEqualTo(timeline);
        pg1.waitForStreaming(set.server("pg2"), Duration.ofSeconds(60));
        await("the isolation and fence events stored on pg1", Duration.ofSeconds(30),
                () -> !DaemonTestSupport.stored(cluster, DaemonEvents.PRIMARY_FENCED).isEmpty()
                        && !DaemonTestSupport.stored(cluster, DaemonEvents.PRIMARY_ISOLATED).isEmpty());
        await("pg1's daemon monitoring again", Duration.ofSeconds(10), () -> daemons[1].status().mode() == DaemonMode.MONITORING);
        assertThat(set.server("pg2").inRecovery()).isTrue();
        assertThat(set.server("pg3").inRecovery()).isTrue();
    }
}
