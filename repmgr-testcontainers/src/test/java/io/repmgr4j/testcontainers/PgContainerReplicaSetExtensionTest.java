package io.repmgr4j.testcontainers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.testkit.engine.EventConditions.finishedWithFailure;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.message;

import io.repmgr4j.testcontainers.junit.ContainerNode;
import io.repmgr4j.testcontainers.junit.PgContainerReplicaSetTest;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Events;
import org.testcontainers.DockerClientFactory;

/**
 * The container JUnit 5 extension, run through JUnit's EngineTestKit on nested example
 * classes (run with -Dcontainers): injection, and that every container is removed after
 * the tests, also after a test that fails on purpose.
 */
class PgContainerReplicaSetExtensionTest {
    static final List<String> CONTAINER_IDS = new CopyOnWriteArrayList<>();

    @BeforeEach
    void clear() {
        CONTAINER_IDS.clear();
    }

    static void remember(PgContainerReplicaSet set) {
        for (PgContainer n : set.nodes()) {
            if (!CONTAINER_IDS.contains(n.container().getContainerId())) {
                CONTAINER_IDS.add(n.container().getContainerId());
            }
        }
    }

    private static void assertContainersRemoved() {
        assertThat(CONTAINER_IDS).isNotEmpty();
        assertThat(DockerClientFactory.instance().client().listContainersCmd().withShowAll(true)
                .withIdFilter(CONTAINER_IDS).exec()).isEmpty();
    }

    @PgContainerReplicaSetTest(nodes = 2, settings = "work_mem=6MB")
    static class InjectionExample {
        @ContainerNode(2)
        PgContainer standbyField;

        @Test
        void injected(PgContainerReplicaSet set, PgContainer primary, @ContainerNode(2) PgContainer pg2) {
            remember(set);
            assertThat(primary).isSameAs(set.primary());
            assertThat(pg2).isSameAs(standbyField).isSameAs(set.node(2));
            assertThat(pg2.inRecovery()).isTrue();
            assertThat(pg2.query("SHOW work_mem", String.class)).isEqualTo("6MB");
        }
    }

    @Test
    void injectsTheSetAndRemovesItsContainersAfterwards() {
        EngineTestKit.engine("junit-jupiter").selectors(selectClass(InjectionExample.class)).execute().testEvents()
                .assertStatistics(s -> s.started(1).succeeded(1).failed(0));
        assertThat(CONTAINER_IDS).hasSize(2);
        assertContainersRemoved();
    }

    @PgContainerReplicaSetTest(nodes = 1, perMethod = true)
    static class FailingExample {
        @Test
        void failsOnPurpose(PgContainerReplicaSet set) {
            remember(set);
            set.primary().execute("CREATE TABLE t (i int)");
            throw new AssertionError("failing on purpose");
        }
    }

    @Test
    void aFailingTestStillRemovesEveryContainer() {
        Events events = EngineTestKit.engine("junit-jupiter").selectors(selectClass(FailingExample.class)).execute()
                .testEvents();
        events.assertStatistics(s -> s.started(1).failed(1));
        events.assertThatEvents().haveExactly(1, finishedWithFailure(message("failing on purpose")));
        assertThat(CONTAINER_IDS).hasSize(1);
        assertContainersRemoved();
    }
}
