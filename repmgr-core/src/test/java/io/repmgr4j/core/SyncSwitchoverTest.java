package io.repmgr4j.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.SyncMode;
import io.repmgr4j.SynchronousRecord;
import io.repmgr4j.plan.OperationReport;
import io.repmgr4j.plan.Step;
import io.repmgr4j.sql.SyncStateTable;
import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import io.repmgr4j.testkit.PgWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Switchover in priority mode with a writer: the dry run lists the synchronous step, the
 * real run configures the new primary's synchronous standby before it reports success, and
 * no acknowledged commit is missing on the new primary.
 */
class SyncSwitchoverTest {

    private static SynchronousRecord record(PgServer s) {
        try (Connection c = s.connect()) {
            return SyncStateTable.read(c).orElseThrow();
        } catch (SQLException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void theNewPrimaryHasItsSynchronousStandbyBeforeTheSwitchoverReportsSuccess() {
        try (PgReplicaSet set = PgReplicaSet.start(3); TopologyFixture f = new TopologyFixture(set)) {
            PgServer pg1 = f.server(1);
            PgServer pg2 = f.server(2);
            f.cluster.synchronousReplication().mode(SyncMode.PRIORITY).apply();
            assertThat(pg1.query("SHOW synchronous_standby_names", String.class)).isEqualTo("FIRST 1 (\"pg2\")");

            OperationReport dry = f.cluster.switchover(2).siblingsFollow(true).plan();
            assertThat(dry.steps()).extracting(Step::name)
                    .contains("configure the synchronous standbys of node \"pg2\" (ID: 2) (synchronous = priority)");

            try (PgWriter w = PgWriter.start(set.servers(), Duration.ofMillis(10))) {
                w.awaitCommits(20, Duration.ofSeconds(20));
                OperationReport r = f.cluster.switchover(2).siblingsFollow(true).execute();
                assertThat(r.successful()).isTrue();
                assertThat(r.steps()).filteredOn(s -> s.name().startsWith("configure the synchronous standbys"))
                        .singleElement().satisfies(s -> {
                            assertThat(s.status()).isEqualTo(Step.Status.DONE);
                            assertThat(s.detail().orElse("")).startsWith("synchronous_standby_names 'FIRST 1 (\"pg1\")'");
                        });
                // when the switchover returns, the new primary already waits for its synchronous standby
                assertThat(pg2.query("SHOW synchronous_standby_names", String.class)).isEqualTo("FIRST 1 (\"pg1\")");
                assertThat(pg2.query("SELECT sync_state FROM pg_stat_replication WHERE application_name = 'pg1'",
                        String.class)).isEqualTo("sync");
                SynchronousRecord rec = record(pg2);
                assertThat(rec.kind()).isEqualTo(SynchronousRecord.Kind.PRIORITY);
                assertThat(rec.members()).containsExactly(1);
                assertThat(rec.primaryNodeId()).isEqualTo(2);
                w.awaitCommits(20, Duration.ofSeconds(20));
                w.stop();
                assertThat(w.missingOn(pg2)).isEmpty();
            }
        }
    }
}
