package io.repmgr4j.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.repmgr4j.ErrorCode;
import io.repmgr4j.EventRecord;
import io.repmgr4j.Events;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.NodeType;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.format.OperationReportFormat;
import io.repmgr4j.plan.Check;
import io.repmgr4j.plan.OperationException;
import io.repmgr4j.plan.OperationReport;
import io.repmgr4j.plan.Step;
import io.repmgr4j.spi.Command;
import io.repmgr4j.spi.CommandResult;
import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgSandbox;
import io.repmgr4j.testkit.PgServer;
import io.repmgr4j.testkit.PgWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Switchover on a real 3-node set (a 4th node is cloned on the way): refusals that
 * change nothing, the dry run, three switchovers in a row with siblings following while
 * a client writes, the cluster lock, an old primary that does not stop, and a standby
 * cloned a moment before the switchover.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SwitchoverTest {
    private TopologyFixture fx;
    private PgSandbox sandbox;

    @BeforeAll
    void start() {
        fx = new TopologyFixture(PgReplicaSet.start(3));
    }

    @AfterAll
    void stop() {
        try {
            if (fx != null) {
                fx.close();
            }
        } finally {
            if (sandbox != null) {
                sandbox.close();
            }
        }
    }

    private static void assertRefused(Runnable op, ErrorCode code, String messagePart) {
        assertThatThrownBy(op::run).isInstanceOfSatisfying(OperationException.class, e -> {
            assertThat(e.code()).isEqualTo(code);
            assertThat(e.getMessage()).contains(messagePart);
            assertThat(e.report().successful()).isFalse();
            assertThat(e.report().failedCheck()).isPresent();
            assertThat(e.report().steps()).isEmpty();
        });
    }

    @Test
    @Order(1)
    void badSwitchoversChangeNothing() {
        TopologyFixture.Snapshot before = fx.snapshot();
        ReplicationCluster c = fx.cluster;
        assertRefused(() -> c.switchover(1).execute(), ErrorCode.SWITCHOVER_FAIL, "node \"pg1\" (ID: 1) is already the primary");
        fx.assertUnchanged(before);
        assertRefused(() -> c.switchover(9).execute(), ErrorCode.BAD_CONFIG, "node ID 9 is not registered");
        fx.assertUnchanged(before);

        // a node that is down
        fx.server(3).stop();
        TopologyFixture.Snapshot down = fx.snapshot();
        assertRefused(() -> c.switchover(3).execute(), ErrorCode.SWITCHOVER_FAIL, "unable to connect to node \"pg3\" (ID: 3)");
        fx.assertUnchanged(down);
        fx.server(3).start();
        fx.server(1).waitForStreaming(fx.server(3), Duration.ofSeconds(30));

        // the primary's configuration is not known to the handle
        try (ReplicationCluster partial = ReplicationClusters.builder().seed(fx.server(1).conninfo())
                .node(fx.configs.get(2), fx.server(2).runner()).build()) {
            assertRefused(() -> partial.switchover(2).execute(), ErrorCode.BAD_CONFIG,
                    "the configuration of node \"pg1\" (ID: 1) is not known");
        }
        fx.assertUnchanged(before);
        List<EventRecord> failed = c.events().event(Events.STANDBY_SWITCHOVER).list();
        assertThat(failed).isNotEmpty().noneMatch(EventRecord::successful);
    }

    @Test
    @Order(2)
    void dryRunListsChecksAndStepsAndChangesNothing() {
        TopologyFixture.Snapshot before = fx.snapshot();
        OperationReport plan = fx.cluster.switchover(fx.configs.get(2)).siblingsFollow(true).plan();
        assertThat(plan.dryRun()).isTrue();
        assertThat(plan.successful()).isTrue();
        assertThat(plan.checks()).extracting(Check::outcome).containsOnly(Check.Outcome.OK);
        assertThat(plan.checks()).extracting(Check::name).contains("no other topology operation is running",
                "node \"pg2\" (ID: 2) streams from the primary and is caught up");
        assertThat(plan.steps()).extracting(Step::status).containsOnly(Step.Status.PLANNED);
        assertThat(plan.steps()).extracting(Step::name).anyMatch(n -> n.startsWith("issue CHECKPOINT on node \"pg1\""))
                .anyMatch(n -> n.startsWith("stop node \"pg1\" (ID: 1) (fast)"))
                .anyMatch(n -> n.startsWith("promote node \"pg2\" (ID: 2)"))
                .anyMatch(n -> n.startsWith("make node \"pg3\" (ID: 3) follow") || n.startsWith("check that node \"pg3\" (ID: 3) can follow"));
        assertThat(plan.summary()).contains("would be promoted");
        assertThat(OperationReportFormat.text(plan)).contains("(dry run)", "[planned]");
        fx.assertUnchanged(before);
    }

    @Test
    @Order(3)
    void threeSwitchoversInARowRoundTheSetLoseNoWrite() {
        int term = fx.cluster.metadata().votingTerm();
        int[] targets = {2, 3, 1};
        try (PgWriter writer = PgWriter.start(fx.set.servers(), Duration.ofMillis(10))) {
            writer.awaitCommits(5, Duration.ofSeconds(10));
            int previous = 1;
            for (int target : targets) {
                OperationReport r = fx.cluster.switchover(target).siblingsFollow(true).execute();
                assertThat(r.successful()).as(OperationReportFormat.text(r)).isTrue();
                assertThat(r.warnings()).as(OperationReportFormat.text(r)).isEmpty();
                String t = fx.server(target).name();
                String p = fx.server(previous).name();
                assertThat(r.summary()).isEqualTo("node \"" + t + "\" (ID: " + target + ") promoted to primary, node \"" + p
                        + "\" (ID: " + previous + ") demoted to standby");
                assertThat(r.steps()).extracting(Step::status).containsOnly(Step.Status.DONE);

                assertThat(fx.server(target).inRecovery()).isFalse();
                List<String> others = new ArrayList<>();
                for (int id = 1; id <= 3; id++) {
                    if (id != target) {
                        assertThat(fx.server(id).inRecovery()).isTrue();
                        others.add(fx.server(id).name());
                    }
                }
                assertThat(TopologyFixture.streamingFrom(fx.server(target))).containsExactlyElementsOf(others);

                for (NodeRecord n : fx.cluster.metadata().nodes()) {
                    assertThat(n.active()).isTrue();
                    if (n.nodeId() == target) {
                        assertThat(n.type()).isEqualTo(NodeType.PRIMARY);
                        assertThat(n.upstreamNodeId()).isEmpty();
                    } else {
                        assertThat(n.type()).isEqualTo(NodeType.STANDBY);
                        assertThat(n.upstreamNodeId()).isEqualTo(OptionalInt.of(target));
                    }
                }
                EventRecord last = fx.cluster.events().event(Events.STANDBY_SWITCHOVER).limit(1).list().get(0);
                assertThat(last.successful()).isTrue();
                assertThat(last.details()).hasValue(r.summary());
                assertThat(fx.cluster.events().event(Events.STANDBY_PROMOTE).limit(1).list().get(0).details())
                        .hasValue("server \"" + t + "\" (ID: " + target + ") was successfully promoted to primary");
                writer.awaitCommits(5, Duration.ofSeconds(10));
                previous = target;
            }
            writer.stop();
            assertThat(writer.acknowledged()).isGreaterThan(20);
            assertThat(writer.missingOn(fx.server(1))).isEmpty();
        }
        assertThat(fx.cluster.metadata().votingTerm()).isEqualTo(term + 3);
        List<EventRecord> follows = fx.cluster.events().event(Events.STANDBY_FOLLOW).list();
        assertThat(follows).hasSize(3).allMatch(EventRecord::successful);
        assertThat(follows.get(0).details()).hasValue("standby attached to upstream node \"pg1\" (ID: 1)");
    }

    @Test
    @Order(4)
    void aSecondTopologyOperationIsRefusedWhileTheLockIsHeld() {
        TopologyFixture.Snapshot before = fx.snapshot();
        List<NodeRecord> nodes = fx.cluster.metadata().nodes();
        try (ReplicationCluster other = fx.handle(c -> c)) {
            ClusterContext ctx = new ClusterContext(List.of(fx.server(1).conninfo()), List.of(), Duration.ofSeconds(5),
                    Duration.ofSeconds(5), List.of(), io.repmgr4j.spi.LocalCommandRunner.asUser("postgres"));
            try (TopologyLock held = TopologyLock.acquire(ctx, nodes, "standby switchover to node 2", ErrorCode.SWITCHOVER_FAIL)) {
                assertThat(held.nodeIds()).containsExactly(1, 2, 3);
                assertThatThrownBy(() -> other.switchover(3).execute()).isInstanceOfSatisfying(OperationException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.SWITCHOVER_FAIL);
                    assertThat(e.getMessage()).isEqualTo("another topology operation is in progress: standby switchover to node 2");
                    assertThat(e.hint()).hasValue("wait for that operation to finish, then try again");
                });
                assertThatThrownBy(() -> other.promote(2).force(true).execute()).isInstanceOfSatisfying(OperationException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.PROMOTION_FAIL);
                    assertThat(e.getMessage()).contains("in progress: standby switchover to node 2");
                });
                // while the primary is down only the standbys hold the lock: still refused
                fx.server(1).stop();
                assertThatThrownBy(() -> other.promote(2).execute()).isInstanceOfSatisfying(OperationException.class,
                        e -> assertThat(e.getMessage()).contains("in progress: standby switchover to node 2"));
                fx.server(1).start();
            } finally {
                ctx.close();
            }
            fx.server(1).waitForStreaming(fx.server(2), Duration.ofSeconds(30));
            fx.server(1).waitForStreaming(fx.server(3), Duration.ofSeconds(30));
            fx.assertUnchanged(before);
            // released: a dry run gets the lock now
            assertThat(other.switchover(3).plan().successful()).isTrue();
        }
    }

    @Test
    @Order(5)
    void anOldPrimaryThatDoesNotStopInTimeStaysTheWritablePrimary() {
        TopologyFixture.Snapshot before = fx.snapshot();
        try (ReplicationCluster hung = fx.handle(c -> c.nodeId() != 1 ? c
                : NodeConfig.builder().from(c).serviceStopCommand("sleep 600").shutdownCheckTimeout(2).build())) {
            assertThatThrownBy(() -> hung.switchover(2).execute()).isInstanceOfSatisfying(OperationException.class, e -> {
                assertThat(e.code()).isEqualTo(ErrorCode.SWITCHOVER_FAIL);
                assertThat(e.getMessage()).startsWith("switchover aborted: ")
                        .contains("node \"pg1\" (ID: 1) did not stop and is still the primary");
                OperationReport r = e.report();
                assertThat(r.failedStep()).hasValueSatisfying(s -> assertThat(s.name()).startsWith("stop node \"pg1\""));
                assertThat(r.steps()).anySatisfy(s -> {
                    assertThat(s.name()).isEqualTo("bring node \"pg1\" (ID: 1) back as the primary");
                    assertThat(s.status()).isEqualTo(Step.Status.DONE);
                });
                assertThat(r.steps()).noneMatch(s -> s.name().startsWith("promote"));
            });
        }
        fx.server(1).execute("INSERT INTO repmgr4j_writes (id) VALUES (-1)");
        fx.assertUnchanged(before);
        EventRecord ev = fx.cluster.events().event(Events.STANDBY_SWITCHOVER).limit(1).list().get(0);
        assertThat(ev.successful()).isFalse();
        assertThat(ev.details()).hasValueSatisfying(d -> assertThat(d).contains("still the primary"));
    }

    @Test
    @Order(6)
    void aStandbyClonedAMomentAgoIsWaitedForAndNoWriteIsLost() {
        PgServer primary = fx.server(1);
        sandbox = PgSandbox.allocate("pg4");
        CommandResult r = sandbox.runner().run(Command.of(primary.bindir().resolve("pg_basebackup").toString(),
                        "-D", sandbox.dataDirectory().toString(),
                        "-d", "host=127.0.0.1 port=" + primary.port() + " user=repmgr application_name=pg4",
                        "-X", "stream", "-R", "-c", "fast", "--no-sync")
                .withWorkingDirectory(sandbox.baseDirectory().toString()).withTimeout(Duration.ofMinutes(2)));
        assertThat(r.succeeded()).as(r.stderr()).isTrue();
        // it starts without streaming (a primary_conninfo that leads nowhere, written after
        // the one pg_basebackup -R wrote), and the primary writes WAL it does not have yet
        Path auto = sandbox.dataDirectory().resolve("postgresql.auto.conf");
        String good = "host=127.0.0.1 port=" + primary.port() + " user=repmgr application_name=pg4";
        appendLine(auto, "primary_conninfo = 'host=127.0.0.1 port=" + PgServerPorts.closedPort() + " user=repmgr'");
        primary.execute("CREATE TABLE bulk AS SELECT g, repeat('x', 200) AS pad FROM generate_series(1, 150000) g");
        PgServer pg4 = sandbox.adopt();
        Thread fixLater = new Thread(() -> {
            try {
                Thread.sleep(1500);
                pg4.execute("ALTER SYSTEM SET primary_conninfo = '" + good + "'");
                pg4.execute("SELECT pg_reload_conf()");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        List<PgServer> all = new ArrayList<>(fx.servers.values());
        all.add(pg4);
        fx.add(4, pg4);
        try (PgWriter writer = PgWriter.start(all, Duration.ofMillis(10))) {
            writer.awaitCommits(3, Duration.ofSeconds(10));
            fx.cluster.registerStandby(fx.configs.get(4)).execute();
            fixLater.start();
            OperationReport rep = fx.cluster.switchover(4).siblingsFollow(true).execute();
            assertThat(rep.successful()).as(OperationReportFormat.text(rep)).isTrue();
            assertThat(rep.checks()).anySatisfy(c -> {
                assertThat(c.name()).isEqualTo("node \"pg4\" (ID: 4) streams from the primary and is caught up");
                assertThat(c.outcome()).isEqualTo(Check.Outcome.WARNING);
                assertThat(c.detail()).hasValueSatisfying(d -> assertThat(d).startsWith("caught up after waiting"));
            });
            writer.awaitCommits(5, Duration.ofSeconds(10));
            writer.stop();
            assertThat(writer.missingOn(pg4)).isEmpty();
        }
        assertThat(pg4.inRecovery()).isFalse();
        assertThat(TopologyFixture.streamingFrom(pg4)).containsExactly("pg1", "pg2", "pg3");
        assertThat(pg4.query("SELECT count(*) FROM bulk", Long.class)).isEqualTo(150000L);
    }

    private static void appendLine(Path file, String line) {
        try {
            Files.writeString(file, line + "\n", StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    @Order(7)
    void aStandbyThatDoesNotStreamIsRefusedAfterTheWait() {
        PgServer pg3 = fx.server(3);
        String conninfo = pg3.query("SHOW primary_conninfo", String.class);
        pg3.execute("ALTER SYSTEM SET primary_conninfo = 'host=127.0.0.1 port=" + PgServerPorts.closedPort()
                + " user=repmgr application_name=pg3'");
        pg3.execute("SELECT pg_reload_conf()");
        try {
            TopologyFixture.Snapshot before = fx.snapshot();
            assertThatThrownBy(() -> fx.cluster.switchover(3).timeout(Duration.ofSeconds(2)).execute())
                    .isInstanceOfSatisfying(OperationException.class, e -> {
                        assertThat(e.code()).isEqualTo(ErrorCode.SWITCHOVER_FAIL);
                        assertThat(e.getMessage()).isEqualTo("node \"pg3\" (ID: 3) is not ready to become primary after waiting 2 s");
                        assertThat(e.detail()).hasValue("node \"pg3\" (ID: 3) is not streaming from node \"pg4\" (ID: 4)");
                        assertThat(e.report().steps()).isEmpty();
                    });
            fx.assertUnchanged(before);
        } finally {
            pg3.execute("ALTER SYSTEM SET primary_conninfo = '" + conninfo.replace("'", "''") + "'");
            pg3.execute("SELECT pg_reload_conf()");
        }
    }

    /** pg4's configuration with a service_stop_command that stops it without a clean shutdown. */
    private ReplicationCluster crashingStop() {
        PgServer pg4 = fx.server(4);
        String immediate = pg4.bindir().resolve("pg_ctl") + " stop -D " + pg4.dataDirectory() + " -m immediate -w";
        return fx.handle(c -> c.nodeId() != 4 ? c : NodeConfig.builder().from(c).serviceStopCommand(immediate).build());
    }

    @Test
    @Order(8)
    void anOldPrimaryThatDoesNotShutDownCleanlyIsRestartedAsPrimary() {
        fx.server(4).waitForStreaming(fx.server(1), Duration.ofSeconds(30));
        TopologyFixture.Snapshot before = fx.snapshot();
        try (ReplicationCluster crashing = crashingStop()) {
            assertThatThrownBy(() -> crashing.switchover(1).execute()).isInstanceOfSatisfying(OperationException.class, e -> {
                assertThat(e.code()).isEqualTo(ErrorCode.SWITCHOVER_FAIL);
                assertThat(e.getMessage()).contains("node \"pg4\" (ID: 4) did not shut down cleanly")
                        .endsWith("node \"pg4\" (ID: 4) was restarted as the primary");
                assertThat(e.report().steps()).noneMatch(st -> st.name().startsWith("promote"));
            });
        }
        fx.server(4).execute("INSERT INTO repmgr4j_writes (id) VALUES (-2)");
        fx.assertUnchanged(before);
    }

    @Test
    @Order(9)
    void alwaysPromotePromotesAndRejoinsTheCrashedOldPrimaryWithRewind() {
        fx.server(4).waitForStreaming(fx.server(1), Duration.ofSeconds(30));
        try (ReplicationCluster crashing = crashingStop()) {
            OperationReport r = crashing.switchover(1).alwaysPromote(true).forceRewind(true).siblingsFollow(true)
                    .timeout(Duration.ofSeconds(30)).execute();
            assertThat(r.successful()).as(OperationReportFormat.text(r)).isTrue();
            assertThat(r.warnings()).anySatisfy(w -> assertThat(w)
                    .startsWith("node \"pg4\" (ID: 4) stopped without a clean shutdown (\"in production\"); promoting anyway"));
            assertThat(r.steps()).extracting(Step::name)
                    .contains("run the crash recovery of node \"pg4\" (ID: 4) (single-user mode)");
        }
        assertThat(fx.server(1).inRecovery()).isFalse();
        assertThat(TopologyFixture.streamingFrom(fx.server(1))).containsExactly("pg2", "pg3", "pg4");
        assertThat(fx.cluster.metadata().nodes()).allSatisfy(n -> {
            assertThat(n.active()).isTrue();
            assertThat(n.upstreamNodeId()).isEqualTo(n.nodeId() == 1 ? OptionalInt.empty() : OptionalInt.of(1));
        });
    }
}
