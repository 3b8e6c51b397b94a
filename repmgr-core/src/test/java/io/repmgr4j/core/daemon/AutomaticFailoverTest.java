package io.repmgr4j.core.daemon;

import static io.repmgr4j.core.daemon.DaemonTestSupport.await;
import static io.repmgr4j.core.daemon.DaemonTestSupport.config;
import static io.repmgr4j.core.daemon.DaemonTestSupport.fast;
import static io.repmgr4j.core.daemon.DaemonTestSupport.isPrimary;
import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.ClusterStatus;
import io.repmgr4j.DaemonEvents;
import io.repmgr4j.DaemonMode;
import io.repmgr4j.DaemonOptions;
import io.repmgr4j.EventRecord;
import io.repmgr4j.Events;
import io.repmgr4j.FailoverDaemon;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.NodeState;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.core.ReplicationClusters;
import io.repmgr4j.format.ClusterShowFormat;
import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The seed's step 14 on real servers: pg1 primary, pg2 (priority 80) and pg3 (priority 20)
 * at the same LSN, a daemon on each; kill -9 of pg1 promotes pg2 and pg3 follows it. Then
 * pg1 is started again as a primary: the daemons report two writable primaries and the
 * fencing hook is called, and cluster show flags pg1.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AutomaticFailoverTest {
    private PgReplicaSet set;
    private ReplicationCluster cluster;
    private final List<FailoverDaemon> daemons = new ArrayList<>();
    private final DaemonTestSupport.Recorder recorder = new DaemonTestSupport.Recorder();
    private final List<String> fenced = new CopyOnWriteArrayList<>();

    @BeforeAll
    void start() {
        set = PgReplicaSet.start(3);
        cluster = ReplicationClusters.connect(set.primary().conninfo());
        cluster.registerPrimary(config(1, set.server("pg1"), 100)).execute();
        cluster.registerStandby(config(2, set.server("pg2"), 80)).waitUntilAttached(Duration.ofSeconds(30)).execute();
        cluster.registerStandby(config(3, set.server("pg3"), 20)).waitUntilAttached(Duration.ofSeconds(30)).execute();
        DaemonOptions options = DaemonOptions.builder().from(fast())
                .fencing(io.repmgr4j.FencingMode.NONE) // this test is about reporting; FenceTest covers the fences
                .fencingHook((stale, current) -> fenced.add(stale.nodeName() + "->" + current.nodeName())).build();
        int id = 1;
        for (PgServer s : set.servers()) {
            int priority = id == 1 ? 100 : id == 2 ? 80 : 20;
            daemons.add(cluster.daemon(config(id, s, priority), options).addListener(recorder).start());
            id++;
        }
    }

    @AfterAll
    void stop() {
        daemons.forEach(FailoverDaemon::close);
        if (cluster != null) {
            cluster.close();
        }
        if (set != null) {
            set.close();
        }
    }

    @Test
    @Order(1)
    void daemonsStartAndPublishTheirState() {
        await("three repmgrd_start events", Duration.ofSeconds(10),
                () -> recorder.events.stream().filter(e -> e.event().equals(DaemonEvents.REPMGRD_START)).count() == 3);
        assertThat(daemons).allSatisfy(d -> assertThat(d.status().mode()).isEqualTo(DaemonMode.MONITORING));
        await("standbys to see their upstream", Duration.ofSeconds(10),
                () -> daemons.get(1).status().upstreamLastSeen().isPresent());
        assertThat(daemons.get(2).status().upstreamNodeId()).hasValue(1);
        assertThat(DaemonTestSupport.stored(cluster, DaemonEvents.REPMGRD_START)).extracting(e -> e.details().orElse(""))
                .contains("monitoring cluster primary node \"pg1\" (ID: 1)",
                        "monitoring connection to upstream node \"pg1\" (ID: 1)");
    }

    @Test
    @Order(2)
    void killingThePrimaryPromotesTheHigherPriorityStandbyAndTheOtherFollows() {
        PgServer pg1 = set.server("pg1");
        PgServer pg2 = set.server("pg2");
        PgServer pg3 = set.server("pg3");
        pg1.execute("CREATE TABLE failover_probe (i int)");
        pg1.execute("INSERT INTO failover_probe VALUES (1)");
        String lsn = pg1.query("SELECT pg_current_wal_lsn()::text", String.class);
        await("both standbys to replay " + lsn, Duration.ofSeconds(10), () ->
                Boolean.TRUE.equals(pg2.query("SELECT pg_last_wal_replay_lsn() >= '" + lsn + "'::pg_lsn", Boolean.class))
                        && Boolean.TRUE.equals(pg3.query("SELECT pg_last_wal_replay_lsn() >= '" + lsn + "'::pg_lsn", Boolean.class)));
        int termBefore = cluster.metadata().votingTerm();

        pg1.kill9();

        await("pg2 to be promoted", Duration.ofSeconds(30), () -> isPrimary(pg2));
        await("pg3 to follow pg2", Duration.ofSeconds(30), () -> recorder.has(DaemonEvents.REPMGRD_FAILOVER_FOLLOW));
        assertThat(pg3.inRecovery()).isTrue();
        pg2.waitForStreaming(pg3, Duration.ofSeconds(10));
        assertThat(isPrimary(pg3)).isFalse();

        try (ReplicationCluster after = ReplicationClusters.connect(pg2.conninfo())) {
            NodeRecord r1 = after.metadata().node(1).orElseThrow();
            assertThat(r1.active()).isFalse();
            assertThat(after.metadata().node(2).orElseThrow().upstreamNodeId()).isEmpty();
            await("pg3's record to name pg2 as upstream", Duration.ofSeconds(10),
                    () -> after.metadata().node(3).orElseThrow().upstreamNodeId().equals(OptionalInt.of(2)));
            assertThat(after.metadata().votingTerm()).isEqualTo(termBefore + 1);
            List<EventRecord> promote = after.events().event(DaemonEvents.REPMGRD_FAILOVER_PROMOTE).list();
            assertThat(promote).singleElement().satisfies(e -> {
                assertThat(e.nodeId()).isEqualTo(2);
                assertThat(e.details()).hasValue("node \"pg2\" (ID: 2) promoted to primary; old primary \"pg1\" (ID: 1) marked as failed");
            });
            assertThat(after.events().event(DaemonEvents.REPMGRD_FAILOVER_FOLLOW).list()).singleElement().satisfies(e -> {
                assertThat(e.nodeId()).isEqualTo(3);
                assertThat(e.details()).hasValue("node \"pg3\" (ID: 3) now following new upstream node \"pg2\" (ID: 2)");
            });
            assertThat(after.events().event(Events.STANDBY_PROMOTE).list()).extracting(EventRecord::nodeId).containsExactly(2);
            assertThat(after.events().event(Events.STANDBY_FOLLOW).list()).extracting(EventRecord::nodeId).containsExactly(3);
            await("pg2's daemon to see pg3 connect", Duration.ofSeconds(10),
                    () -> !after.events().event(DaemonEvents.CHILD_NODE_NEW_CONNECT).list().isEmpty());
            assertThat(after.events().event(DaemonEvents.CHILD_NODE_NEW_CONNECT).list().get(0).details())
                    .hasValue("new standby \"pg3\" (ID: 3) has connected");

            ClusterStatus status = after.show().timeout(Duration.ofSeconds(5)).execute();
            assertThat(status.node(1).orElseThrow().state()).isEqualTo(NodeState.FAILED);
            assertThat(status.node(2).orElseThrow().state()).isEqualTo(NodeState.PRIMARY_RUNNING);
            assertThat(status.node(3).orElseThrow().upstreamLabel()).isEqualTo("pg2");
        }
        assertThat(recorder.names()).contains(DaemonEvents.REPMGRD_FAILOVER_PROMOTE, DaemonEvents.REPMGRD_FAILOVER_FOLLOW);
        assertThat(recorder.events).filteredOn(e -> e.event().equals(DaemonEvents.REPMGRD_FAILOVER_PROMOTE))
                .extracting(EventRecord::nodeId).containsExactly(2);
        assertThat(daemons.get(1).status().localRole()).hasValue(io.repmgr4j.NodeType.PRIMARY);
        assertThat(daemons.get(2).status().upstreamNodeId()).hasValue(2);
    }

    @Test
    @Order(3)
    void oldPrimaryBackAsPrimaryIsReportedAndFenced() {
        PgServer pg1 = set.server("pg1");
        pg1.start(); // crash recovery, then a writable primary on the old timeline
        await("a split-brain event", Duration.ofSeconds(20), () -> recorder.has(DaemonEvents.SPLIT_BRAIN_DETECTED));
        await("the fencing hook", Duration.ofSeconds(10), () -> !fenced.isEmpty());
        assertThat(fenced).contains("pg1->pg2");
        try (ReplicationCluster after = ReplicationClusters.connect(set.server("pg2").conninfo())) {
            await("the event stored on the current primary", Duration.ofSeconds(10),
                    () -> !after.events().event(DaemonEvents.SPLIT_BRAIN_DETECTED).list().isEmpty());
            assertThat(after.events().event(DaemonEvents.SPLIT_BRAIN_DETECTED).list())
                    .allSatisfy(e -> assertThat(e.details().orElse("")).contains("node \"pg1\" (ID: 1) is running as a primary")
                            .contains("node \"pg2\" (ID: 2) is the current primary"));
            ClusterStatus status = after.show().timeout(Duration.ofSeconds(5)).execute();
            assertThat(status.node(1).orElseThrow().state()).isEqualTo(NodeState.RUNNING_AS_PRIMARY);
            assertThat(ClusterShowFormat.table(status)).contains("! running as primary");
            assertThat(status.problems()).anySatisfy(p -> assertThat(p).contains("node \"pg1\" (ID: 1)"));
        }
        await("pg1's daemon to see itself as the stale primary", Duration.ofSeconds(10),
                () -> daemons.get(0).status().mode() == DaemonMode.SPLIT_BRAIN);
    }
}
