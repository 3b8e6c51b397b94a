package io.repmgr4j.core.daemon;

import static io.repmgr4j.core.daemon.DaemonTestSupport.await;
import static io.repmgr4j.core.daemon.DaemonTestSupport.config;
import static io.repmgr4j.core.daemon.DaemonTestSupport.fast;
import static io.repmgr4j.core.daemon.DaemonTestSupport.isPrimary;
import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.DaemonEvents;
import io.repmgr4j.EventRecord;
import io.repmgr4j.FailoverDaemon;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.NodeServiceStatus;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.ServiceStatus;
import io.repmgr4j.core.ReplicationClusters;
import io.repmgr4j.format.ServiceStatusFormat;
import io.repmgr4j.sql.RepmgrdShared;
import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A cluster repmgr4j built with the real repmgr extension (its library preloaded), a real
 * repmgrd on one standby and repmgr4j daemons on the other nodes: service status shows
 * both kinds, one pause (either tool's) pauses both, and after kill -9 of the primary
 * exactly one node is promoted and every standby follows it.
 */
class RealRepmgrdMixedClusterTest {

    @Test
    void realRepmgrdAndRepmgr4jDaemonsShareOnePauseAndOneFailover() throws SQLException {
        List<FailoverDaemon> daemons = new ArrayList<>();
        try (PgReplicaSet set = PgReplicaSet.start(3, b -> b.setting("shared_preload_libraries", "repmgr"));
             ReplicationCluster cluster = ReplicationClusters.connect(set.primary().conninfo());
             RealRepmgr repmgr = new RealRepmgr()) {
            PgServer pg1 = set.server("pg1");
            PgServer pg2 = set.server("pg2");
            PgServer pg3 = set.server("pg3");
            Path bin = RealRepmgr.program(pg2, "repmgr");
            Path conf1 = repmgr.configure(1, pg1, "priority=100");
            Path conf2 = repmgr.directory().resolve("node2.conf");
            repmgr.configure(2, pg2, "priority=100", "failover=automatic", "monitor_interval_secs=1", "reconnect_attempts=2",
                    "reconnect_interval=1", "log_level=INFO",
                    "promote_command='" + bin + " standby promote -f " + conf2 + "'",
                    "follow_command='" + bin + " standby follow -f " + conf2 + " --upstream-node-id=%n'");
            Path conf3 = repmgr.configure(3, pg3, "priority=50");
            List<NodeConfig> configs = List.of(config(1, pg1, 100, b -> b.configFile(conf1.toString())),
                    config(2, pg2, 100, b -> b.configFile(conf2.toString())),
                    config(3, pg3, 50, b -> b.configFile(conf3.toString())));
            cluster.registerPrimary(configs.get(0)).execute();
            try (Connection c = pg1.connect()) {
                assertThat(RepmgrdShared.installedVersion(c)).as("the metadata is the repmgr extension's").isPresent();
                assertThat(RepmgrdShared.read(c).presence()).isEqualTo(RepmgrdShared.Presence.LOADED);
            }
            cluster.registerStandby(configs.get(1)).waitUntilAttached(Duration.ofSeconds(30)).execute();
            cluster.registerStandby(configs.get(2)).waitUntilAttached(Duration.ofSeconds(30)).execute();

            Process repmgrd = repmgr.startRepmgrd(pg2, 2);
            daemons.add(cluster.daemon(configs.get(0), fast()).start());
            daemons.add(cluster.daemon(configs.get(2), fast()).start());
            await("real repmgrd on pg2 to run and see pg1\n" + repmgr.repmgrdLog(2), Duration.ofSeconds(30), () -> {
                try (Connection c = pg2.connect()) {
                    RepmgrdShared.State s = RepmgrdShared.read(c);
                    return s.repmgrdRunning() && s.upstreamLastSeenSecs().isPresent();
                } catch (SQLException e) {
                    return false;
                }
            });
            await("pg3's daemon to see pg1", Duration.ofSeconds(20), () -> daemons.get(1).status().upstreamLastSeen().isPresent());

            // service status: repmgr4j reports the real repmgrd as repmgr does
            ServiceStatus st = cluster.serviceStatus().execute();
            NodeServiceStatus row2 = st.node(2).orElseThrow();
            assertThat(row2.daemonRunning()).hasValue(true);
            assertThat(row2.daemonPid()).hasValue(RealRepmgr.repmgrdPid(repmgrd));
            assertThat(row2.paused()).hasValue(false);
            assertThat(st.node(3).orElseThrow().daemonRunning()).hasValue(true);
            // (cell by cell: with the extension, real repmgr sees only repmgrd, so its other rows say "not running"
            // and its columns may be wider)
            String real = repmgr.ok(pg1, 1, "service", "status");
            assertThat(cells(line(real, " 2 "))).isEqualTo(cells(line(ServiceStatusFormat.table(cluster.serviceStatus().execute()), " 2 ")));

            // repmgr4j's pause pauses the real repmgrd too, and says so only where it did
            cluster.pauseDaemons().waitUntilApplied(Duration.ofSeconds(10)).execute();
            assertThat(realPaused(pg2)).isTrue();
            assertThat(repmgr.ok(pg1, 1, "service", "status", "--csv").lines().filter(l -> l.startsWith("2,")).findFirst().orElseThrow())
                    .matches("2,pg2,standby,1,1,[0-9]+,1,.*");
            assertThat(cluster.serviceStatus().execute().nodes()).allSatisfy(n -> assertThat(n.paused()).hasValue(true));
            cluster.unpauseDaemons().waitUntilApplied(Duration.ofSeconds(10)).execute();
            assertThat(realPaused(pg2)).isFalse();

            // a real pause pauses repmgr4j's daemons
            repmgr.ok(pg3, 3, "service", "pause");
            await("repmgr4j daemons to honour repmgr service pause", Duration.ofSeconds(10),
                    () -> daemons.stream().allMatch(d -> d.status().paused()));
            assertThat(realPaused(pg2)).isTrue();
            repmgr.ok(pg3, 3, "service", "unpause");
            await("repmgr4j daemons to honour repmgr service unpause", Duration.ofSeconds(10),
                    () -> daemons.stream().noneMatch(d -> d.status().paused()));
            assertThat(realPaused(pg2)).isFalse();

            // kill -9 of the primary: exactly one promotion, every standby follows it
            pg1.kill9();
            try {
                await("pg2 to be promoted", Duration.ofSeconds(90), () -> isPrimary(pg2));
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + "; pg3 primary: " + isPrimary(pg3) + "; repmgrd's log:\n"
                        + repmgr.repmgrdLog(2), e);
            }
            pg2.waitForStreaming(pg3, Duration.ofSeconds(60));
            assertThat(isPrimary(pg3)).isFalse();
            await("the promotion to be recorded", Duration.ofSeconds(30), () ->
                    !cluster.events().event(DaemonEvents.REPMGRD_FAILOVER_PROMOTE).limit(10).list().isEmpty());
            DaemonTestSupport.sleep(3000);
            List<EventRecord> promotions = cluster.events().event(DaemonEvents.REPMGRD_FAILOVER_PROMOTE).limit(10).list();
            assertThat(promotions).hasSize(1).allSatisfy(e -> assertThat(e.nodeId()).isEqualTo(2));
            assertThat(cluster.events().event("standby_promote").limit(10).list()).hasSize(1);
            assertThat(isPrimary(pg3)).isFalse();
        } finally {
            daemons.forEach(FailoverDaemon::close);
        }
    }

    private static boolean realPaused(PgServer s) throws SQLException {
        try (Connection c = s.connect()) {
            return RepmgrdShared.read(c).paused();
        }
    }

    private static List<String> cells(String row) {
        return java.util.Arrays.stream(row.split("\\|")).map(String::strip).toList();
    }

    /** The table row starting with {@code prefix}, with the seconds of "N second(s) ago" blanked. */
    private static String line(String table, String prefix) {
        return table.lines().filter(l -> l.startsWith(prefix)).findFirst().orElseThrow()
                .replaceAll("[0-9]+ second\\(s\\) ago", "N second(s) ago");
    }
}
