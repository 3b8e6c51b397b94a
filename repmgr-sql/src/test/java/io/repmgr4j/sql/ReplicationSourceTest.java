package io.repmgr4j.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.sql.ReplicationSource.Facts;
import io.repmgr4j.sql.ReplicationSource.SystemIdentity;
import io.repmgr4j.testkit.PgServer;
import java.sql.Connection;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** ReplicationSource on a real server whose WAL senders are few (max_wal_senders = 3). */
class ReplicationSourceTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private static PgServer server;

    @BeforeAll
    static void start() {
        server = PgServer.builder().name("source1").setting("max_wal_senders", "3").setting("max_replication_slots", "4")
                .setting("wal_log_hints", "off").password("src-secret").start();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void factsOfThePrimary() throws Exception {
        try (Connection c = server.connect()) {
            Facts f = ReplicationSource.inspect(c, Optional.of("repmgr_slot_9"));
            assertThat(f.majorVersion()).isEqualTo(ServerProbe.serverVersionNum(c) / 10000);
            assertThat(f.inRecovery()).isFalse();
            assertThat(f.walLevel()).isEqualTo("replica");
            assertThat(f.maxWalSenders()).isEqualTo(3);
            assertThat(f.walSendersInUse()).isZero();
            assertThat(f.freeWalSenders()).isEqualTo(3);
            assertThat(f.walLogHints()).isFalse();
            assertThat(f.dataChecksums()).isFalse();
            assertThat(f.maxReplicationSlots()).isEqualTo(4);
            assertThat(f.slotActive()).isEmpty();
            assertThat(f.sizeBytes()).isGreaterThan(10L * 1024 * 1024);
            assertThat(f.dataDirectoryMode()).isEqualTo("0700");
        }
    }

    @Test
    void replicationConnectionsTakeWalSendersButAreNotCountedAsInUse() throws Exception {
        ConnInfo replication = server.conninfo().without("dbname");
        try (Connection r1 = ReplicationSource.openReplication(replication, TIMEOUT);
             Connection r2 = ReplicationSource.openReplication(replication, TIMEOUT);
             Connection c = server.connect()) {
            SystemIdentity id = ReplicationSource.identifySystem(r1);
            assertThat(id.systemId()).isEqualTo(String.valueOf(ServerProbe.systemIdentifier(c)));
            assertThat(id.timeline()).isEqualTo(1);
            assertThat(id.walPosition()).matches("[0-9A-F]+/[0-9A-F]+");
            assertThat(ReplicationSource.identifySystem(r2).systemId()).isEqualTo(id.systemId());
            assertThat(server.query("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'walsender'", Long.class))
                    .isEqualTo(2);
            assertThat(ReplicationSource.inspect(c, Optional.empty()).walSendersInUse()).isZero();
        }
    }

    @Test
    void replicationConnectionRefusalsAreConnectionErrorsWithoutThePassword() {
        ConnInfo wrong = server.conninfo().with("password", "not-the-password");
        assertThatThrownBy(() -> ReplicationSource.openReplication(wrong, TIMEOUT))
                .isInstanceOfSatisfying(ReplicationException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.DB_CONN);
                    assertThat(e.toReport()).doesNotContain("not-the-password").doesNotContain("src-secret");
                });
    }

    @Test
    void slotsAreCreatedReportedAndDroppedWhenInactive() throws Exception {
        try (Connection c = server.connect()) {
            ReplicationSource.createPhysicalSlot(c, "repmgr_slot_7");
            assertThat(ReplicationSource.slotExists(c, "repmgr_slot_7")).isTrue();
            Facts f = ReplicationSource.inspect(c, Optional.of("repmgr_slot_7"));
            assertThat(f.slotActive()).contains(false);
            assertThat(f.replicationSlotsInUse()).isEqualTo(1);
            assertThat(f.freeReplicationSlots()).isEqualTo(3);
            assertThat(server.query("SELECT restart_lsn IS NOT NULL FROM pg_replication_slots WHERE slot_name = 'repmgr_slot_7'",
                    Boolean.class)).as("WAL is reserved at once").isTrue();
            assertThatThrownBy(() -> ReplicationSource.createPhysicalSlot(c, "repmgr_slot_7"))
                    .isInstanceOfSatisfying(ReplicationException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.DB_QUERY));
            assertThat(ReplicationControl.dropInactiveSlot(c, "repmgr_slot_7")).isTrue();
            assertThat(ReplicationSource.slotExists(c, "repmgr_slot_7")).isFalse();
            assertThat(ReplicationControl.dropInactiveSlot(c, "repmgr_slot_7")).isFalse();
        }
    }
}
