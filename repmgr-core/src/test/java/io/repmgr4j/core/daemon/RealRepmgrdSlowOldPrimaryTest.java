package io.repmgr4j.core.daemon;

import static io.repmgr4j.core.daemon.DaemonTestSupport.await;
import static io.repmgr4j.core.daemon.DaemonTestSupport.config;
import static io.repmgr4j.core.daemon.DaemonTestSupport.isPrimary;
import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.DaemonEvents;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.core.ReplicationClusters;
import io.repmgr4j.format.OperationReportFormat;
import io.repmgr4j.plan.OperationReport;
import io.repmgr4j.sql.RepmgrdShared;
import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A repmgr4j switchover on a cluster registered by the real repmgr 5.3 with a real repmgrd
 * on each standby (automatic failover, 1 s monitoring, 2 reconnect attempts 1 s apart),
 * where the old primary restarts 5 s slower (its service_start_command sleeps 5 s before
 * pg_ctl start): longer than the repmgrds need to decide on a failover. The switchover
 * pauses both repmgrds for its whole duration, the old primary included, so no repmgrd
 * promotes (no repmgrd_failover_promote event), exactly one node is writable all along and
 * after, and both repmgrds are unpaused at the end and keep monitoring the new topology.
 */
class RealRepmgrdSlowOldPrimaryTest {

    @Test
    void aSwitchoverWithASlowOldPrimaryLeavesOnePrimaryAndNoRepmgrdPromotion() throws Exception {
        try (PgReplicaSet set = PgReplicaSet.start(3, b -> b.setting("shared_preload_libraries", "repmgr")
                .setting("wal_retrieve_retry_interval", "200ms"));
             RealRepmgr repmgr = new RealRepmgr()) {
            PgServer pg1 = set.server("pg1");
            PgServer pg2 = set.server("pg2");
            PgServer pg3 = set.server("pg3");
            List<PgServer> all = List.of(pg1, pg2, pg3);
            Path bin = RealRepmgr.program(pg1, "repmgr");
            for (int id = 1; id <= 3; id++) {
                Path conf = repmgr.directory().resolve("node" + id + ".conf");
                repmgr.configure(id, all.get(id - 1), "priority=100", "failover=automatic", "monitor_interval_secs=1",
                        "reconnect_attempts=2", "reconnect_interval=1", "log_level=INFO",
                        "promote_command='" + bin + " standby promote -f " + conf + "'",
                        "follow_command='" + bin + " standby follow -f " + conf + " --upstream-node-id=%n'");
            }
            repmgr.ok(pg1, 1, "primary", "register");
            for (PgServer s : List.of(pg2, pg3)) {
                await("the metadata to reach " + s.name(), Duration.ofSeconds(20), () -> {
                    try {
                        return s.query("SELECT count(*) FROM pg_catalog.pg_extension WHERE extname = 'repmgr'", Long.class) == 1;
                    } catch (RuntimeException e) {
                        return false;
                    }
                });
            }
            repmgr.ok(pg2, 2, "standby", "register");
            repmgr.ok(pg3, 3, "standby", "register");
            repmgr.startRepmgrd(pg2, 2);
            repmgr.startRepmgrd(pg3, 3);
            await("both repmgrds to run and see pg1\n" + repmgr.repmgrdLog(2) + "\n" + repmgr.repmgrdLog(3),
                    Duration.ofSeconds(30), () -> List.of(pg2, pg3).stream().allMatch(s -> {
                        try (Connection c = s.connect()) {
                            RepmgrdShared.State st = RepmgrdShared.read(c);
                            return st.repmgrdRunning() && st.upstreamLastSeenSecs().isPresent();
                        } catch (SQLException e) {
                            return false;
                        }
                    }));

            // the old primary's start waits 5 s, then starts it as pg_ctl would (and leaves a mark that it ran)
            Path ran = repmgr.directory().resolve("slow-start-ran");
            String slowStart = "sleep 5 && touch '" + ran + "' && cd '" + pg1.dataDirectory() + "' && PGDATA='"
                    + pg1.dataDirectory() + "' exec '" + pg1.bindir().resolve("pg_ctl") + "' start -w -t 60 -l '" + pg1.logFile() + "'";
            List<NodeConfig> configs = List.of(config(1, pg1, 100, b -> b.serviceStartCommand(slowStart)),
                    config(2, pg2, 100), config(3, pg3, 100));
            try (ReplicationCluster cluster = ReplicationClusters.builder().seed(pg1.conninfo())
                    .node(configs.get(0)).node(configs.get(1)).node(configs.get(2)).build()) {
                Map<String, Boolean> seenPaused = new ConcurrentHashMap<>();
                AtomicInteger mostWritable = new AtomicInteger();
                AtomicBoolean watching = new AtomicBoolean(true);
                Thread watcher = new Thread(() -> {
                    while (watching.get()) {
                        mostWritable.accumulateAndGet(writable(all), Math::max);
                        for (PgServer s : List.of(pg2, pg3)) {
                            try (Connection c = s.connect()) {
                                if (RepmgrdShared.read(c).paused()) {
                                    seenPaused.put(s.name(), true);
                                }
                            } catch (SQLException | RuntimeException e) {
                                // restarting
                            }
                        }
                        DaemonTestSupport.sleep(50);
                    }
                });
                watcher.start();
                OperationReport r;
                try {
                    r = cluster.switchover(configs.get(1)).siblingsFollow(true).execute();
                    assertThat(r.successful()).as(OperationReportFormat.text(r)).isTrue();
                    assertThat(ran).as("the old primary was started by its slow service_start_command").exists();
                    assertThat(isPrimary(pg2)).isTrue();
                    pg2.waitForStreaming(pg1, Duration.ofSeconds(30));
                    pg2.waitForStreaming(pg3, Duration.ofSeconds(30));
                    // the repmgrds, unpaused, would fail over within ~3 s of a lost primary: give them three times that
                    DaemonTestSupport.sleep(10_000);
                } finally {
                    watching.set(false);
                    watcher.join(5000);
                }
                String logs = "\nrepmgrd pg2:\n" + repmgr.repmgrdLog(2) + "\nrepmgrd pg3:\n" + repmgr.repmgrdLog(3);
                assertThat(seenPaused).as("both repmgrds paused during the switchover" + logs).containsKeys("pg2", "pg3");
                assertThat(cluster.events().event(DaemonEvents.REPMGRD_FAILOVER_PROMOTE).limit(10).list()).as(logs).isEmpty();
                assertThat(mostWritable.get()).as("never two writable nodes" + logs).isEqualTo(1);
                assertThat(writable(all)).as(logs).isEqualTo(1);
                assertThat(isPrimary(pg2)).as(logs).isTrue();
                for (PgServer s : List.of(pg2, pg3)) {
                    try (Connection c = s.connect()) {
                        RepmgrdShared.State st = RepmgrdShared.read(c);
                        assertThat(st.paused()).as(s.name() + " unpaused" + logs).isFalse();
                        assertThat(st.repmgrdRunning()).as(s.name() + " still running" + logs).isTrue();
                    }
                }
                await("pg3's repmgrd to monitor pg2 as its upstream" + logs, Duration.ofSeconds(30), () -> {
                    try (Connection c = pg3.connect()) {
                        RepmgrdShared.State st = RepmgrdShared.read(c);
                        return st.upstreamNodeId().orElse(-1) == 2 && st.upstreamLastSeenSecs().isPresent();
                    } catch (SQLException e) {
                        return false;
                    }
                });
                assertThat(pg1.inRecovery()).isTrue();
                assertThat(pg3.inRecovery()).isTrue();
            }
        }
    }

    /** How many of the servers answer and accept writes. */
    private static int writable(List<PgServer> servers) {
        int n = 0;
        for (PgServer s : servers) {
            if (isPrimary(s)) {
                n++;
            }
        }
        return n;
    }
}
