package io.repmgr4j.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.repmgr4j.ErrorCode;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.core.host.ControlData;
import io.repmgr4j.core.host.PgControl;
import io.repmgr4j.plan.OperationException;
import io.repmgr4j.plan.OperationReport;
import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Rejoins that must be refused without changing anything, on a 2-node set with
 * wal_log_hints off and no data checksums: an old primary that diverged (pg_rewind
 * needed; without force, and with force where pg_rewind cannot run), and a data directory
 * of another cluster.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RejoinRefusalTest {
    private TopologyFixture fx;
    private PgServer foreign;

    @BeforeAll
    void start() {
        fx = new TopologyFixture(PgReplicaSet.start(2, b -> b.setting("wal_log_hints", "off")));
        PgServer pg1 = fx.server(1);
        PgServer pg2 = fx.server(2);
        // pg2 stops receiving, pg1 writes on alone and stops cleanly, pg2 is promoted: pg1 has diverged
        pg2.execute("ALTER SYSTEM SET primary_conninfo = ''");
        pg2.execute("SELECT pg_reload_conf()");
        pg1.execute("CREATE TABLE only_on_pg1 AS SELECT generate_series(1, 1000) AS i");
        pg1.stop();
        fx.cluster.promote(2).execute();
    }

    @AfterAll
    void stop() {
        try {
            if (fx != null) {
                fx.close();
            }
        } finally {
            if (foreign != null) {
                foreign.close();
            }
        }
    }

    private ControlData control(NodeConfig c, PgServer s) {
        return new PgControl(c, s.runner()).controlData();
    }

    @Test
    @Order(1)
    void aDivergedNodeNeedsForceRewind() {
        TopologyFixture.Snapshot before = fx.snapshot();
        ControlData cd = control(fx.configs.get(1), fx.server(1));
        assertThatThrownBy(() -> fx.cluster.rejoin(fx.configs.get(1)).execute()).isInstanceOfSatisfying(OperationException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.REJOIN_FAIL);
            assertThat(e.getMessage()).isEqualTo("pg_rewind execution required for this node to attach to rejoin target node 2");
            assertThat(e.detail()).hasValueSatisfying(d -> assertThat(d)
                    .startsWith("target server's timeline 2 forked off current database system timeline 1 before current recovery point"));
            assertThat(e.report().steps()).isEmpty();
            assertThat(e.report().failedCheck()).hasValueSatisfying(c -> {
                assertThat(c.errorCode()).contains(ErrorCode.REJOIN_FAIL);
                assertThat(c.hint()).isEqualTo(e.hint());
            });
            assertThat(e.report().refusal()).hasValueSatisfying(r -> assertThat(r.code()).isEqualTo(ErrorCode.REJOIN_FAIL));
        });
        fx.assertUnchanged(before);
        assertThat(control(fx.configs.get(1), fx.server(1))).isEqualTo(cd);
    }

    @Test
    @Order(2)
    void forceRewindWithoutWalLogHintsOrChecksumsIsRefused() {
        TopologyFixture.Snapshot before = fx.snapshot();
        ControlData cd = control(fx.configs.get(1), fx.server(1));
        assertThatThrownBy(() -> fx.cluster.rejoin(fx.configs.get(1)).forceRewind(true).execute())
                .isInstanceOfSatisfying(OperationException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.REJOIN_FAIL);
                    assertThat(e.getMessage()).isEqualTo("force rewind specified but pg_rewind cannot be used");
                    assertThat(e.detail()).hasValue("\"wal_log_hints\" is set to \"off\" and data checksums are disabled");
                });
        OperationReport plan = fx.cluster.rejoin(fx.configs.get(1)).forceRewind(true).plan();
        assertThat(plan.successful()).isFalse();
        assertThat(plan.failedCheck()).hasValueSatisfying(c -> assertThat(c.detail()).hasValueSatisfying(d ->
                assertThat(d).contains("wal_log_hints")));
        fx.assertUnchanged(before);
        assertThat(control(fx.configs.get(1), fx.server(1))).isEqualTo(cd);
        assertThat(fx.server(1).isRunning()).isFalse();
    }

    @Test
    @Order(3)
    void aDataDirectoryOfAnotherClusterIsRefused() {
        foreign = PgServer.builder().name("foreign").start();
        foreign.stop();
        NodeConfig cfg = NodeConfig.builder().from(fx.configs.get(1)).dataDirectory(foreign.dataDirectory().toString()).build();
        TopologyFixture.Snapshot before = fx.snapshot();
        ControlData cd = control(cfg, foreign);
        assertThatThrownBy(() -> fx.cluster.rejoin(cfg).forceRewind(true).execute()).isInstanceOfSatisfying(OperationException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.REJOIN_FAIL);
            assertThat(e.getMessage()).isEqualTo("node \"pg1\" (ID: 1) is not part of the same cluster as rejoin target node \"pg2\" (ID: 2)");
            assertThat(e.detail()).hasValueSatisfying(d -> assertThat(d).startsWith("system identifiers differ"));
        });
        fx.assertUnchanged(before);
        assertThat(control(cfg, foreign)).isEqualTo(cd);
        assertThat(foreign.isRunning()).isFalse();
    }
}
