package io.repmgr4j.testkit.junit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.testkit.engine.EventConditions.finishedWithFailure;
import static org.junit.platform.testkit.engine.EventConditions.test;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.instanceOf;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.message;

import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Events;

/**
 * The JUnit 5 extension, run through JUnit's own EngineTestKit on example test classes
 * (nested, so Surefire does not run them by themselves): what gets injected, per class and
 * per method, cascading, servers named after the test, and that every server is stopped and
 * its directories removed afterwards, also when a test fails on purpose.
 */
class PgReplicaSetExtensionTest {

    /** Base directories of the servers the example classes saw, to check after they ran. */
    static final List<Path> SEEN = new CopyOnWriteArrayList<>();
    /** One entry per replica set the example classes saw (identity of the set). */
    static final List<PgReplicaSet> SETS = new CopyOnWriteArrayList<>();

    @BeforeEach
    void clear() {
        SEEN.clear();
        SETS.clear();
    }

    static void remember(PgReplicaSet set) {
        if (!SETS.contains(set)) {
            SETS.add(set);
        }
        for (PgServer s : set.servers()) {
            SEEN.add(s.dataDirectory().getParent());
        }
    }

    private static Events run(Class<?> example) {
        return EngineTestKit.engine("junit-jupiter").selectors(selectClass(example)).execute().testEvents();
    }

    private static void assertAllRemoved() {
        assertThat(SEEN).isNotEmpty();
        for (Path root : SEEN) {
            assertThat(Files.exists(root)).as("directory " + root + " removed").isFalse();
        }
    }

    // ------------------------------------------------------------------ per class

    @PgReplicaSetTest(nodes = 2, settings = "max_wal_senders=7")
    static class PerClassExample {
        @Node(2)
        PgServer standbyField;
        PgServer primaryField;
        static PgReplicaSet setField;

        @Test
        void parametersAndFields(PgReplicaSet set, PgServer primary, @Node(2) PgServer pg2) {
            remember(set);
            assertThat(primary).isSameAs(set.primary()).isSameAs(primaryField);
            assertThat(pg2).isSameAs(set.node(2)).isSameAs(standbyField).isSameAs(set.server("pg2"));
            assertThat(setField).isSameAs(set);
            assertThat(primary.inRecovery()).isFalse();
            assertThat(pg2.inRecovery()).isTrue();
            assertThat(primary.query("SHOW max_wal_senders", String.class)).isEqualTo("7");
            assertThat(primary.name()).isEqualTo("PerClassExample-pg1");
            assertThat(pg2.dataDirectory().getParent().getFileName().toString()).startsWith("PerClassExample-pg2-");
            assertThat(primary.logFile()).exists();
        }

        @Test
        void sameSetInTheSecondTest(PgReplicaSet set) {
            remember(set);
            set.primary().execute("CREATE TABLE IF NOT EXISTS t (i int)");
        }
    }

    @Test
    void perClassStartsOneSetInjectsItAndRemovesItAfterwards() {
        run(PerClassExample.class).assertStatistics(s -> s.started(2).succeeded(2).failed(0));
        assertThat(SETS).hasSize(1);
        assertAllRemoved();
    }

    // ------------------------------------------------------------------ per method

    @PgReplicaSetTest(nodes = 1, lifecycle = PgReplicaSetTest.Lifecycle.PER_METHOD)
    static class PerMethodExample {
        PgReplicaSet set;

        @Test
        void first(PgServer primary) {
            remember(set);
            assertThat(primary.name()).isEqualTo("PerMethodExample.first-pg1");
            primary.execute("CREATE TABLE only_here (i int)");
        }

        @Test
        void second(PgServer primary) {
            remember(set);
            assertThat(primary.name()).isEqualTo("PerMethodExample.second-pg1");
            // a fresh server: the other test's table is not there, whichever ran first
            assertThat(primary.query("SELECT count(*) FROM pg_class WHERE relname = 'only_here'", Long.class)).isZero();
        }
    }

    @Test
    void perMethodStartsAFreshSetForEachTest() {
        run(PerMethodExample.class).assertStatistics(s -> s.started(2).succeeded(2).failed(0));
        assertThat(SETS).hasSize(2);
        assertAllRemoved();
    }

    // ------------------------------------------------------------------ a failing test

    @PgReplicaSetTest(nodes = 2, lifecycle = PgReplicaSetTest.Lifecycle.PER_METHOD)
    static class FailingExample {
        @Test
        void failsOnPurpose(PgReplicaSet set) {
            remember(set);
            set.primary().execute("CREATE TABLE t (i int)");
            throw new AssertionError("failing on purpose");
        }
    }

    @Test
    void aFailingTestStillStopsAndRemovesEveryServer() {
        Events events = run(FailingExample.class);
        events.assertStatistics(s -> s.started(1).succeeded(0).failed(1));
        events.assertThatEvents().haveExactly(1, org.assertj.core.api.Assertions.allOf(test("failsOnPurpose"),
                finishedWithFailure(instanceOf(AssertionError.class), message("failing on purpose"))));
        assertThat(SEEN).hasSize(2);
        assertAllRemoved();
    }

    // ------------------------------------------------------------------ cascading

    @PgReplicaSetTest(nodes = 3, cascade = "pg3=pg2")
    static class CascadeExample {
        @Test
        void pg3StreamsFromPg2(PgReplicaSet set, @Node(2) PgServer pg2, @Node(3) PgServer pg3) {
            remember(set);
            assertThat(pg2.query("SELECT string_agg(application_name, ',') FROM pg_stat_replication", String.class))
                    .isEqualTo(pg3.name());
            assertThat(set.primary().query("SELECT string_agg(application_name, ',') FROM pg_stat_replication",
                    String.class)).isEqualTo(pg2.name());
        }
    }

    @Test
    void cascadeClonesAStandbyFromAnotherStandby() {
        run(CascadeExample.class).assertStatistics(s -> s.started(1).succeeded(1).failed(0));
        assertAllRemoved();
    }

    // ------------------------------------------------------------------ bad configuration

    @PgReplicaSetTest(nodes = 2, cascade = "pg3=pg2")
    static class BadCascadeExample {
        @Test
        void neverRuns(PgReplicaSet set) {
            remember(set);
        }
    }

    @PgReplicaSetTest(nodes = 2)
    static class BadNodeExample {
        @Test
        void noSuchNode(@Node(5) PgServer pg5) {
            throw new AssertionError("not reached");
        }
    }

    @Test
    void badConfigurationIsRefusedBeforeAnyServerStarts() {
        Events classEvents = EngineTestKit.engine("junit-jupiter").selectors(selectClass(BadCascadeExample.class))
                .execute().containerEvents();
        classEvents.assertThatEvents().haveExactly(1, finishedWithFailure(instanceOf(ExtensionConfigurationException.class),
                message(m -> m.contains("cascade names node 3 but the set has 2 nodes"))));
        assertThat(SEEN).isEmpty();

        Events bad = run(BadNodeExample.class);
        bad.assertStatistics(s -> s.failed(1));
        bad.assertThatEvents().haveExactly(1, finishedWithFailure(message(m -> m.contains("@Node(5)")
                && m.contains("nodes 1 to 2"))));
    }
}
