package io.repmgr4j.core.daemon;

import static io.repmgr4j.core.daemon.DaemonTestSupport.await;
import static io.repmgr4j.core.daemon.DaemonTestSupport.config;
import static io.repmgr4j.core.daemon.DaemonTestSupport.isPrimary;
import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.DaemonEvents;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.ServiceStatus;
import io.repmgr4j.core.ReplicationClusters;
import io.repmgr4j.format.ClusterShowFormat;
import io.repmgr4j.format.EventTableFormat;
import io.repmgr4j.format.ServiceStatusFormat;
import io.repmgr4j.sql.RepmgrdShared;
import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * The other direction: a cluster registered by the real repmgr (its extension, library
 * preloaded) with a real repmgrd on every node, operated by repmgr4j: repmgr4j's tables
 * equal repmgr's own, service status reports the repmgrds as repmgr does, pauseDaemons
 * pauses them, and a repmgr4j switchover pauses every repmgrd for its duration (none
 * promotes) and unpauses them afterwards.
 */
class Repmgr4jOnRepmgrClusterTest {

    @Test
    void repmgr4jOperatesAClusterRegisteredByRepmgrWithRepmgrdRunning() throws Exception {
        try (PgReplicaSet set = PgReplicaSet.start(3, b -> b.setting("shared_preload_libraries", "repmgr")
                .setting("wal_retrieve_retry_interval", "200ms"));
             RealRepmgr repmgr = new RealRepmgr()) {
            PgServer pg1 = set.server("pg1");
            PgServer pg2 = set.server("pg2");
            PgServer pg3 = set.server("pg3");
            Path bin = RealRepmgr.program(pg1, "repmgr");
            PgServer[] servers = {pg1, pg2, pg3};
            for (int id = 1; id <= 3; id++) {
                Path conf = repmgr.directory().resolve("node" + id + ".conf");
                repmgr.configure(id, servers[id - 1], "priority=100", "failover=automatic", "monitor_interval_secs=1",
                        "reconnect_attempts=2", "reconnect_interval=1",
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
            List<NodeConfig> configs = List.of(config(1, pg1, 100), config(2, pg2, 100), config(3, pg3, 100));
            try (ReplicationCluster cluster = ReplicationClusters.builder().seed(pg1.conninfo())
                    .node(configs.get(0)).node(configs.get(1)).node(configs.get(2)).build()) {
                // repmgr4j's renderings of repmgr's cluster are repmgr's own
                assertThat(ClusterShowFormat.table(cluster.show().execute())).isEqualTo(repmgr.ok(pg2, 2, "cluster", "show"));
                assertThat(EventTableFormat.table(cluster.events().limit(20).list())).isEqualTo(repmgr.ok(pg2, 2, "cluster", "event"));

                for (int id = 1; id <= 3; id++) {
                    repmgr.startRepmgrd(servers[id - 1], id);
                }
                await("every repmgrd to run", Duration.ofSeconds(30), () -> List.of(pg1, pg2, pg3).stream().allMatch(s -> {
                    try (Connection c = s.connect()) {
                        RepmgrdShared.State st = RepmgrdShared.read(c);
                        return st.repmgrdRunning() && (s == pg1 || st.upstreamLastSeenSecs().isPresent());
                    } catch (SQLException e) {
                        return false;
                    }
                }));
                ServiceStatus status = cluster.serviceStatus().execute();
                assertThat(status.nodes()).allSatisfy(n -> assertThat(n.daemonRunning()).hasValue(true));
                assertThat(withoutSeconds(ServiceStatusFormat.table(cluster.serviceStatus().execute())))
                        .isEqualTo(withoutSeconds(repmgr.ok(pg1, 1, "service", "status")));

                cluster.pauseDaemons().execute();
                assertThat(List.of(pg1, pg2, pg3)).allSatisfy(s -> assertThat(paused(s)).isTrue());
                assertThat(repmgr.ok(pg1, 1, "service", "status", "--csv").lines())
                        .allSatisfy(l -> assertThat(l.split(",")[6]).isEqualTo("1"));
                cluster.unpauseDaemons().execute();
                assertThat(List.of(pg1, pg2, pg3)).allSatisfy(s -> assertThat(paused(s)).isFalse());

                // a switchover pauses every repmgrd while it runs, and unpauses them after
                Map<String, Boolean> seenPaused = new ConcurrentHashMap<>();
                AtomicBoolean watching = new AtomicBoolean(true);
                Thread watcher = new Thread(() -> {
                    while (watching.get()) {
                        for (PgServer s : List.of(pg2, pg3)) {
                            try (Connection c = s.connect()) {
                                if (RepmgrdShared.read(c).paused()) {
                                    seenPaused.put(s.name(), true);
                                }
                            } catch (SQLException | RuntimeException e) {
                                // restarting
                            }
                        }
                        DaemonTestSupport.sleep(20);
                    }
                });
                watcher.start();
                try {
                    cluster.switchover(configs.get(1)).siblingsFollow(true).execute();
                } finally {
                    watching.set(false);
                    watcher.join(5000);
                }
                assertThat(seenPaused).containsKeys("pg2", "pg3");
                assertThat(isPrimary(pg2)).isTrue();
                pg2.waitForStreaming(pg1, Duration.ofSeconds(30));
                pg2.waitForStreaming(pg3, Duration.ofSeconds(30));
                assertThat(List.of(pg1, pg2, pg3)).allSatisfy(s -> assertThat(paused(s)).as(s.name()).isFalse());
                DaemonTestSupport.sleep(3000);
                assertThat(cluster.events().event(DaemonEvents.REPMGRD_FAILOVER_PROMOTE).limit(10).list()).isEmpty();
                assertThat(isPrimary(pg1)).isFalse();
                assertThat(isPrimary(pg3)).isFalse();
                // and repmgr reads the result as repmgr4j does. repmgr shows the timeline of each node's last
                // checkpoint (pg_control_checkpoint), repmgr4j the current one; they agree once a checkpoint has
                // been taken (and replayed) on the new timeline
                pg2.execute("CHECKPOINT");
                for (PgServer s : List.of(pg1, pg3)) {
                    await(s.name() + "'s last checkpoint to be on the new timeline", Duration.ofSeconds(30), () -> {
                        s.execute("CHECKPOINT");
                        return s.query("SELECT timeline_id FROM pg_catalog.pg_control_checkpoint()", Integer.class) == 2;
                    });
                }
                assertThat(ClusterShowFormat.table(cluster.show().execute())).isEqualTo(repmgr.ok(pg3, 3, "cluster", "show"));
            }
        }
    }

    @Test
    void aPromoteAfterAFailurePausesTheRunningRepmgrdsAndUnpausesOnlyThose() throws Exception {
        try (PgReplicaSet set = PgReplicaSet.start(3, b -> b.setting("shared_preload_libraries", "repmgr"));
             RealRepmgr repmgr = new RealRepmgr()) {
            PgServer pg1 = set.server("pg1");
            PgServer pg2 = set.server("pg2");
            PgServer pg3 = set.server("pg3");
            PgServer[] servers = {pg1, pg2, pg3};
            for (int id = 1; id <= 3; id++) {
                repmgr.configure(id, servers[id - 1], "failover=manual", "monitor_interval_secs=1");
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
            await("both repmgrds to run", Duration.ofSeconds(30), () -> List.of(pg2, pg3).stream().allMatch(s -> {
                try (Connection c = s.connect()) {
                    return RepmgrdShared.read(c).repmgrdRunning();
                } catch (SQLException e) {
                    return false;
                }
            }));
            // pg3's repmgrd was paused by someone else before: the promote must leave it paused
            pg3.execute("SELECT repmgr.repmgrd_pause(true)");
            List<NodeConfig> configs = List.of(config(1, pg1, 100), config(2, pg2, 100), config(3, pg3, 100));
            try (ReplicationCluster cluster = ReplicationClusters.builder().seed(pg2.conninfo())
                    .node(configs.get(0)).node(configs.get(1)).node(configs.get(2)).build()) {
                pg1.kill9();
                AtomicBoolean watching = new AtomicBoolean(true);
                AtomicBoolean pg2Paused = new AtomicBoolean();
                Thread watcher = new Thread(() -> {
                    while (watching.get()) {
                        try (Connection c = pg2.connect()) {
                            if (RepmgrdShared.read(c).paused()) {
                                pg2Paused.set(true);
                            }
                        } catch (SQLException | RuntimeException e) {
                            // promoting
                        }
                        DaemonTestSupport.sleep(10);
                    }
                });
                watcher.start();
                try {
                    cluster.promote(2).siblingsFollow(true).execute();
                } finally {
                    watching.set(false);
                    watcher.join(5000);
                }
                assertThat(pg2Paused).as("pg2's repmgrd was paused during the promotion").isTrue();
                assertThat(isPrimary(pg2)).isTrue();
                pg2.waitForStreaming(pg3, Duration.ofSeconds(30));
                assertThat(paused(pg2)).as("unpaused after").isFalse();
                assertThat(paused(pg3)).as("paused before, so left paused").isTrue();
            }
        }
    }

    private static boolean paused(PgServer s) {
        try (Connection c = s.connect()) {
            return RepmgrdShared.read(c).paused();
        } catch (SQLException e) {
            throw new AssertionError(e);
        }
    }

    private static String withoutSeconds(String table) {
        return table.replaceAll("[0-9]+ second\\(s\\) ago", "N second(s) ago");
    }
}
