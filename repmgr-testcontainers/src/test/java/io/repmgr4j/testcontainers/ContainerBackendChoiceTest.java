package io.repmgr4j.testcontainers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.testkit.engine.EventConditions.finishedWithFailure;
import static org.junit.platform.testkit.engine.EventConditions.test;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.message;

import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.testkit.Backend;
import io.repmgr4j.testkit.PgBinaries;
import io.repmgr4j.testkit.PgNode;
import io.repmgr4j.testkit.PgServer;
import io.repmgr4j.testkit.ReplicaSet;
import io.repmgr4j.testkit.ReplicaSets;
import io.repmgr4j.testkit.junit.Node;
import io.repmgr4j.testkit.junit.PgReplicaSetTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Events;
import org.testcontainers.DockerClientFactory;

/**
 * The test kit's auto choice where the local binaries are absent (a real empty
 * {@code REPMGR4J_PG_BINDIR}) and this module's containers backend is on the class path with
 * a Docker engine: {@code @PgReplicaSetTest} starts containers, injects them as
 * {@code ReplicaSet}/{@code PgNode}/{@code PgContainer} and a registered
 * {@code ReplicationCluster}, refuses a {@code PgServer} parameter with a message naming the
 * backend, and removes the containers afterwards. Run with -Dcontainers.
 */
class ContainerBackendChoiceTest {
    static final List<String> CONTAINER_IDS = new CopyOnWriteArrayList<>();

    @TempDir
    Path emptyBindir;
    private String bindirBefore;

    @BeforeEach
    void noLocalBinaries() {
        CONTAINER_IDS.clear();
        bindirBefore = System.getProperty(PgBinaries.BINDIR_PROPERTY);
        System.setProperty(PgBinaries.BINDIR_PROPERTY, emptyBindir.toString());
    }

    @AfterEach
    void restore() {
        if (bindirBefore == null) {
            System.clearProperty(PgBinaries.BINDIR_PROPERTY);
        } else {
            System.setProperty(PgBinaries.BINDIR_PROPERTY, bindirBefore);
        }
    }

    @Test
    void autoTakesContainersWhenTheLocalBinariesAreAbsent() throws Exception {
        assertThat(Files.list(emptyBindir)).isEmpty();
        ReplicaSets.Choice c = ReplicaSets.choose(Backend.AUTO, k -> null, getClass().getClassLoader());
        assertThat(c.backend()).isEqualTo("containers");
        assertThat(c.reason()).startsWith("auto: no local PostgreSQL binaries").contains(emptyBindir.toString());
    }

    @PgReplicaSetTest(nodes = 2)
    @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
    static class AutoExample {
        @Test
        @Order(1)
        void containersInjected(ReplicaSet set, PgNode primary, @Node(2) PgContainer pg2, ReplicationCluster cluster) {
            for (PgContainer n : ((PgContainerReplicaSet) set).nodes()) {
                CONTAINER_IDS.add(n.container().getContainerId());
            }
            assertThat(set.backend()).isEqualTo("containers");
            assertThat(primary).isInstanceOf(PgContainer.class).isSameAs(set.primary());
            assertThat(primary.name()).isEqualTo("AutoExample-pg1");
            assertThat(pg2.inRecovery()).isTrue();
            assertThat(cluster.show().execute().nodes()).hasSize(2);
        }

        @Test
        @Order(2)
        void aLocalServerTypeIsRefused(PgServer pg1) {
            throw new AssertionError("not reached");
        }
    }

    @Test
    void theExtensionInAutoModeStartsContainersAndRemovesThemAfterwards() {
        Events events = EngineTestKit.engine("junit-jupiter").selectors(selectClass(AutoExample.class))
                // this module's Surefire says containers; here the auto choice itself is under test
                .configurationParameter(ReplicaSets.BACKEND_PROPERTY, "auto")
                .execute().testEvents();
        events.assertStatistics(s -> s.started(2).succeeded(1).failed(1));
        events.assertThatEvents().haveExactly(1, org.assertj.core.api.Assertions.allOf(test("aLocalServerTypeIsRefused"),
                finishedWithFailure(message(m -> m.contains("is a PgServer, but this replica set runs on backend containers")
                        && m.contains("auto: no local PostgreSQL binaries") && m.contains("Declare it as PgNode")))));
        assertThat(CONTAINER_IDS).hasSize(2);
        assertThat(DockerClientFactory.instance().client().listContainersCmd().withShowAll(true)
                .withIdFilter(CONTAINER_IDS).exec()).isEmpty();
    }
}
