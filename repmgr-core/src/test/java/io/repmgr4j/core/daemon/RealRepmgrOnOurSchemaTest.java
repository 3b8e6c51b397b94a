package io.repmgr4j.core.daemon;

import static io.repmgr4j.core.daemon.DaemonTestSupport.await;
import static io.repmgr4j.core.daemon.DaemonTestSupport.config;
import static io.repmgr4j.core.daemon.DaemonTestSupport.fast;
import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.FailoverDaemon;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.core.ReplicationClusters;
import io.repmgr4j.format.ClusterShowFormat;
import io.repmgr4j.format.EventTableFormat;
import io.repmgr4j.format.ServiceStatusFormat;
import io.repmgr4j.spi.CommandResult;
import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A cluster built by repmgr4j (extension-free schema) with repmgr4j daemons, operated by
 * the real repmgr 5.3 binary: its service status, pause/unpause and node status get true
 * answers from the schema's functions, and its tables match repmgr4j's renderings.
 */
class RealRepmgrOnOurSchemaTest {

    @Test
    void realServiceStatusPauseAndNodeStatusSeeRepmgr4jDaemons() {
        List<FailoverDaemon> daemons = new ArrayList<>();
        try (PgReplicaSet set = PgReplicaSet.start(3);
             ReplicationCluster cluster = ReplicationClusters.connect(set.primary().conninfo());
             RealRepmgr repmgr = new RealRepmgr()) {
            PgServer pg1 = set.server("pg1");
            PgServer pg2 = set.server("pg2");
            PgServer pg3 = set.server("pg3");
            List<NodeConfig> configs = List.of(config(1, pg1, 100), config(2, pg2, 100), config(3, pg3, 100));
            cluster.registerPrimary(configs.get(0)).extensionFree(true).execute();
            cluster.registerStandby(configs.get(1)).waitUntilAttached(Duration.ofSeconds(30)).execute();
            cluster.registerStandby(configs.get(2)).waitUntilAttached(Duration.ofSeconds(30)).execute();
            repmgr.configure(1, pg1);
            repmgr.configure(2, pg2);
            repmgr.configure(3, pg3);

            // no daemon yet: real repmgr says "not running", as for a cluster without repmgrd
            String none = repmgr.ok(pg1, 1, "service", "status", "--csv");
            // CSV: id,name,role,postgres running,repmgrd running,pid,paused,priority,upstream last seen,location
            assertThat(none.lines()).hasSize(3).allSatisfy(l -> assertThat(field(l, 4) + field(l, 5) + field(l, 6)).isEqualTo("0-10"));

            for (NodeConfig c : configs) {
                daemons.add(cluster.daemon(c, fast()).start());
            }
            await("standby daemons to see pg1", Duration.ofSeconds(20), () ->
                    daemons.get(1).status().upstreamLastSeen().isPresent() && daemons.get(2).status().upstreamLastSeen().isPresent());

            String status = repmgr.ok(pg1, 1, "service", "status");
            long pid = ProcessHandle.current().pid();
            assertThat(status.lines().skip(2).toList()).hasSize(3).allSatisfy(l -> {
                assertThat(l).contains("| running ").contains("| " + pid + " ").contains("| no ");
            });
            assertThat(status).contains("second(s) ago");
            // repmgr4j's rendering of the same state is repmgr's, byte for byte (the seconds can tick between the two)
            assertThat(withoutSeconds(ServiceStatusFormat.table(cluster.serviceStatus().execute())))
                    .isEqualTo(withoutSeconds(repmgr.ok(pg1, 1, "service", "status")));

            // a real pause pauses repmgr4j's daemons
            repmgr.ok(pg1, 1, "service", "pause");
            await("every repmgr4j daemon to be paused by repmgr service pause", Duration.ofSeconds(20),
                    () -> daemons.stream().allMatch(d -> d.status().paused()));
            await("repmgr service status to show them paused", Duration.ofSeconds(10), () ->
                    repmgr.ok(pg2, 2, "service", "status", "--csv").lines().allMatch(l -> field(l, 4).equals("1") && field(l, 6).equals("1")));
            assertThat(cluster.serviceStatus().execute().nodes()).allSatisfy(n -> assertThat(n.paused()).hasValue(true));
            repmgr.ok(pg3, 3, "service", "unpause");
            await("every repmgr4j daemon to be unpaused by repmgr service unpause", Duration.ofSeconds(20),
                    () -> daemons.stream().noneMatch(d -> d.status().paused()));

            // node status on a standby reads the real receive position
            CommandResult ns = repmgr.run(pg2, 2, Duration.ofSeconds(30), "node", "status");
            assertThat(ns.exitCode()).as(ns.stdout() + ns.stderr()).isZero();
            assertThat(ns.stdout()).contains("Last received LSN").doesNotContain("Last received LSN: 0/0");
            assertThat(ns.stderr()).doesNotContain("ERROR");

            // cluster show and cluster event: the real tables equal repmgr4j's
            assertThat(ClusterShowFormat.table(cluster.show().execute())).isEqualTo(repmgr.ok(pg1, 1, "cluster", "show"));
            assertThat(EventTableFormat.table(cluster.events().limit(20).list())).isEqualTo(repmgr.ok(pg1, 1, "cluster", "event"));

            // what needs the extension refuses before changing anything: a real repmgrd does not start
            int events = cluster.events().limit(1000).list().size();
            CommandResult rd = pg2.runner().run(io.repmgr4j.spi.Command.of(RealRepmgr.program(pg2, "repmgrd").toString(),
                    "-f", repmgr.directory().resolve("node2.conf").toString(), "--daemonize=false", "--no-pid-file")
                    .withTimeout(Duration.ofSeconds(30)));
            assertThat(rd.timedOut()).as(rd.stdout() + rd.stderr()).isFalse();
            assertThat(rd.exitCode()).as(rd.stdout() + rd.stderr()).isNotZero();
            assertThat(rd.stdout() + rd.stderr()).contains("extension");
            assertThat(cluster.events().limit(1000).list()).hasSize(events);
            assertThat(daemons).allSatisfy(d -> assertThat(d.status().mode()).isNotEqualTo(io.repmgr4j.DaemonMode.STOPPED));
        } finally {
            daemons.forEach(FailoverDaemon::close);
        }
    }

    private static String field(String csvLine, int i) {
        return csvLine.split(",", -1)[i];
    }

    private static String withoutSeconds(String table) {
        return table.replaceAll("[0-9]+ second\\(s\\) ago", "N second(s) ago");
    }
}
