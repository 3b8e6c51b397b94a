package io.repmgr4j.core.junit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.testkit.engine.EventConditions.finishedWithFailure;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.instanceOf;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.message;

import io.repmgr4j.ClusterStatus;
import io.repmgr4j.NodeStatus;
import io.repmgr4j.NodeType;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.SyncMode;
import io.repmgr4j.SyncState;
import io.repmgr4j.testkit.PgNode;
import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import io.repmgr4j.testkit.ReplicaSet;
import io.repmgr4j.testkit.junit.Node;
import io.repmgr4j.testkit.junit.PgReplicaSetTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Events;

/**
 * {@code ReplicationCluster} injection and the synchronous option of {@code @PgReplicaSetTest},
 * on local servers, run through JUnit's EngineTestKit on example classes: the handle knows
 * every node registered with its upstream (cascades included), is the same for parameters
 * and fields, and is closed, with the set removed, after the tests, also after a failing one;
 * a set started with {@code synchronous = PRIORITY} shows {@code sync}/{@code potential} in
 * pg_stat_replication when the test starts.
 */
class ClusterInjectionTest {
    static final List<ReplicationCluster> CLUSTERS = new CopyOnWriteArrayList<>();
    static final List<Path> DIRS = new CopyOnWriteArrayList<>();

    @BeforeEach
    void clear() {
        CLUSTERS.clear();
        DIRS.clear();
    }

    static void remember(ReplicaSet set, ReplicationCluster cluster) {
        CLUSTERS.add(cluster);
        for (PgServer s : ((PgReplicaSet) set).servers()) {
            DIRS.add(s.dataDirectory().getParent());
        }
    }

    private static void assertClosedAndRemoved() {
        assertThat(CLUSTERS).isNotEmpty();
        for (ReplicationCluster c : CLUSTERS) {
            assertThatThrownBy(() -> c.show().execute()).isInstanceOf(ReplicationException.class)
                    .hasMessageContaining("closed");
        }
        assertThat(DIRS).isNotEmpty();
        for (Path d : DIRS) {
            assertThat(Files.exists(d)).as(d + " removed").isFalse();
        }
    }

    @PgReplicaSetTest(nodes = 3, cascade = "pg3=pg2", synchronous = SyncMode.PRIORITY)
    static class PriorityExample {
        ReplicationCluster clusterField;

        @Test
        void registeredAndSynchronous(ReplicaSet set, ReplicationCluster cluster, PgNode primary, @Node(2) PgNode pg2,
                @Node(3) PgNode pg3) {
            remember(set, cluster);
            assertThat(cluster).isSameAs(clusterField);
            ClusterStatus status = cluster.show().execute();
            assertThat(status.nodes()).extracting(NodeStatus::nodeId, NodeStatus::nodeName, NodeStatus::role)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple(1, primary.name(), NodeType.PRIMARY),
                            org.assertj.core.groups.Tuple.tuple(2, pg2.name(), NodeType.STANDBY),
                            org.assertj.core.groups.Tuple.tuple(3, pg3.name(), NodeType.STANDBY));
            assertThat(status.nodes().get(2).upstreamNodeName()).contains(pg2.name());
            // FIRST 1 over the primary's only direct standby: pg2 confirms every commit
            assertThat(primary.query("SELECT sync_state FROM pg_stat_replication WHERE application_name = '"
                    + pg2.name() + "'", String.class)).isEqualTo("sync");
            assertThat(primary.query("SHOW synchronous_standby_names", String.class)).startsWith("FIRST 1");
            assertThat(status.nodes().get(1).syncState()).isEqualTo(Optional.of(SyncState.SYNC));
        }
    }

    @Test
    void theHandleKnowsTheRegisteredSetAndTheSynchronousModeIsInForce() {
        EngineTestKit.engine("junit-jupiter").selectors(selectClass(PriorityExample.class)).execute().testEvents()
                .assertStatistics(s -> s.started(1).succeeded(1).failed(0));
        assertClosedAndRemoved();
    }

    @PgReplicaSetTest(nodes = 2, lifecycle = PgReplicaSetTest.Lifecycle.PER_METHOD)
    static class FailingExample {
        @Test
        void failsOnPurpose(ReplicaSet set, ReplicationCluster cluster) {
            remember(set, cluster);
            assertThat(cluster.show().execute().nodes()).hasSize(2);
            throw new AssertionError("failing on purpose");
        }
    }

    @Test
    void aFailingTestStillClosesTheHandleAndRemovesTheSet() {
        Events events = EngineTestKit.engine("junit-jupiter").selectors(selectClass(FailingExample.class)).execute()
                .testEvents();
        events.assertStatistics(s -> s.started(1).failed(1));
        events.assertThatEvents().haveExactly(1, finishedWithFailure(instanceOf(AssertionError.class),
                message("failing on purpose")));
        assertClosedAndRemoved();
    }

    @PgReplicaSetTest(nodes = 3, cascade = "pg3=pg2", synchronous = SyncMode.QUORUM, synchronousCount = 2)
    static class TooFewStandbysExample {
        @Test
        void neverRuns(ReplicaSet set) {
            DIRS.add(Path.of("never"));
        }
    }

    @Test
    void aSynchronousCountTheSetCannotGiveIsRefusedBeforeAnythingStarts() {
        EngineTestKit.engine("junit-jupiter").selectors(selectClass(TooFewStandbysExample.class)).execute()
                .containerEvents().assertThatEvents().haveExactly(1, finishedWithFailure(
                        instanceOf(ExtensionConfigurationException.class),
                        message(m -> m.contains("synchronousCount = 2 needs 2 standbys streaming from the primary, but"
                                + " the set has 1 (nodes = 3, 1 cascaded)"))));
        assertThat(DIRS).isEmpty();
    }
}
