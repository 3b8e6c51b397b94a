package io.repmgr4j.core.daemon;

import static io.repmgr4j.core.daemon.DaemonTestSupport.await;
import static io.repmgr4j.core.daemon.DaemonTestSupport.config;
import static io.repmgr4j.core.daemon.DaemonTestSupport.fast;
import static io.repmgr4j.core.daemon.DaemonTestSupport.isPrimary;
import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.DaemonEvents;
import io.repmgr4j.DaemonMode;
import io.repmgr4j.DaemonOptions;
import io.repmgr4j.EventRecord;
import io.repmgr4j.FailoverDaemon;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.NodeServiceStatus;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.ServiceStatus;
import io.repmgr4j.core.ReplicationClusters;
import io.repmgr4j.format.ServiceStatusFormat;
import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * When the daemons must not fail over, on one 3-node set: the primary restarts within the
 * reconnect window; the standbys are in another location than the primary; every standby
 * has priority 0; the daemons are paused. Each case kills (or restarts) the primary and
 * brings it back. Last, after unpausing, a kill does fail over.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FailoverGuardsTest {
    private PgReplicaSet set;
    private ReplicationCluster cluster;
    private final List<FailoverDaemon> daemons = new ArrayList<>();
    private DaemonTestSupport.Recorder recorder;

    @BeforeAll
    void start() {
        set = PgReplicaSet.start(3, b -> b.setting("wal_retrieve_retry_interval", "200ms"));
        cluster = ReplicationClusters.connect(set.primary().conninfo());
        cluster.registerPrimary(config(1, set.server("pg1"), 100)).execute();
        cluster.registerStandby(config(2, set.server("pg2"), 100)).waitUntilAttached(Duration.ofSeconds(30)).execute();
        cluster.registerStandby(config(3, set.server("pg3"), 100)).waitUntilAttached(Duration.ofSeconds(30)).execute();
    }

    @AfterAll
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
        if (set != null) {
            set.close();
        }
    }

    @AfterEach
    void closeDaemons() {
        daemons.forEach(FailoverDaemon::close);
        daemons.clear();
    }

    private void startDaemons(DaemonOptions options) {
        recorder = new DaemonTestSupport.Recorder();
        int id = 1;
        for (PgServer s : set.servers()) {
            daemons.add(cluster.daemon(config(id++, s, 100), options).addListener(recorder).start());
        }
        await("standby daemons to see pg1", Duration.ofSeconds(10), () -> daemons.get(1).status().upstreamLastSeen().isPresent()
                && daemons.get(2).status().upstreamLastSeen().isPresent());
    }

    private void update(int nodeId, UnaryOperator<NodeRecord> change) {
        NodeRecord r = cluster.metadata().node(nodeId).orElseThrow();
        cluster.metadata().updateNode(change.apply(r));
    }

    /** Kills pg1, waits until both standby daemons gave up on a failover, checks nobody was promoted, starts pg1 again. */
    private void killAndExpectNoFailover() {
        set.server("pg1").kill9();
        await("both standby daemons to be degraded", Duration.ofSeconds(20),
                () -> daemons.get(1).status().mode() == DaemonMode.DEGRADED && daemons.get(2).status().mode() == DaemonMode.DEGRADED);
        assertThat(set.server("pg2").inRecovery()).isTrue();
        assertThat(set.server("pg3").inRecovery()).isTrue();
        assertThat(recorder.has(DaemonEvents.REPMGRD_FAILOVER_PROMOTE)).isFalse();
        restartPrimary();
    }

    private void restartPrimary() {
        set.server("pg1").start();
        await("standby daemons to monitor pg1 again", Duration.ofSeconds(20),
                () -> daemons.get(1).status().mode() == DaemonMode.MONITORING && daemons.get(2).status().mode() == DaemonMode.MONITORING);
        set.server("pg1").waitForStreaming(set.server("pg2"), Duration.ofSeconds(30));
        set.server("pg1").waitForStreaming(set.server("pg3"), Duration.ofSeconds(30));
    }

    @Test
    @Order(1)
    void primaryRestartingWithinTheReconnectWindowCausesNoFailover() {
        startDaemons(DaemonOptions.builder().from(fast()).reconnectInterval(Duration.ofMillis(500)).build());
        // reconnect_attempts 6, 500 ms apart: a 2.5 s window for a restart that takes about one
        List<FailoverDaemon> standbyDaemons = daemons.subList(1, 3);
        // both standbys' watch connections must be in place, or a quick restart can fall
        // between two checks of a standby that has not connected its watch yet
        await("both standby daemons to watch pg1", Duration.ofSeconds(10), () -> set.server("pg1").query(
                "SELECT count(*) FROM pg_stat_activity WHERE query = 'LISTEN repmgr4j_daemon_watch'", Long.class) == 2);
        set.server("pg1").restart();
        await("both standby daemons to reconnect", Duration.ofSeconds(20), () ->
                recorder.events.stream().filter(e -> e.event().equals(DaemonEvents.REPMGRD_UPSTREAM_RECONNECT)).count() == 2);
        assertThat(standbyDaemons).allSatisfy(d -> assertThat(d.status().mode()).isEqualTo(DaemonMode.MONITORING));
        assertThat(isPrimary(set.server("pg1"))).isTrue();
        assertThat(set.server("pg2").inRecovery()).isTrue();
        assertThat(set.server("pg3").inRecovery()).isTrue();
        assertThat(recorder.names()).doesNotContain(DaemonEvents.REPMGRD_FAILOVER_PROMOTE, DaemonEvents.REPMGRD_FAILOVER_FOLLOW,
                DaemonEvents.REPMGRD_FAILOVER_ABORTED);
        await("the disconnect and reconnect stored on pg1", Duration.ofSeconds(10),
                () -> DaemonTestSupport.stored(cluster, DaemonEvents.REPMGRD_UPSTREAM_RECONNECT).size() >= 2);
        assertThat(DaemonTestSupport.stored(cluster, DaemonEvents.REPMGRD_UPSTREAM_DISCONNECT)).hasSizeGreaterThanOrEqualTo(2);
        assertThat(DaemonTestSupport.stored(cluster, DaemonEvents.REPMGRD_UPSTREAM_RECONNECT).get(0).details().orElse(""))
                .startsWith("reconnected to upstream node \"pg1\" (ID: 1) after ");
    }

    @Test
    @Order(2)
    void standbysInAnotherLocationThanThePrimaryDoNotPromote() {
        update(1, r -> NodeRecord.builder().from(r).location("dc1").build());
        update(2, r -> NodeRecord.builder().from(r).location("dc2").build());
        update(3, r -> NodeRecord.builder().from(r).location("dc2").build());
        try {
            startDaemons(fast());
            killAndExpectNoFailover();
            List<EventRecord> aborted = recorder.events.stream()
                    .filter(e -> e.event().equals(DaemonEvents.REPMGRD_FAILOVER_ABORTED)).toList();
            assertThat(aborted).hasSize(2).allSatisfy(e -> assertThat(e.details().orElse(""))
                    .contains("no visible node is in the failed primary's location \"dc1\""));
            // written while no primary was reachable, stored once pg1 was back
            await("the aborted failovers stored on pg1", Duration.ofSeconds(10),
                    () -> DaemonTestSupport.stored(cluster, DaemonEvents.REPMGRD_FAILOVER_ABORTED).size() == 2);
        } finally {
            for (int id = 1; id <= 3; id++) {
                update(id, r -> NodeRecord.builder().from(r).location("default").build());
            }
        }
    }

    @Test
    @Order(3)
    void standbysWithPriorityZeroAreNeverPromoted() {
        update(2, r -> NodeRecord.builder().from(r).priority(0).build());
        update(3, r -> NodeRecord.builder().from(r).priority(0).build());
        try {
            startDaemons(fast());
            killAndExpectNoFailover();
            assertThat(recorder.events).filteredOn(e -> e.event().equals(DaemonEvents.REPMGRD_FAILOVER_ABORTED))
                    .hasSize(2).allSatisfy(e -> assertThat(e.details().orElse("")).contains("no node can be promoted"));
        } finally {
            update(2, r -> NodeRecord.builder().from(r).priority(100).build());
            update(3, r -> NodeRecord.builder().from(r).priority(100).build());
        }
    }

    @Test
    @Order(4)
    void pausedDaemonsKeepMonitoringButDoNotFailOverAndUnpausedOnesDo() {
        startDaemons(fast());
        List<NodeRecord> paused = cluster.pauseDaemons().waitUntilApplied(Duration.ofSeconds(10)).execute();
        assertThat(paused).extracting(NodeRecord::nodeId).containsExactly(1, 2, 3);
        assertThat(daemons).allSatisfy(d -> assertThat(d.status().paused()).isTrue());

        set.server("pg1").kill9();
        await("both standby daemons to be degraded", Duration.ofSeconds(20),
                () -> daemons.get(1).status().mode() == DaemonMode.DEGRADED && daemons.get(2).status().mode() == DaemonMode.DEGRADED);
        assertThat(set.server("pg2").inRecovery()).isTrue();
        assertThat(set.server("pg3").inRecovery()).isTrue();
        assertThat(recorder.names()).doesNotContain(DaemonEvents.REPMGRD_FAILOVER_PROMOTE, DaemonEvents.REPMGRD_FAILOVER_ABORTED);

        try (ReplicationCluster viaStandby = ReplicationClusters.connect(set.server("pg2").conninfo())) {
            ServiceStatus status = viaStandby.serviceStatus().timeout(Duration.ofSeconds(5)).execute();
            NodeServiceStatus pg2 = status.node(2).orElseThrow();
            assertThat(pg2.daemonRunning()).hasValue(true);
            assertThat(pg2.paused()).hasValue(true);
            assertThat(pg2.daemonMode()).hasValue(DaemonMode.DEGRADED);
            assertThat(pg2.daemonPid()).hasValue(ProcessHandle.current().pid());
            assertThat(pg2.upstreamLastSeen()).hasValueSatisfying(d -> assertThat(d).isPositive());
            assertThat(status.node(1).orElseThrow().daemonRunning()).isEmpty();
            String table = ServiceStatusFormat.table(status);
            assertThat(table.split("\n")[0])
                    .isEqualTo(" ID | Name | Role    | Status        | Upstream | repmgrd | PID" + " ".repeat(pid().length() - 3)
                            + " | Paused? | Upstream last seen");
            assertThat(table).contains(" 1  | pg1  | primary | ? unreachable | ?        | n/a     | n/a")
                    .containsPattern(" 2  \\| pg2  \\| standby \\|   running     \\| \\? pg1    \\| running \\| " + pid()
                            + " \\| yes     \\| \\d+ second\\(s\\) ago")
                    .contains("WARNING: following issues were detected");
        }

        restartPrimary();
        cluster.unpauseDaemons().waitUntilApplied(Duration.ofSeconds(10)).execute();
        assertThat(daemons).allSatisfy(d -> assertThat(d.status().paused()).isFalse());
        set.server("pg1").kill9();
        await("a standby to be promoted", Duration.ofSeconds(30),
                () -> isPrimary(set.server("pg2")) || isPrimary(set.server("pg3")));
        PgServer winner = isPrimary(set.server("pg2")) ? set.server("pg2") : set.server("pg3");
        PgServer loser = winner == set.server("pg2") ? set.server("pg3") : set.server("pg2");
        await("the other standby to follow", Duration.ofSeconds(30), () -> recorder.has(DaemonEvents.REPMGRD_FAILOVER_FOLLOW));
        winner.waitForStreaming(loser, Duration.ofSeconds(10));
        assertThat(isPrimary(loser)).isFalse();
        // equal LSN and priority: the lowest node id wins
        assertThat(winner.name()).isEqualTo("pg2");
    }

    private static String pid() {
        return String.valueOf(ProcessHandle.current().pid());
    }
}
