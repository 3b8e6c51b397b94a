package io.repmgr4j.sql;

import static io.repmgr4j.sql.SchemaInstallerTest.exec;
import static io.repmgr4j.sql.SchemaInstallerTest.scalar;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.repmgr4j.ErrorCode;
import io.repmgr4j.EventQuery;
import io.repmgr4j.EventRecord;
import io.repmgr4j.Events;
import io.repmgr4j.Lsn;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.sql.SchemaInstaller.Outcome;
import io.repmgr4j.testkit.PgServer;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** ServerProbe and the metadata on a real primary with a streaming standby. */
class ReplicationProbeTest {

    private static PgServer primary;
    private static PgServer standby;

    @BeforeAll
    static void startReplicaSet() throws Exception {
        primary = PgServer.builder().name("probe1").start();
        standby = primary.createStandby("probe2");
        try (Connection p = primary.connect()) {
            SchemaInstaller.install(p);
        }
        await("standby streaming", () -> {
            try (Connection s = standby.connect()) {
                return ServerProbe.walReceiver(s).map(WalReceiverStatus::isStreaming).orElse(false);
            }
        });
    }

    @AfterAll
    static void stop() {
        if (standby != null) {
            standby.close();
        }
        if (primary != null) {
            primary.close();
        }
    }

    @Test
    void probesThePrimary() throws Exception {
        try (Connection c = primary.connect()) {
            assertThat(ServerProbe.isInRecovery(c)).isFalse();
            assertThat(ServerProbe.timeline(c)).isEqualTo(1);
            assertThat(ServerProbe.walReceiver(c)).isEmpty();
            assertThat(ServerProbe.serverVersionNum(c)).isBetween(120000, 999999);
            assertThat(ServerProbe.setting(c, "wal_level")).hasValueSatisfying(v -> assertThat(v).isIn("replica", "logical"));
            assertThat(ServerProbe.setting(c, "port")).contains(String.valueOf(primary.conninfo().port()));
            assertThat(ServerProbe.setting(c, "repmgr4j.no_such_setting")).isEmpty();
            assertThat(ServerProbe.dataChecksumsEnabled(c)).isEqualTo("on".equals(scalar(c, "SHOW data_checksums")));

            Lsn before = ServerProbe.currentLsn(c);
            exec(c, "CREATE TABLE IF NOT EXISTS public.probe_filler (x int)", "INSERT INTO public.probe_filler SELECT generate_series(1, 1000)");
            assertThat(ServerProbe.currentLsn(c)).isGreaterThan(before);

            await("standby listed in pg_stat_replication", () -> ServerProbe.replicationClients(c).stream()
                    .anyMatch(r -> r.state().filter("streaming"::equals).isPresent()));
            List<ReplicationClient> clients = ServerProbe.replicationClients(c);
            assertThat(clients).extracting(ReplicationClient::applicationName).contains("probe2");
            ReplicationClient client = clients.stream().filter(r -> r.applicationName().equals("probe2")).findFirst().orElseThrow();
            assertThat(client.state()).contains("streaming");
            assertThat(client.pid()).isPositive();
            assertThat(client.clientAddr()).contains("127.0.0.1");
            assertThat(client.syncState()).contains("async");
            assertThat(client.sentLsn()).isPresent();
            assertThat(client.replayLsn()).isPresent();

            exec(c, "SELECT pg_create_physical_replication_slot('repmgr_slot_9')");
            try {
                assertThat(ServerProbe.replicationSlots(c)).filteredOn(s -> s.slotName().equals("repmgr_slot_9"))
                        .singleElement()
                        .satisfies(s -> {
                            assertThat(s.slotType()).isEqualTo("physical");
                            assertThat(s.active()).isFalse();
                            assertThat(s.temporary()).isFalse();
                            assertThat(s.activePid()).isEmpty();
                        });
            } finally {
                exec(c, "SELECT pg_drop_replication_slot('repmgr_slot_9')");
            }
        }
    }

    @Test
    void probesTheStandby() throws Exception {
        long systemId;
        Lsn primaryLsn;
        try (Connection p = primary.connect()) {
            systemId = ServerProbe.systemIdentifier(p);
            exec(p, "CREATE TABLE IF NOT EXISTS public.probe_marker (x int)", "INSERT INTO public.probe_marker VALUES (1)");
            primaryLsn = ServerProbe.currentLsn(p);
        }
        try (Connection c = standby.connect()) {
            assertThat(ServerProbe.isInRecovery(c)).isTrue();
            assertThat(ServerProbe.systemIdentifier(c)).isEqualTo(systemId);
            assertThat(ServerProbe.timeline(c)).isEqualTo(1);
            await("standby caught up", () -> ServerProbe.currentLsn(c).compareTo(primaryLsn) >= 0);

            WalReceiverStatus wr = ServerProbe.walReceiver(c).orElseThrow();
            assertThat(wr.isStreaming()).isTrue();
            assertThat(wr.pid()).isPositive();
            assertThat(wr.senderPort()).hasValue(primary.conninfo().port());
            assertThat(wr.senderHost()).isPresent();
            assertThat(wr.receivedTli()).hasValue(1);
            assertThat(wr.flushedLsn()).isPresent();
            assertThat(wr.latestEndLsn()).isPresent();
            assertThat(wr.conninfo()).hasValueSatisfying(ci -> assertThat(ci).contains("port=" + primary.conninfo().port()));
            primary.conninfo().password().ifPresent(pw ->
                    assertThat(wr.conninfo()).hasValueSatisfying(ci -> assertThat(ci).doesNotContain(pw)));

            assertThat(ServerProbe.replicationClients(c)).isEmpty();
            assertThatThrownBy(() -> SchemaInstallerTest.exec(c, "CREATE TABLE public.nope (x int)"))
                    .isInstanceOf(SQLException.class);
        }
    }

    @Test
    void metadataWrittenOnThePrimaryIsReadableOnTheStandby() throws Exception {
        JdbcMetadataStore onPrimary = JdbcMetadataStore.of(primary::connect);
        JdbcMetadataStore onStandby = JdbcMetadataStore.of(standby::connect);
        NodeRecord p = NodeRecord.builder()
                .nodeId(1).nodeName("probe1").type(io.repmgr4j.NodeType.PRIMARY)
                .conninfo(primary.conninfo()).repluser("repmgr").configFile("/etc/repmgr.conf").build();
        onPrimary.inTransaction(tx -> {
            if (tx.node(1).isEmpty()) {
                tx.insertNode(p);
            }
            tx.setVotingTerm(1);
            tx.appendEvent(EventRecord.builder().nodeId(1).event(Events.PRIMARY_REGISTER).build());
            return null;
        });
        EventRecord marker = onPrimary.appendEvent(EventRecord.builder().nodeId(1).event("replication_marker").build());

        await("metadata replicated", () -> !onStandby.events(EventQuery.builder().event("replication_marker").build()).isEmpty());
        assertThat(onStandby.node(1)).contains(p);
        assertThat(onStandby.nodeByName("probe1")).contains(p);
        assertThat(onStandby.votingTerm()).isEqualTo(1);
        assertThat(onStandby.events(EventQuery.builder().event("replication_marker").build())).containsExactly(marker);
        try (Connection c = standby.connect()) {
            assertThat(SchemaInstaller.install(c).outcome()).isEqualTo(Outcome.UP_TO_DATE);
            assertThat(SchemaInstaller.schemaPresent(c)).isTrue();
            assertThat(scalar(c, "SELECT count(*)::text FROM repmgr.replication_status")).isEqualTo("0");
        }
        // writing to a standby fails as a query error, not a connection error
        assertThatThrownBy(() -> onStandby.setVotingTerm(5))
                .isInstanceOfSatisfying(ReplicationException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.DB_QUERY));
    }

    @Test
    void theInstallerWillNotCreateTheSchemaOnAStandby() throws Exception {
        String db = TestDb.create(primary, "noschema");
        await("database replicated", () -> {
            try (Connection c = TestDb.connect(standby, db)) {
                return true;
            } catch (SQLException | RuntimeException e) {
                return false;
            }
        });
        try (Connection c = TestDb.connect(standby, db)) {
            assertThatThrownBy(() -> SchemaInstaller.install(c))
                    .isInstanceOfSatisfying(ReplicationException.class, e -> {
                        assertThat(e.code()).isEqualTo(ErrorCode.DB_QUERY);
                        assertThat(e.getMessage()).isEqualTo("unable to create schema \"repmgr\" on a server in recovery");
                        assertThat(e.hint()).hasValueSatisfying(h -> assertThat(h).contains("primary"));
                    });
        }
    }

    @Test
    void timelineIsRightJustAfterAPromotion() throws Exception {
        try (PgServer promoted = primary.createStandby("probe3")) {
            try (Connection c = promoted.connect()) {
                await("new standby streaming", () -> ServerProbe.walReceiver(c).map(WalReceiverStatus::isStreaming).orElse(false));
                assertThat(ServerProbe.timeline(c)).isEqualTo(1);
                assertThat(scalar(c, "SELECT pg_promote(true, 60)")).isEqualTo("t");
                assertThat(ServerProbe.isInRecovery(c)).isFalse();
                assertThat(ServerProbe.timeline(c)).isEqualTo(2);
                assertThat(ServerProbe.walReceiver(c)).isEmpty();
                // pg_control_checkpoint() may still say 1 here: the probe must not rely on it
                ServerProbe.currentLsn(c);
            }
        }
    }

    static void await(String what, Callable<Boolean> condition) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        Exception last = null;
        while (System.nanoTime() < deadline) {
            try {
                if (Boolean.TRUE.equals(condition.call())) {
                    return;
                }
            } catch (Exception e) {
                last = e;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("timed out waiting for " + what, last);
    }
}
