package io.repmgr4j.core.daemon;

import static io.repmgr4j.core.daemon.DaemonTestSupport.await;
import static io.repmgr4j.core.daemon.DaemonTestSupport.config;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.repmgr4j.ErrorCode;
import io.repmgr4j.EventRecord;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.core.ReplicationClusters;
import io.repmgr4j.format.ClusterShowFormat;
import io.repmgr4j.plan.Check;
import io.repmgr4j.plan.OperationException;
import io.repmgr4j.plan.OperationReport;
import io.repmgr4j.sql.RepmgrdShared;
import io.repmgr4j.sql.SchemaInstaller;
import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code installRepmgrExtension()} on a cluster repmgr4j built without the extension: the
 * dry run changes nothing, the migration keeps every row, standbys get the extension by
 * replication, and a real repmgrd then runs; a foreign object in the way makes it change
 * nothing.
 */
class ExtensionMigrationTest {

    @Test
    void movesTheExtensionFreeSchemaUnderTheExtensionKeepingEveryRowAndRealRepmgrdRuns() throws SQLException {
        try (PgReplicaSet set = PgReplicaSet.start(2, b -> b.setting("shared_preload_libraries", "repmgr"));
             ReplicationCluster cluster = ReplicationClusters.connect(set.primary().conninfo());
             RealRepmgr repmgr = new RealRepmgr()) {
            PgServer pg1 = set.server("pg1");
            PgServer pg2 = set.server("pg2");
            List<NodeConfig> configs = List.of(config(1, pg1, 100), config(2, pg2, 80));
            cluster.registerPrimary(configs.get(0)).extensionFree(true).execute();
            cluster.registerStandby(configs.get(1)).waitUntilAttached(Duration.ofSeconds(30)).execute();
            try (Connection c = pg1.connect()) {
                assertThat(SchemaInstaller.installedVersion(c)).hasValue(SchemaInstaller.CURRENT_VERSION);
                assertThat(RepmgrdShared.extensionInstalled(c)).isFalse();
            }
            List<NodeRecord> nodesBefore = cluster.metadata().nodes();
            List<EventRecord> eventsBefore = cluster.events().limit(1000).list();
            int termBefore = cluster.metadata().votingTerm();

            OperationReport dry = cluster.installRepmgrExtension().plan();
            assertThat(dry.checks()).allSatisfy(ch -> assertThat(ch.outcome()).isEqualTo(Check.Outcome.OK));
            try (Connection c = pg1.connect()) {
                assertThat(RepmgrdShared.extensionInstalled(c)).as("a dry run changes nothing").isFalse();
            }

            OperationReport done = cluster.installRepmgrExtension().execute();
            assertThat(done.successful()).isTrue();
            try (Connection c = pg1.connect()) {
                assertThat(RepmgrdShared.installedVersion(c)).isPresent();
                assertThat(SchemaInstaller.install(c).outcome()).isEqualTo(SchemaInstaller.Outcome.ADOPTED);
            }
            assertThat(cluster.metadata().nodes()).isEqualTo(nodesBefore);
            assertThat(cluster.events().limit(1000).list()).isEqualTo(eventsBefore);
            assertThat(cluster.metadata().votingTerm()).isEqualTo(termBefore);
            await("the standby to receive the extension", Duration.ofSeconds(20), () -> {
                try (Connection c = pg2.connect()) {
                    return RepmgrdShared.extensionInstalled(c);
                } catch (SQLException e) {
                    return false;
                }
            });

            // the point of it: repmgr's own tools and a real repmgrd work now
            repmgr.configure(1, pg1);
            repmgr.configure(2, pg2, "failover=manual", "monitor_interval_secs=1");
            assertThat(ClusterShowFormat.table(cluster.show().execute())).isEqualTo(repmgr.ok(pg1, 1, "cluster", "show"));
            repmgr.startRepmgrd(pg2, 2);
            await("real repmgrd to run on pg2", Duration.ofSeconds(30), () -> {
                try (Connection c = pg2.connect()) {
                    return RepmgrdShared.read(c).repmgrdRunning();
                } catch (SQLException e) {
                    return false;
                }
            });
            assertThat(cluster.serviceStatus().execute().node(2).orElseThrow().daemonRunning()).hasValue(true);

            // twice: refused, nothing to do
            assertThatThrownBy(() -> cluster.installRepmgrExtension().execute()).isInstanceOfSatisfying(OperationException.class,
                    e -> assertThat(e.code()).isEqualTo(ErrorCode.BAD_CONFIG)).hasMessageContaining("installed already");
        }
    }

    @Test
    void anObjectOfSomeoneElseInTheWayChangesNothing() throws SQLException {
        try (PgReplicaSet set = PgReplicaSet.start(1);
             ReplicationCluster cluster = ReplicationClusters.connect(set.primary().conninfo())) {
            PgServer pg1 = set.server("pg1");
            cluster.registerPrimary(config(1, pg1, 100)).extensionFree(true).execute();
            pg1.execute("CREATE VIEW repmgr.my_report AS SELECT node_name FROM repmgr.nodes");
            assertThatThrownBy(() -> cluster.installRepmgrExtension().execute()).isInstanceOf(OperationException.class)
                    .hasMessageContaining("nothing was changed");
            try (Connection c = pg1.connect()) {
                assertThat(RepmgrdShared.extensionInstalled(c)).isFalse();
                assertThat(SchemaInstaller.installedVersion(c)).hasValue(SchemaInstaller.CURRENT_VERSION);
            }
            assertThat(pg1.query("SELECT count(*) FROM repmgr.my_report", Long.class)).isEqualTo(1L);
            assertThat(cluster.metadata().nodes()).hasSize(1);
        }
    }
}
