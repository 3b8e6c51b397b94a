package io.repmgr4j.testcontainers;

import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.NodeConfig;
import io.repmgr4j.plan.OperationReport;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.core.ReplicationClusters;
import io.repmgr4j.format.OperationReportFormat;
import io.repmgr4j.spi.Command;
import io.repmgr4j.spi.CommandResult;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * The Testcontainers provider against a real Docker engine and a PostgreSQL 15 image (run
 * with -Dcontainers; bin/test-containers starts the engine and builds the image): the
 * runner inside a container, a replica set of containers, and the library's clone,
 * switchover, promote after a kill -9 and rejoin with pg_rewind, operating the nodes only
 * through ContainerCommandRunner.
 */
class ContainerReplicaSetTest {

    @Test
    void runnerRunsCommandsInsideTheContainerWithStdinEnvDirectoryAndTimeout() {
        try (PgContainer node = PgContainer.empty("runner1")) {
            ContainerCommandRunner r = node.runner();
            CommandResult who = r.run(Command.of("sh", "-c", "id -un; pwd; echo \"$GREETING\"; cat; echo oops >&2; exit 3")
                    .withEnv("GREETING", "hello").withWorkingDirectory("/tmp").withStdin("from stdin\n"));
            assertThat(who.exitCode()).isEqualTo(3);
            assertThat(who.stdout()).isEqualTo("postgres\n/tmp\nhello\nfrom stdin\n");
            assertThat(who.stderr()).isEqualTo("oops\n");
            assertThat(who.timedOut()).isFalse();

            List<String> lines = new CopyOnWriteArrayList<>();
            CommandResult listened = r.run(Command.of("sh", "-c", "echo one; echo two >&2; echo three")
                    .withOutputListener((stream, line) -> lines.add(stream + ":" + line)));
            assertThat(listened.succeeded()).isTrue();
            assertThat(lines).contains("STDOUT:one", "STDERR:two", "STDOUT:three");

            CommandResult slow = r.run(Command.of("sleep", "30").withTimeout(Duration.ofSeconds(1)));
            assertThat(slow.timedOut()).isTrue();
            assertThat(slow.succeeded()).isFalse();
            CommandResult left = r.run(Command.of("sh", "-c", "cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' '; echo"));
            assertThat(left.stdout()).contains("sleep infinity").doesNotContain("sleep 30");   // the timed-out one was killed
            assertThat(r.describe()).isEqualTo("container runner1 (as postgres)");
        }
    }

    @Test
    void theLibraryClonesSwitchesOverPromotesAndRejoinsContainers() {
        try (PgContainerReplicaSet set = PgContainerReplicaSet.start(2); PgContainer pg3 = PgContainer.empty("pg3")) {
            assertThat(set.primary().inRecovery()).isFalse();
            assertThat(set.node(2).inRecovery()).isTrue();
            NodeConfig c1 = config(1, set.node(1));
            NodeConfig c2 = config(2, set.node(2));
            NodeConfig c3 = config(3, pg3);
            try (ReplicationCluster cluster = ReplicationClusters.builder().seed(c1.conninfo())
                    .node(c1, set.node(1).runner()).node(c2, set.node(2).runner()).node(c3, pg3.runner()).build()) {
                cluster.registerPrimary(c1).execute();
                cluster.registerStandby(c2).upstreamNodeId(1).waitUntilAttached(Duration.ofSeconds(30)).execute();

                // clone: pg_basebackup runs inside pg3's container
                var clone = cluster.cloneStandby(c3).upstreamNodeId(1).fastCheckpoint(true)
                        .thenStart().waitUntilStreaming(Duration.ofSeconds(60)).thenRegister().execute();
                assertThat(clone.record()).isPresent();
                assertThat(clone.sizeBytes()).isPositive();
                assertThat(pg3.inRecovery()).isTrue();
                set.primary().execute("CREATE TABLE t (i int); INSERT INTO t VALUES (1)");

                // switchover to pg2, pg3 follows
                OperationReport sw = cluster.switchover(2).siblingsFollow(true).execute();
                assertThat(sw.successful()).as(OperationReportFormat.text(sw)).isTrue();
                assertThat(set.node(2).inRecovery()).isFalse();
                assertThat(set.node(1).inRecovery()).isTrue();
                set.node(2).waitForStreaming("pg1", Duration.ofSeconds(30));
                set.node(2).waitForStreaming("pg3", Duration.ofSeconds(30));

                // kill -9 of the new primary, promote pg3, pg1 follows, rejoin pg2 with pg_rewind
                set.node(2).execute("INSERT INTO t VALUES (2)");
                set.node(2).kill9();
                OperationReport promote = cluster.promote(3).siblingsFollow(true).execute();
                assertThat(promote.successful()).as(OperationReportFormat.text(promote)).isTrue();
                pg3.execute("INSERT INTO t VALUES (3)");
                OperationReport rejoin = cluster.rejoin(c2).targetNodeId(3).recoverCrashedNode(true).forceRewind(true).execute();
                assertThat(rejoin.successful()).as(OperationReportFormat.text(rejoin)).isTrue();
                pg3.waitForStreaming("pg1", Duration.ofSeconds(30));
                pg3.waitForStreaming("pg2", Duration.ofSeconds(30));
                assertThat(set.node(2).inRecovery()).isTrue();
                awaitRows(set.node(2), 3);
                awaitRows(set.node(1), 3);
            }
        }
    }

    private static NodeConfig config(int id, PgContainer n) {
        return NodeConfig.builder().nodeId(id).nodeName(n.name()).conninfo(n.conninfo())
                .dataDirectory(n.dataDirectory()).pgBindir(n.bindir())
                .promoteCheckTimeout(30).shutdownCheckTimeout(30).nodeRejoinTimeout(30).standbyReconnectTimeout(30).build();
    }

    private static void awaitRows(PgContainer node, long rows) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        long seen = -1;
        while (System.nanoTime() < deadline) {
            seen = node.query("SELECT count(*) FROM t", Long.class);
            if (seen == rows) {
                return;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        assertThat(seen).as(node.name() + " rows in t").isEqualTo(rows);
    }

    @Test
    void settingsAndCascadeAreApplied() {
        try (PgContainerReplicaSet set = PgContainerReplicaSet.start(3, Map.of("work_mem", "7MB"), Map.of(3, 2))) {
            assertThat(set.node(3).query("SHOW work_mem", String.class)).isEqualTo("7MB");
            assertThat(set.node(2).query("SELECT string_agg(application_name, ',') FROM pg_stat_replication", String.class))
                    .isEqualTo("pg3");
        }
    }
}
