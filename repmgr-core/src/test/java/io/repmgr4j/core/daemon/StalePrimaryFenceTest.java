package io.repmgr4j.core.daemon;

import static io.repmgr4j.core.daemon.DaemonTestSupport.await;
import static io.repmgr4j.core.daemon.DaemonTestSupport.config;
import static io.repmgr4j.core.daemon.DaemonTestSupport.fast;
import static io.repmgr4j.core.daemon.DaemonTestSupport.isPrimary;
import static io.repmgr4j.core.daemon.DaemonTestSupport.sleep;
import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.ClusterStatus;
import io.repmgr4j.DaemonEvents;
import io.repmgr4j.DaemonMode;
import io.repmgr4j.DaemonOptions;
import io.repmgr4j.FailoverDaemon;
import io.repmgr4j.NodeState;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.core.ReplicationClusters;
import io.repmgr4j.format.ClusterShowFormat;
import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * An old primary restarted after a failover, with readonly fencing on real servers:
 * <ol>
 *   <li>kill -9 of pg1 while its daemon keeps running: the failover is as fast as
 *       before (the port refuses: positive evidence, no fence hold), and pg1's daemon
 *       puts standby.signal in place while the server is down, so pg1 starts as a
 *       read-only standby and never accepts a write;</li>
 *   <li>kill -9 of the new primary pg2 with its daemon stopped: pg3 takes over; pg2 is
 *       started again as a writable primary on its old timeline, and cluster show (reached
 *       through the stale node) names pg3 {@code * running}, pg2
 *       {@code ! running as primary} and warns of two writable primaries; pg2's daemon,
 *       started then, fences it in its first cycle.</li>
 * </ol>
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StalePrimaryFenceTest {
    private PgReplicaSet set;
    private ReplicationCluster cluster;
    private final FailoverDaemon[] daemons = new FailoverDaemon[4];
    private final DaemonTestSupport.Recorder recorder = new DaemonTestSupport.Recorder();
    private DaemonOptions options;

    @BeforeAll
    void start() {
        set = PgReplicaSet.start(3);
        cluster = ReplicationClusters.connect(set.primary().conninfo());
        cluster.registerPrimary(config(1, set.server("pg1"), 100)).execute();
        cluster.registerStandby(config(2, set.server("pg2"), 80)).waitUntilAttached(Duration.ofSeconds(30)).execute();
        cluster.registerStandby(config(3, set.server("pg3"), 20)).waitUntilAttached(Duration.ofSeconds(30)).execute();
        options = DaemonOptions.builder().from(fast()).primaryIsolationTimeout(Duration.ofSeconds(2)).build();
        for (int id = 1; id <= 3; id++) {
            daemons[id] = daemon(id);
        }
    }

    private FailoverDaemon daemon(int id) {
        int priority = id == 1 ? 100 : id == 2 ? 80 : 20;
        return cluster.daemon(config(id, set.server("pg" + id), priority), options).addListener(recorder).start();
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

    @Test
    @Order(1)
    void killNineFailsOverFastAndTheOldPrimaryStartsFenced() {
        PgServer pg1 = set.server("pg1");
        PgServer pg2 = set.server("pg2");
        await("standbys to see pg1", Duration.ofSeconds(10), () -> daemons[2].status().upstreamLastSeen().isPresent()
                && daemons[3].status().upstreamLastSeen().isPresent());
        long t0 = System.nanoTime();
        pg1.kill9();
        await("pg2 promoted", Duration.ofSeconds(30), () -> isPrimary(pg2));
        System.out.printf("kill -9 -> new primary writable: %d ms (fence hold %d ms skipped: the port refused)%n",
                (System.nanoTime() - t0) / 1_000_000, 3000);
        await("pg1's daemon to put standby.signal in place", Duration.ofSeconds(30),
                () -> recorder.has(DaemonEvents.PRIMARY_FENCED));
        pg1.start();
        assertThat(pg1.inRecovery()).isTrue();
        await("pg1's daemon in fenced mode", Duration.ofSeconds(10), () -> daemons[1].status().mode() == DaemonMode.FENCED);
        sleep(2000);
        assertThat(pg1.inRecovery()).as("another node was promoted: the fence stays").isTrue();
        assertThat(recorder.names()).doesNotContain(DaemonEvents.PRIMARY_FENCE_LIFTED);
        set.server("pg2").waitForStreaming(set.server("pg3"), Duration.ofSeconds(30));
    }

    @Test
    @Order(2)
    void oldPrimaryRestartedBeforeItsDaemonIsShownStaleAndFencedAtDaemonStart() {
        PgServer pg2 = set.server("pg2");
        PgServer pg3 = set.server("pg3");
        await("pg3 to follow pg2", Duration.ofSeconds(30), () -> daemons[3].status().upstreamNodeId().orElse(0) == 2
                && daemons[3].status().upstreamLastSeen().isPresent());
        daemons[2].close();
        pg2.kill9();
        await("pg3 promoted", Duration.ofSeconds(30), () -> isPrimary(pg3));
        pg2.start(); // no daemon: a writable primary on the old timeline
        assertThat(isPrimary(pg2)).isTrue();
        try (ReplicationCluster viaStale = ReplicationClusters.connect(pg2.conninfo())) {
            ClusterStatus status = viaStale.show().timeout(Duration.ofSeconds(5)).execute();
            String table = ClusterShowFormat.table(status);
            System.out.println(table);
            assertThat(status.node(3).orElseThrow().state()).isEqualTo(NodeState.PRIMARY_RUNNING);
            assertThat(status.node(2).orElseThrow().state()).isEqualTo(NodeState.RUNNING_AS_PRIMARY);
            assertThat(status.problems()).anySatisfy(p -> assertThat(p).startsWith("two writable primaries were seen")
                    .contains("node \"pg3\" (ID: 3) is the legitimate primary"));
            assertThat(table).contains("! running as primary").contains("* running");
        }
        long t0 = System.nanoTime();
        daemons[2] = daemon(2);
        await("pg2 fenced by its own daemon", Duration.ofSeconds(30), () -> {
            try {
                return pg2.isRunning() && pg2.inRecovery();
            } catch (RuntimeException e) {
                return false;
            }
        });
        System.out.printf("old primary's daemon started -> server read-only: %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        await("pg2's daemon in fenced mode", Duration.ofSeconds(10), () -> daemons[2].status().mode() == DaemonMode.FENCED);
        assertThat(recorder.events).filteredOn(e -> e.event().equals(DaemonEvents.PRIMARY_FENCED) && e.nodeId() == 2)
                .singleElement().satisfies(e -> assertThat(e.details().orElse("")).contains("stale primary"));
        try (ReplicationCluster after = ReplicationClusters.connect(pg3.conninfo())) {
            ClusterStatus status = after.show().timeout(Duration.ofSeconds(5)).execute();
            assertThat(status.problems()).noneSatisfy(p -> assertThat(p).startsWith("two writable primaries"));
        }
    }
}
