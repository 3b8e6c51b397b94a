package io.repmgr4j.testkit.junit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.testkit.engine.EventConditions.finishedWithFailure;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.instanceOf;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.message;

import io.repmgr4j.testkit.Backend;
import io.repmgr4j.testkit.PgBinaries;
import io.repmgr4j.testkit.PgNode;
import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import io.repmgr4j.testkit.ReplicaSet;
import io.repmgr4j.testkit.ReplicaSets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.io.TempDir;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Events;

/**
 * Which backend {@code @PgReplicaSetTest} takes, with real binaries and a real empty bin
 * directory ({@code REPMGR4J_PG_BINDIR}): auto takes the local servers when the binaries are
 * there; with them absent and no containers backend on this module's class path (the test
 * kit does not depend on Testcontainers), auto and an explicit {@code containers} are refused
 * with a message saying what was looked for and what to add, before any server starts.
 * The containers side runs in repmgr-testcontainers (ContainerBackendChoiceTest).
 */
class BackendChoiceTest {
    static final List<ReplicaSet> SETS = new CopyOnWriteArrayList<>();

    @TempDir
    Path emptyBindir;

    @BeforeEach
    void clear() {
        SETS.clear();
    }

    @PgReplicaSetTest(nodes = 2)
    static class AutoExample {
        @Test
        void neutralTypes(ReplicaSet set, PgNode primary, @Node(2) PgNode pg2, PgServer sameAsPrimary) {
            SETS.add(set);
            assertThat(set.backend()).isEqualTo("local");
            assertThat(set).isInstanceOf(PgReplicaSet.class);
            assertThat(primary).isSameAs(sameAsPrimary).isSameAs(set.primary());
            assertThat(primary.inRecovery()).isFalse();
            assertThat(pg2.inRecovery()).isTrue();
            primary.waitForStreaming(pg2.name(), java.time.Duration.ofSeconds(30));
        }
    }

    @Test
    void autoTakesLocalServersWhenTheBinariesArePresent() {
        EngineTestKit.engine("junit-jupiter").selectors(selectClass(AutoExample.class)).execute().testEvents()
                .assertStatistics(s -> s.started(1).succeeded(1).failed(0));
        assertThat(SETS).hasSize(1);
        ReplicaSets.Choice c = ReplicaSets.choose(Backend.AUTO, k -> null, getClass().getClassLoader());
        assertThat(c.backend()).isEqualTo("local");
        assertThat(c.reason()).contains("local PostgreSQL binaries found");
    }

    @Test
    void theSettingChoosesWhereAutoRuns() {
        ReplicaSets.Choice c = ReplicaSets.choose(Backend.AUTO, Map.of(ReplicaSets.BACKEND_PROPERTY, "LOCAL")::get,
                getClass().getClassLoader());
        assertThat(c.backend()).isEqualTo("local");
        assertThat(c.reason()).isEqualTo("REPMGR4J_TESTKIT_BACKEND=local");
        // the annotation's explicit choice wins over the setting
        assertThatThrownBy(() -> ReplicaSets.choose(Backend.CONTAINERS,
                Map.of(ReplicaSets.BACKEND_PROPERTY, "local")::get, getClass().getClassLoader()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("the test asks for containers")
                .hasMessageContaining("no containers backend on the class path")
                .hasMessageContaining("io.repmgr4j:repmgr-testcontainers");
        assertThatThrownBy(() -> ReplicaSets.choose(Backend.AUTO, Map.of(ReplicaSets.BACKEND_PROPERTY, "docker")::get,
                getClass().getClassLoader()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("\"docker\"").hasMessageContaining("local, containers or auto");
    }

    @PgReplicaSetTest(nodes = 2)
    static class NeverStartsExample {
        @Test
        void neverRuns(ReplicaSet set) {
            SETS.add(set);
        }
    }

    @Test
    void withoutLocalBinariesAndWithoutContainersNothingStartsAndTheErrorSaysWhatToDo() throws Exception {
        String before = System.getProperty(PgBinaries.BINDIR_PROPERTY);
        System.setProperty(PgBinaries.BINDIR_PROPERTY, emptyBindir.toString());
        try {
            assertThat(Files.list(emptyBindir)).isEmpty();
            assertThatThrownBy(() -> ReplicaSets.choose(Backend.AUTO, k -> null, getClass().getClassLoader()))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("no backend can start the replica set")
                    .hasMessageContaining("local: system property REPMGR4J_PG_BINDIR names " + emptyBindir)
                    .hasMessageContaining("lacks initdb, pg_ctl, postgres")
                    .hasMessageContaining("containers: no containers backend on the class path")
                    .hasMessageContaining("REPMGR4J_TESTKIT_BACKEND=local|containers");
            assertThatThrownBy(() -> ReplicaSets.choose(Backend.LOCAL, k -> null, getClass().getClassLoader()))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("cannot start the replica set on local servers (the test asks for local)")
                    .hasMessageContaining("apt-get install postgresql-15");

            Events classEvents = EngineTestKit.engine("junit-jupiter").selectors(selectClass(NeverStartsExample.class))
                    .execute().containerEvents();
            classEvents.assertThatEvents().haveExactly(1, finishedWithFailure(
                    instanceOf(ExtensionConfigurationException.class),
                    message(m -> m.startsWith("@PgReplicaSetTest of NeverStartsExample: no backend can start")
                            && m.contains(emptyBindir.toString()) && m.contains("repmgr-testcontainers"))));
            assertThat(SETS).isEmpty();
        } finally {
            if (before == null) {
                System.clearProperty(PgBinaries.BINDIR_PROPERTY);
            } else {
                System.setProperty(PgBinaries.BINDIR_PROPERTY, before);
            }
        }
    }

    @PgReplicaSetTest(nodes = 1, synchronous = io.repmgr4j.SyncMode.PRIORITY)
    static class SyncWithoutCoreExample {
        @Test
        void neverRuns(ReplicaSet set) {
            SETS.add(set);
        }
    }

    @Test
    void synchronousModeIsRefusedBeforeStartingWhenTheShapeCannotGiveIt() {
        // one node: no standby could confirm; checked before the (here absent) repmgr-core is looked for
        Events classEvents = EngineTestKit.engine("junit-jupiter").selectors(selectClass(SyncWithoutCoreExample.class))
                .execute().containerEvents();
        classEvents.assertThatEvents().haveExactly(1, finishedWithFailure(instanceOf(ExtensionConfigurationException.class),
                message(m -> m.contains("synchronousCount = 1 needs 1 standbys streaming from the primary, but the set has 0"))));
        assertThat(SETS).isEmpty();
    }
}
