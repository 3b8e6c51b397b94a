package io.repmgr4j.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.repmgr4j.ErrorCode;
import io.repmgr4j.EventRecord;
import io.repmgr4j.Events;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.NodeType;
import io.repmgr4j.format.OperationReportFormat;
import io.repmgr4j.plan.Check;
import io.repmgr4j.plan.OperationException;
import io.repmgr4j.plan.OperationReport;
import io.repmgr4j.plan.Step;
import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.OptionalInt;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Failover by hand on a real 3-node set: promote refusals, kill -9 of the primary then
 * promote with siblings following, rejoin refusals, rejoin of the crashed old primary with
 * crash recovery and pg_rewind (its own configuration kept), and a follow onto a timeline
 * the standby has diverged from.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PromoteRejoinTest {
    private TopologyFixture fx;

    @BeforeAll
    void start() {
        fx = new TopologyFixture(PgReplicaSet.start(3));
    }

    @AfterAll
    void stop() {
        if (fx != null) {
            fx.close();
        }
    }

    /** Waits until every standby has replayed everything the primary wrote. */
    private static void awaitReplay(PgServer primary, PgServer... standbys) {
        String lsn = primary.query("SELECT pg_current_wal_lsn()::text", String.class);
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        for (PgServer s : standbys) {
            while (!Boolean.TRUE.equals(s.query("SELECT pg_last_wal_replay_lsn() >= '" + lsn + "'::pg_lsn", Boolean.class))) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError(s.name() + " did not replay up to " + lsn);
                }
                sleep(20);
            }
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void append(Path file, String text) {
        try {
            Files.writeString(file, text, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    @Order(1)
    void promoteRefusalsChangeNothing() {
        TopologyFixture.Snapshot before = fx.snapshot();
        assertThatThrownBy(() -> fx.cluster.promote(1).execute()).isInstanceOfSatisfying(OperationException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.PROMOTION_FAIL);
            assertThat(e.getMessage()).isEqualTo("node \"pg1\" (ID: 1) is already a primary");
        });
        assertThatThrownBy(() -> fx.cluster.promote(fx.configs.get(2)).execute()).isInstanceOfSatisfying(OperationException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.PROMOTION_FAIL);
            assertThat(e.getMessage()).isEqualTo("the current primary node \"pg1\" (ID: 1) is still running");
            assertThat(e.hint()).hasValueSatisfying(h -> assertThat(h).contains("switchover"));
        });
        OperationReport plan = fx.cluster.promote(2).siblingsFollow(true).plan();
        assertThat(plan.successful()).isFalse();
        assertThat(plan.failedCheck()).hasValueSatisfying(c -> assertThat(c.name()).isEqualTo("the registered primary is not running"));
        fx.assertUnchanged(before);
    }

    @Test
    @Order(2)
    void killedPrimaryThenPromoteWithSiblingsFollow() {
        fx.server(1).execute("CREATE TABLE t (i int)");
        fx.server(1).execute("INSERT INTO t SELECT generate_series(1, 100)");
        awaitReplay(fx.server(1), fx.server(2), fx.server(3));
        int term = fx.cluster.metadata().votingTerm();
        fx.server(1).kill9();

        OperationReport r = fx.cluster.promote(2).siblingsFollow(true).execute();
        assertThat(r.successful()).as(OperationReportFormat.text(r)).isTrue();
        assertThat(r.warnings()).isEmpty();
        assertThat(r.summary()).isEqualTo("STANDBY PROMOTE successful: server \"pg2\" (ID: 2) was successfully promoted to primary");
        assertThat(fx.server(2).inRecovery()).isFalse();
        fx.server(2).execute("INSERT INTO t VALUES (101)");
        assertThat(TopologyFixture.streamingFrom(fx.server(2))).containsExactly("pg3");

        NodeRecord n1 = fx.cluster.metadata().node(1).orElseThrow();
        assertThat(n1.active()).isFalse();
        assertThat(n1.type()).isEqualTo(NodeType.PRIMARY);
        NodeRecord n2 = fx.cluster.metadata().node(2).orElseThrow();
        assertThat(n2.type()).isEqualTo(NodeType.PRIMARY);
        assertThat(n2.upstreamNodeId()).isEmpty();
        assertThat(fx.cluster.metadata().node(3).orElseThrow().upstreamNodeId()).isEqualTo(OptionalInt.of(2));
        assertThat(fx.cluster.metadata().votingTerm()).isEqualTo(term + 1);
        assertThat(fx.cluster.events().event(Events.STANDBY_PROMOTE).limit(1).list().get(0).details())
                .hasValue("server \"pg2\" (ID: 2) was successfully promoted to primary");
        EventRecord follow = fx.cluster.events().event(Events.STANDBY_FOLLOW).limit(1).list().get(0);
        assertThat(follow.nodeId()).isEqualTo(3);
        assertThat(follow.details()).hasValue("standby attached to upstream node \"pg2\" (ID: 2)");
    }

    @Test
    @Order(3)
    void rejoinRefusalsChangeNothing() {
        TopologyFixture.Snapshot before = fx.snapshot();
        assertThatThrownBy(() -> fx.cluster.rejoin(fx.configs.get(3)).execute()).isInstanceOfSatisfying(OperationException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.REJOIN_FAIL);
            assertThat(e.getMessage()).isEqualTo("node \"pg3\" (ID: 3) is running");
        });
        assertThatThrownBy(() -> fx.cluster.rejoin(fx.configs.get(1)).targetNodeId(3).execute())
                .isInstanceOfSatisfying(OperationException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.REJOIN_FAIL);
                    assertThat(e.getMessage()).isEqualTo("rejoin target node \"pg3\" (ID: 3) is not a primary");
                });
        assertThatThrownBy(() -> fx.cluster.rejoin(fx.configs.get(1)).forceRewind(true).execute())
                .isInstanceOfSatisfying(OperationException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.REJOIN_FAIL);
                    assertThat(e.getMessage()).isEqualTo("database is not shut down cleanly");
                    assertThat(e.hint()).hasValueSatisfying(h -> assertThat(h).contains("recoverCrashedNode(true)"));
                });
        OperationReport plan = fx.cluster.rejoin(fx.configs.get(1)).recoverCrashedNode(true).forceRewind(true).plan();
        assertThat(plan.successful()).as(OperationReportFormat.text(plan)).isTrue();
        assertThat(plan.checks()).anySatisfy(c -> {
            assertThat(c.name()).isEqualTo("shutdown state of node \"pg1\" (ID: 1)");
            assertThat(c.outcome()).isEqualTo(Check.Outcome.WARNING);
        });
        assertThat(plan.steps()).extracting(Step::name).startsWith("run the crash recovery of node \"pg1\" (ID: 1) (single-user mode)");
        assertThat(plan.steps()).extracting(Step::status).containsOnly(Step.Status.PLANNED);
        fx.assertUnchanged(before);
        assertThat(controlState(fx.server(1))).isEqualTo("in production");
    }

    private String controlState(PgServer s) {
        return new io.repmgr4j.core.host.PgControl(fx.configs.get(idOf(s)), s.runner()).controlData().clusterState();
    }

    private int idOf(PgServer s) {
        return fx.servers.entrySet().stream().filter(e -> e.getValue() == s).findFirst().orElseThrow().getKey();
    }

    @Test
    @Order(4)
    void theKilledPrimaryRejoinsWithCrashRecoveryAndRewindKeepingItsConfiguration() {
        PgServer pg1 = fx.server(1);
        append(pg1.dataDirectory().resolve("postgresql.conf"), "\n# kept by the rejoin\nwork_mem = '7MB'\n");
        OperationReport r = fx.cluster.rejoin(fx.configs.get(1)).recoverCrashedNode(true).forceRewind(true).execute();
        assertThat(r.successful()).as(OperationReportFormat.text(r)).isTrue();
        assertThat(r.summary()).isEqualTo("NODE REJOIN successful: node 1 is now attached to node 2");
        assertThat(r.steps()).extracting(Step::status).containsOnly(Step.Status.DONE);
        assertThat(r.steps()).anySatisfy(s -> {
            assertThat(s.name()).startsWith("pg_rewind node \"pg1\" (ID: 1) from node \"pg2\" (ID: 2)");
            assertThat(s.detail()).hasValueSatisfying(d -> assertThat(d).contains("servers diverged at WAL location")
                    .contains("kept postgresql.conf, postgresql.auto.conf, pg_hba.conf, pg_ident.conf")
                    // the test kit runs its servers with fsync = off: pg_rewind does not sync either
                    .endsWith("; not synced to disk (the node runs with fsync = off)"));
        });
        assertThat(pg1.inRecovery()).isTrue();
        assertThat(pg1.query("SHOW work_mem", String.class)).isEqualTo("7MB");
        assertThat(TopologyFixture.streamingFrom(fx.server(2))).containsExactly("pg1", "pg3");
        fx.server(2).execute("INSERT INTO t VALUES (102)");
        awaitReplay(fx.server(2), pg1);
        assertThat(pg1.query("SELECT count(*) FROM t", Long.class)).isEqualTo(102L);

        NodeRecord n1 = fx.cluster.metadata().node(1).orElseThrow();
        assertThat(n1.active()).isTrue();
        assertThat(n1.type()).isEqualTo(NodeType.STANDBY);
        assertThat(n1.upstreamNodeId()).isEqualTo(OptionalInt.of(2));
        EventRecord ev = fx.cluster.events().event(Events.NODE_REJOIN).limit(1).list().get(0);
        assertThat(ev.successful()).isTrue();
        assertThat(ev.details()).hasValue("node 1 is now attached to node 2");
    }

    @Test
    @Order(5)
    void followOntoADivergedTimelineIsRefusedAndRejoinWithRewindFixesIt() {
        PgServer pg1 = fx.server(1);
        PgServer pg2 = fx.server(2);
        PgServer pg3 = fx.server(3);
        // pg1 stops receiving; pg3 gets WAL that pg1 will never have
        pg1.execute("ALTER SYSTEM SET primary_conninfo = ''");
        pg1.execute("SELECT pg_reload_conf()");
        pg2.execute("INSERT INTO t SELECT generate_series(200, 299)");
        awaitReplay(pg2, pg3);
        pg2.kill9();

        OperationReport r = fx.cluster.promote(1).siblingsFollow(true).execute();
        assertThat(r.successful()).isTrue();
        assertThat(r.warnings()).singleElement().satisfies(w -> assertThat(w)
                .startsWith("node \"pg3\" (ID: 3) could not follow node \"pg1\" (ID: 1)").contains("diverged"));

        TopologyFixture.Snapshot before = fx.snapshot();
        String conninfo = pg3.query("SHOW primary_conninfo", String.class);
        assertThatThrownBy(() -> fx.cluster.follow(3).upstreamNodeId(1).execute()).isInstanceOfSatisfying(OperationException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.FOLLOW_FAIL);
            assertThat(e.getMessage()).isEqualTo("node \"pg3\" (ID: 3) cannot follow node \"pg1\" (ID: 1): its WAL has diverged"
                    + " from the new upstream's");
            assertThat(e.detail()).hasValueSatisfying(d -> assertThat(d).contains("forked off current database system timeline"));
            assertThat(e.hint()).hasValueSatisfying(h -> assertThat(h).contains("forceRewind(true)"));
        });
        fx.assertUnchanged(before);
        assertThat(pg3.query("SHOW primary_conninfo", String.class)).isEqualTo(conninfo);

        pg3.stop();
        // a node that wants durability gets pg_rewind's sync
        append(pg3.dataDirectory().resolve("postgresql.conf"), "\nfsync = on\n");
        OperationReport rejoin = fx.cluster.rejoin(fx.configs.get(3)).forceRewind(true).execute();
        assertThat(rejoin.successful()).as(OperationReportFormat.text(rejoin)).isTrue();
        assertThat(rejoin.steps()).anySatisfy(st -> {
            assertThat(st.name()).startsWith("pg_rewind node \"pg3\" (ID: 3)");
            assertThat(st.detail()).hasValueSatisfying(d -> assertThat(d).contains("Done!").doesNotContain("not synced"));
        });
        assertThat(pg3.query("SHOW fsync", String.class)).isEqualTo("on");
        assertThat(TopologyFixture.streamingFrom(pg1)).containsExactly("pg3");
        assertThat(pg3.query("SELECT count(*) FROM t WHERE i >= 200", Long.class)).isZero();
        assertThat(fx.cluster.metadata().node(3).orElseThrow().upstreamNodeId()).isEqualTo(OptionalInt.of(1));
    }
}
