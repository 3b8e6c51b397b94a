package io.repmgr4j.testcontainers;

import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.DaemonOptions;
import io.repmgr4j.FailoverDaemon;
import io.repmgr4j.FailoverMode;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.core.ReplicationClusters;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/**
 * The failover daemon against containers (run with -Dcontainers): pg1 primary, pg2
 * (priority 80) and pg3 (priority 20), a daemon on each; kill -9 of pg1's postmaster inside
 * its container promotes pg2, and pg3 follows it.
 */
class ContainerFailoverTest {

    @Test
    void daemonsPromoteTheHigherPriorityStandbyAndTheOtherFollows() {
        try (PgContainerReplicaSet set = PgContainerReplicaSet.start(3)) {
            NodeConfig c1 = config(1, set.node(1), 100);
            NodeConfig c2 = config(2, set.node(2), 80);
            NodeConfig c3 = config(3, set.node(3), 20);
            try (ReplicationCluster cluster = ReplicationClusters.builder().seed(c1.conninfo())
                    .node(c1, set.node(1).runner()).node(c2, set.node(2).runner()).node(c3, set.node(3).runner()).build()) {
                cluster.registerPrimary(c1).execute();
                cluster.registerStandby(c2).waitUntilAttached(Duration.ofSeconds(30)).execute();
                cluster.registerStandby(c3).waitUntilAttached(Duration.ofSeconds(30)).execute();
                DaemonOptions options = DaemonOptions.builder().monitorInterval(Duration.ofMillis(300))
                        .reconnectInterval(Duration.ofMillis(300)).primaryWaitTimeout(Duration.ofSeconds(20)).build();
                List<FailoverDaemon> daemons = new ArrayList<>();
                try {
                    for (NodeConfig c : List.of(c1, c2, c3)) {
                        daemons.add(cluster.daemon(c, options).start());
                    }
                    await("the standbys' daemons to see pg1", () -> daemons.get(1).status().upstreamLastSeen().isPresent()
                            && daemons.get(2).status().upstreamLastSeen().isPresent());
                    PgContainer pg1 = set.node(1);
                    PgContainer pg2 = set.node(2);
                    PgContainer pg3 = set.node(3);
                    pg1.execute("CREATE TABLE failover_probe (i int); INSERT INTO failover_probe VALUES (1)");
                    String lsn = pg1.query("SELECT pg_current_wal_lsn()::text", String.class);
                    await("both standbys to replay " + lsn, () -> replayed(pg2, lsn) && replayed(pg3, lsn));

                    pg1.kill9();

                    await("pg2 to be promoted", () -> !inRecovery(pg2));
                    pg2.waitForStreaming("pg3", Duration.ofSeconds(30));
                    assertThat(pg3.inRecovery()).isTrue();
                    assertThat(pg3.query("SELECT count(*) FROM failover_probe", Long.class)).isEqualTo(1L);
                    assertThat(cluster.metadata().node(1).orElseThrow().active()).isFalse();
                } finally {
                    daemons.forEach(FailoverDaemon::close);
                }
            }
        }
    }

    private static NodeConfig config(int id, PgContainer n, int priority) {
        return NodeConfig.builder().nodeId(id).nodeName(n.name()).conninfo(n.conninfo())
                .dataDirectory(n.dataDirectory()).pgBindir(n.bindir()).priority(priority)
                .failover(FailoverMode.AUTOMATIC).monitorIntervalSecs(1).reconnectAttempts(2).reconnectInterval(1)
                .promoteCheckTimeout(30).standbyReconnectTimeout(30).build();
    }

    private static boolean replayed(PgContainer n, String lsn) {
        return Boolean.TRUE.equals(n.query("SELECT pg_last_wal_replay_lsn() >= '" + lsn + "'::pg_lsn", Boolean.class));
    }

    private static boolean inRecovery(PgContainer n) {
        try {
            return n.inRecovery();
        } catch (RuntimeException e) {
            return true;
        }
    }

    private static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after 30 s waiting for: " + what);
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for " + what, e);
            }
        }
    }
}
