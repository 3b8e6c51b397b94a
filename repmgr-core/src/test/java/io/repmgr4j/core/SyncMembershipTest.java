package io.repmgr4j.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.CloneReport;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.SyncMode;
import io.repmgr4j.SynchronousRecord;
import io.repmgr4j.plan.OperationReport;
import io.repmgr4j.plan.Step;
import io.repmgr4j.sql.SyncStateTable;
import io.repmgr4j.testkit.PgSandbox;
import io.repmgr4j.testkit.PgServer;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Membership changes keep {@code synchronous_standby_names} right without a daemon: in
 * quorum mode, a standby cloned with registration is named as soon as the clone reports
 * success (the dry run lists that step), a standby registered by hand likewise, and an
 * unregistered one is dropped, with the synchronous record following in the safe order.
 * No daemon runs here, so only the operations can have changed the setting.
 */
class SyncMembershipTest {
    private static final String SECRET = "sync-members-s3cret";
    private static final Duration WAIT = Duration.ofSeconds(60);

    private static NodeConfig config(int id, String name, io.repmgr4j.ConnInfo conninfo, String dataDir, String bindir) {
        return NodeConfig.builder().nodeId(id).nodeName(name).conninfo(conninfo).dataDirectory(dataDir).pgBindir(bindir).build();
    }

    private static SynchronousRecord record(PgServer s) {
        try (Connection c = s.connect()) {
            return SyncStateTable.read(c).orElseThrow();
        } catch (SQLException e) {
            throw new AssertionError(e);
        }
    }

    private static String names(PgServer primary) {
        return primary.query("SHOW synchronous_standby_names", String.class);
    }

    @Test
    void cloneRegisterAndUnregisterReconfigureTheSynchronousStandbys() {
        try (PgServer pg1 = PgServer.builder().name("pg1").password(SECRET).start();
             PgServer pg2 = pg1.createStandby("pg2");
             PgSandbox s3 = PgSandbox.allocate("pg3", null, SECRET);
             PgServer pg4 = pg1.createStandby("pg4");
             ReplicationCluster cluster = ReplicationClusters.builder().seed(pg1.conninfo()).build()) {
            cluster.registerPrimary(config(1, "pg1", pg1.conninfo(), pg1.dataDirectory().toString(), pg1.bindir().toString()))
                    .execute();
            cluster.registerStandby(config(2, "pg2", pg2.conninfo(), pg2.dataDirectory().toString(), pg2.bindir().toString()))
                    .waitUntilAttached(WAIT).execute();
            cluster.synchronousReplication().mode(SyncMode.QUORUM).count(1).apply();
            assertThat(names(pg1)).isEqualTo("ANY 1 (\"pg2\")");

            // clone: the dry run lists the step after the registration, the real run takes it
            NodeConfig n3 = config(3, "pg3", s3.conninfo(), s3.dataDirectory().toString(), s3.bindir().toString());
            ReplicationCluster.StandbyClone clone = cluster.cloneStandby(n3)
                    .serverSetting("unix_socket_directories", s3.socketDirectory().toString())
                    .fastCheckpoint(true).thenStart().waitUntilStreaming(WAIT).thenRegister();
            OperationReport dry = clone.plan();
            assertThat(dry.steps()).extracting(Step::name).last().asString()
                    .isEqualTo("configure the synchronous standbys of the primary (synchronous = quorum)");
            assertThat(names(pg1)).isEqualTo("ANY 1 (\"pg2\")");

            CloneReport r = cluster.cloneStandby(n3)
                    .serverSetting("unix_socket_directories", s3.socketDirectory().toString())
                    .fastCheckpoint(true).thenStart().waitUntilStreaming(WAIT).thenRegister().execute();
            PgServer pg3 = s3.adopt();
            assertThat(r.warnings()).isEmpty();
            assertThat(r.steps()).filteredOn(s -> s.name().startsWith("configure the synchronous standbys"))
                    .singleElement().satisfies(s -> {
                        assertThat(s.status()).isEqualTo(Step.Status.DONE);
                        assertThat(s.detail().orElse("")).startsWith("synchronous_standby_names 'ANY 1 (\"pg2\", \"pg3\")'");
                    });
            // when the clone returns, the primary already names the new standby
            assertThat(names(pg1)).isEqualTo("ANY 1 (\"pg2\", \"pg3\")");
            assertThat(record(pg1).members()).containsExactlyInAnyOrder(2, 3);
            assertThat(pg3.query("SELECT count(*) FROM pg_stat_wal_receiver WHERE status = 'streaming'", Long.class))
                    .isEqualTo(1L);

            // a standby registered by hand is named when the registration returns
            cluster.registerStandby(config(4, "pg4", pg4.conninfo(), pg4.dataDirectory().toString(), pg4.bindir().toString()))
                    .waitUntilAttached(WAIT).execute();
            assertThat(names(pg1)).isEqualTo("ANY 1 (\"pg2\", \"pg3\", \"pg4\")");
            assertThat(record(pg1).members()).containsExactlyInAnyOrder(2, 3, 4);

            // unregistering a stopped standby narrows the setting, then the record
            pg3.stop();
            cluster.unregisterStandby(3).execute();
            assertThat(names(pg1)).isEqualTo("ANY 1 (\"pg2\", \"pg4\")");
            assertThat(record(pg1).members()).containsExactlyInAnyOrder(2, 4);
            assertThat(cluster.metadata().node(3)).isEmpty();
        }
    }
}
