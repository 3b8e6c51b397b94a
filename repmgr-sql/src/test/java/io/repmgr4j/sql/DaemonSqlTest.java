package io.repmgr4j.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.testkit.PgServer;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The daemon's SQL: schema repmgr4j and its pause flags, the state sessions, WAL progress, and the ping. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DaemonSqlTest {
    private PgServer primary;
    private PgServer standby;

    @BeforeAll
    void start() {
        primary = PgServer.builder().name("daemonsql").password("s3cret-pw").start();
        standby = primary.createStandby("daemonsql_s");
    }

    @AfterAll
    void stop() {
        if (standby != null) {
            standby.close();
        }
        if (primary != null) {
            primary.close();
        }
    }

    @Test
    void daemonStateSchemaIsInstalledOnceOnThePrimaryAndReplicated() throws Exception {
        try (Connection p = primary.connect(); Connection s = standby.connect()) {
            assertThat(DaemonStateTable.pausedFlags(s)).isEmpty();
            assertThat(DaemonStateInstaller.installedVersion(p)).isEmpty();
            assertThatThrownBy(() -> DaemonStateInstaller.install(s)).isInstanceOfSatisfying(ReplicationException.class, e -> {
                assertThat(e.code()).isEqualTo(ErrorCode.DB_QUERY);
                assertThat(e.getMessage()).contains("on a server in recovery");
            });
            assertThat(DaemonStateInstaller.install(p)).isEqualTo(DaemonStateInstaller.Outcome.CREATED);
            assertThat(DaemonStateInstaller.install(p)).isEqualTo(DaemonStateInstaller.Outcome.UP_TO_DATE);
            assertThat(DaemonStateInstaller.installedVersion(p)).hasValue(DaemonStateInstaller.CURRENT_VERSION);
            assertThat(p.getAutoCommit()).isTrue();

            DaemonStateTable.setPaused(p, List.of(1, 2, 3), true);
            DaemonStateTable.setPaused(p, List.of(3), false);
            assertThat(DaemonStateTable.pausedFlags(p)).isEqualTo(Map.of(1, true, 2, true, 3, false));
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (DaemonStateTable.pausedFlags(s).size() < 3 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(DaemonStateTable.pausedFlags(s)).isEqualTo(Map.of(1, true, 2, true, 3, false));
            // the standby holds the replicated schema and needs nothing installed
            assertThat(DaemonStateInstaller.install(s)).isEqualTo(DaemonStateInstaller.Outcome.UP_TO_DATE);
        }
    }

    @Test
    void aForeignSchemaNamedRepmgr4jIsRefusedAndLeftAlone() throws Exception {
        String db = TestDb.create(primary, "foreign");
        TestDb.exec(primary, db, "CREATE SCHEMA repmgr4j", "CREATE TABLE repmgr4j.mine (i int)");
        try (Connection c = TestDb.connect(primary, db)) {
            assertThatThrownBy(() -> DaemonStateInstaller.install(c)).isInstanceOfSatisfying(ReplicationException.class,
                    e -> assertThat(e.getMessage()).contains("was not made by repmgr4j"));
            try (Statement st = c.createStatement()) {
                assertThat(st.executeQuery("SELECT count(*) FROM repmgr4j.mine").next()).isTrue();
            }
        }
    }

    @Test
    void aStateSessionIsVisibleToOthersWithItsAgeOnAStandbyToo() throws Exception {
        try (Connection publisher = standby.connect(); Connection reader = standby.connect()) {
            DaemonSessions.publish(publisher, "r4jd-test n=5 m=M");
            Thread.sleep(300);
            List<DaemonSessions.Session> seen = DaemonSessions.list(reader, "r4jd-test ");
            assertThat(seen).singleElement().satisfies(s -> {
                assertThat(s.applicationName()).isEqualTo("r4jd-test n=5 m=M");
                assertThat(s.millisSinceStateChange()).isPresent();
                assertThat(s.millisSinceStateChange().getAsLong()).isBetween(250L, 60_000L);
            });
            DaemonSessions.publish(publisher, "r4jd-test n=5 m=D");
            assertThat(DaemonSessions.list(reader, "r4jd-test ")).singleElement()
                    .satisfies(s -> assertThat(s.applicationName()).endsWith("m=D"));
        }
        try (Connection reader = standby.connect()) {
            assertThat(DaemonSessions.list(reader, "r4jd-test ")).isEmpty(); // the session ended with its connection
        }
    }

    @Test
    void recoveryProgressOnPrimaryAndStandby() throws Exception {
        try (Connection p = primary.connect(); Connection s = standby.connect()) {
            RecoveryProgress onPrimary = RecoveryProgress.read(p);
            assertThat(onPrimary.inRecovery()).isFalse();
            assertThat(onPrimary.currentLsn()).isPresent();
            assertThat(onPrimary.electionLsn()).isEqualTo(onPrimary.currentLsn());
            RecoveryProgress onStandby = RecoveryProgress.read(s);
            assertThat(onStandby.inRecovery()).isTrue();
            assertThat(onStandby.currentLsn()).isEmpty();
            assertThat(onStandby.receiveLsn()).isPresent();
            assertThat(onStandby.replayLsn()).isPresent();
            assertThat(onStandby.electionLsn()).isPresent();
            assertThat(RecoveryProgress.resumeReplayIfPaused(p)).isFalse();
            assertThat(RecoveryProgress.resumeReplayIfPaused(s)).isFalse();
            try (Statement st = s.createStatement()) {
                st.execute("SELECT pg_wal_replay_pause()");
            }
            assertThat(RecoveryProgress.resumeReplayIfPaused(s)).isTrue();
            assertThat(RecoveryProgress.resumeReplayIfPaused(s)).isFalse();
        }
    }

    @Test
    void pingTellsARunningServerFromNoServerWithoutLoggingIn() throws Exception {
        ConnInfo wrongPassword = primary.conninfo().with("password", "wrong");
        assertThat(PgPing.ping(wrongPassword, Duration.ofSeconds(2))).isEqualTo(PgPing.Result.OK);
        assertThat(PgPing.ping(standby.conninfo(), Duration.ofSeconds(2))).isEqualTo(PgPing.Result.OK);
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        assertThat(PgPing.ping(ConnInfo.parse("host=127.0.0.1 port=" + closed), Duration.ofSeconds(1)))
                .isEqualTo(PgPing.Result.NO_RESPONSE);
        assertThat(PgPing.sqlState("SFATAL\0C57P03\0Mthe database system is starting up\0\0"
                .getBytes(java.nio.charset.StandardCharsets.UTF_8))).isEqualTo("57P03");
        assertThat(primary.logTail(50)).doesNotContain("password authentication failed");
    }
}
