package io.repmgr4j.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.ErrorCode;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.testkit.PgServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The handle's connections carry a socket timeout from the operation's deadline: with every
 * process of the server stopped by SIGSTOP (it accepts TCP in the kernel but answers
 * nothing), a query on a connection an operation holds fails once the operation's time is
 * up, and a read through a connection the handle kept from an earlier operation fails
 * instead of hanging. The server is continued (SIGCONT) in a finally block. The futures
 * are waited for with a generous bound only so that a regression fails instead of hanging
 * the build; no durations are asserted.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HardeningSocketTimeoutTest {
    private static final long HANG_GUARD_SECONDS = 150;
    private PgServer pg1;
    private PgServer pg2;
    private ReplicationCluster cluster;
    private ClusterContext ctx;

    @BeforeAll
    void start() throws Exception {
        pg1 = PgServer.builder().name("pg1").start();
        cluster = ReplicationClusters.builder().seed(pg1.conninfo()).build();
        cluster.registerPrimary(pg1.nodeConfig(1).build()).execute();
        pg2 = pg1.createStandby("pg2");
        cluster.registerStandby(pg2.nodeConfig(2).build()).execute();
        var f = DefaultReplicationCluster.class.getDeclaredField("ctx");
        f.setAccessible(true);
        ctx = (ClusterContext) f.get(cluster);
    }

    @AfterAll
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
        if (pg2 != null) {
            pg2.close();
        }
        if (pg1 != null) {
            pg1.close();
        }
    }

    private List<Long> serverPids() throws Exception {
        return serverPids(pg1);
    }

    /** The postmaster and its children, by pid. */
    private static List<Long> serverPids(PgServer server) throws Exception {
        long pm = server.postmasterPid();
        List<Long> pids = new ArrayList<>(List.of(pm));
        Path children = Path.of("/proc", String.valueOf(pm), "task", String.valueOf(pm), "children");
        for (String p : Files.readString(children).trim().split("\\s+")) {
            if (!p.isEmpty()) {
                pids.add(Long.parseLong(p));
            }
        }
        return pids;
    }

    private static void signal(String sig, List<Long> pids) throws Exception {
        List<String> argv = new ArrayList<>(List.of("kill", "-" + sig));
        pids.forEach(p -> argv.add(String.valueOf(p)));
        Process p = new ProcessBuilder(argv).inheritIO().start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void aQueryOnAStoppedServerEndsWithTheOperationsDeadline() throws Exception {
        List<Long> pids = List.of();
        try (OperationDeadline d = OperationDeadline.enter(Duration.ofSeconds(3))) {
            Connection c = ctx.connect(pg1.conninfo());
            try (Statement st = c.createStatement()) {
                st.execute("SELECT 1");
            }
            assertThat(c.getNetworkTimeout()).isPositive();
            pids = serverPids();
            signal("STOP", pids);
            CompletableFuture<Throwable> query = CompletableFuture.supplyAsync(() -> {
                try (Statement st = c.createStatement()) {
                    st.execute("SELECT 1");
                    return null;
                } catch (SQLException e) {
                    return e;
                }
            });
            Throwable t = query.get(HANG_GUARD_SECONDS, TimeUnit.SECONDS);
            assertThat(t).isInstanceOf(SQLException.class);
            assertThat(((SQLException) t).getSQLState()).startsWith("08");
            c.close();
        } finally {
            if (!pids.isEmpty()) {
                signal("CONT", pids);
            }
        }
        assertThat(OperationDeadline.remaining()).isEmpty();
        // the server answers again, and the broken connection was not kept
        assertThat(cluster.metadata().nodes()).hasSize(2);
    }

    @Test
    void aProbeTaskTakesTheDeadlineOfTheOperationThatSubmittedIt() throws Exception {
        List<Long> pids = List.of();
        try (OperationDeadline d = OperationDeadline.enter(Duration.ofSeconds(3))) {
            Connection c = ctx.probePool().submit(() -> ctx.connect(pg1.conninfo())).get(HANG_GUARD_SECONDS, TimeUnit.SECONDS);
            // the socket timeout is what was left of the 3 s (it was the 2-minute default on the probe threads)
            assertThat(c.getNetworkTimeout()).isPositive().isLessThanOrEqualTo(3000);
            pids = serverPids();
            signal("STOP", pids);
            Throwable t = ctx.probePool().submit(() -> {
                try (Statement st = c.createStatement()) {
                    st.execute("SELECT 1");
                    return (Throwable) null;
                } catch (SQLException e) {
                    return e;
                }
            }).get(HANG_GUARD_SECONDS, TimeUnit.SECONDS);
            assertThat(t).isInstanceOf(SQLException.class);
            assertThat(((SQLException) t).getSQLState()).startsWith("08");
            c.close();
        } finally {
            if (!pids.isEmpty()) {
                signal("CONT", pids);
            }
        }
        // outside an operation a probe task has no deadline of its own
        Connection c = ctx.probePool().submit(() -> ctx.connect(pg1.conninfo())).get(HANG_GUARD_SECONDS, TimeUnit.SECONDS);
        assertThat(c.getNetworkTimeout()).isEqualTo((int) OperationDeadline.DEFAULT_SOCKET_TIMEOUT.toMillis());
        c.close();
    }

    /**
     * A follow of a SIGSTOPped standby with a 4 s timeout, on a handle whose connect timeout
     * is a minute: its parallel lock probes and its own connects end by the operation's
     * deadline, so it fails with a connect timeout naming the node, well before the
     * handle's connect timeout (the wall-clock bound is deliberately loose: a regression
     * takes over a minute).
     */
    @Test
    void anOperationOnAStoppedServerEndsByItsDeadline() throws Exception {
        List<Long> pids = serverPids(pg2);
        Duration timeout = Duration.ofSeconds(4);
        try (ReplicationCluster slow = ReplicationClusters.builder().seed(pg1.conninfo())
                .connectTimeout(Duration.ofSeconds(60)).build()) {
            assertThat(slow.metadata().nodes()).hasSize(2);
            signal("STOP", pids);
            long t0 = System.nanoTime();
            CompletableFuture<Throwable> follow = CompletableFuture.supplyAsync(() -> {
                try {
                    slow.follow(2).upstreamNodeId(1).timeout(timeout).execute();
                    return null;
                } catch (RuntimeException e) {
                    return e;
                }
            });
            Throwable t = follow.get(HANG_GUARD_SECONDS, TimeUnit.SECONDS);
            Duration took = Duration.ofNanos(System.nanoTime() - t0);
            assertThat(t).isInstanceOf(ReplicationException.class);
            ReplicationException e = (ReplicationException) t;
            assertThat(e.code()).isEqualTo(ErrorCode.FOLLOW_FAIL);
            assertThat(e.toReport()).contains("pg2").containsIgnoringCase("timed out");
            assertThat(took).as("ended by the 4 s deadline, not by the 60 s connect timeout").isLessThan(Duration.ofSeconds(40));
        } finally {
            signal("CONT", pids);
        }
        pg1.waitForStreaming(pg2, Duration.ofSeconds(60));
    }

    @Test
    void aKeptConnectionToAStoppedServerFailsTheReadInsteadOfHanging() throws Exception {
        assertThat(cluster.metadata().nodes()).hasSize(2); // leaves a kept connection behind
        List<Long> pids = serverPids();
        try {
            signal("STOP", pids);
            CompletableFuture<Throwable> read = CompletableFuture.supplyAsync(() -> {
                try {
                    cluster.metadata().nodes();
                    return null;
                } catch (RuntimeException e) {
                    return e;
                }
            });
            Throwable t = read.get(HANG_GUARD_SECONDS, TimeUnit.SECONDS);
            assertThat(t).isInstanceOf(ReplicationException.class);
            assertThat(((ReplicationException) t).code()).isEqualTo(ErrorCode.DB_CONN);
        } finally {
            signal("CONT", pids);
        }
        assertThat(cluster.metadata().nodes()).hasSize(2);
    }
}
