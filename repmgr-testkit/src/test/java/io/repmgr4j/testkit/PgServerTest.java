package io.repmgr4j.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.spi.LocalCommandRunner;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class PgServerTest {

    @Test
    void startsAndAnswersQueries() throws Exception {
        try (PgServer pg = PgServer.builder().name("query").start()) {
            assertThat(pg.isRunning()).isTrue();
            assertThat(pg.query("SELECT 40 + 2", Integer.class)).isEqualTo(42);
            assertThat(pg.query("SELECT current_user", String.class)).isEqualTo("repmgr");
            assertThat(pg.query("SELECT current_database()", String.class)).isEqualTo("repmgr");
            assertThat(pg.query("SELECT rolsuper AND rolreplication FROM pg_roles WHERE rolname = 'repmgr'", Boolean.class))
                    .isTrue();
            assertThat(pg.query("SELECT 1 WHERE false", Integer.class)).isNull();
            assertThat(pg.inRecovery()).isFalse();
            pg.execute("CREATE TABLE t (i int)");
            pg.execute("INSERT INTO t VALUES (7)");
            assertThat(pg.query("SELECT sum(i) FROM t", Long.class)).isEqualTo(7L);
            assertThatThrownBy(() -> pg.execute("SELECT * FROM no_such_table"))
                    .isInstanceOf(PgTestkitException.class)
                    .hasMessageContaining("no_such_table")
                    .hasMessageContaining("42P01");

            assertThat(pg.host()).isEqualTo("127.0.0.1");
            assertThat(pg.port()).isNotEqualTo(5432).isPositive();
            assertThat(pg.conninfo().render()).isEqualTo(
                    "host=127.0.0.1 port=" + pg.port() + " user=repmgr dbname=repmgr connect_timeout=2");
            assertThat(pg.query("SHOW port", String.class)).isEqualTo(Integer.toString(pg.port()));
            assertThat(pg.query("SHOW unix_socket_directories", String.class)).isEqualTo(pg.socketDirectory().toString());
            assertThat(pg.socketDirectory().resolve(".s.PGSQL." + pg.port())).exists();

            Path base = pg.dataDirectory().getParent();
            assertThat(base.getParent()).isEqualTo(Workspace.root());
            assertThat(base.getFileName().toString()).startsWith("query-");
            assertThat(Files.readString(base.resolve("owner.pid")).trim())
                    .isEqualTo(Long.toString(ProcessHandle.current().pid()));
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(base))).isEqualTo("rwxr-xr-x");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(pg.dataDirectory()))).isEqualTo("rwx------");
            assertThat(Files.getOwner(pg.dataDirectory()).getName()).isEqualTo(pg.osUser());
            assertThat(pg.logFile()).exists();
            if (LocalCommandRunner.jvmIsRoot()) {
                assertThat(pg.osUser()).isEqualTo("postgres");
                assertThat(pg.runner().describe()).contains("postgres");
            }
            long pid = pg.postmasterPid();
            assertThat(Workspace.cmdline(pid)).contains("postgres");
            assertThat(ProcessHandle.of(pid).flatMap(h -> h.info().user())).contains(pg.osUser());

            // another plain JDBC client can reach it with the conninfo's values
            Properties props = new Properties();
            props.setProperty("user", pg.conninfo().user().orElseThrow());
            try (Connection c = DriverManager.getConnection(
                    "jdbc:postgresql://" + pg.host() + ":" + pg.port() + "/" + pg.conninfo().dbname().orElseThrow(), props)) {
                assertThat(c.isValid(2)).isTrue();
            }
        }
    }

    @Test
    void settingsOverrideDefaults() {
        try (PgServer pg = PgServer.builder()
                .setting("max_wal_senders", "2")
                .setting("wal_log_hints", "off")
                .setting("cluster_name", "it's quoted")
                .dataChecksums(true)
                .start()) {
            assertThat(pg.name()).matches("pg\\d+");
            assertThat(pg.query("SHOW max_wal_senders", String.class)).isEqualTo("2");
            assertThat(pg.query("SHOW wal_log_hints", String.class)).isEqualTo("off");
            assertThat(pg.query("SHOW cluster_name", String.class))
                    .isEqualTo("it's quoted");
            assertThat(pg.query("SHOW data_checksums", String.class)).isEqualTo("on");
            // defaults are in place where not overridden
            assertThat(pg.query("SHOW wal_level", String.class)).isEqualTo("replica");
            assertThat(pg.query("SHOW max_replication_slots", String.class)).isEqualTo("10");
            assertThat(pg.query("SHOW hot_standby", String.class)).isEqualTo("on");
            assertThat(pg.query("SHOW wal_keep_size", String.class)).isEqualTo("256MB");
            assertThat(pg.query("SHOW max_connections", String.class)).isEqualTo("40");
            assertThat(pg.query("SHOW fsync", String.class)).isEqualTo("off");
            assertThat(pg.query("SHOW listen_addresses", String.class)).isEqualTo("127.0.0.1");
        }
        assertThatThrownBy(() -> PgServer.builder().setting("port", "5432"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> PgServer.builder().name("bad name/.."))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void kill9ThenStartAgain() {
        try (PgServer pg = PgServer.builder().name("crash").start()) {
            pg.execute("CREATE TABLE kept (i int)");
            pg.execute("INSERT INTO kept VALUES (1), (2)");
            long pid = pg.postmasterPid();

            pg.kill9();

            assertThat(Workspace.isAlive(pid)).isFalse();
            assertThat(pg.isRunning()).isFalse();
            assertThatThrownBy(pg::postmasterPid).isInstanceOf(PgTestkitException.class);
            assertThatThrownBy(pg::kill9).isInstanceOf(PgTestkitException.class);

            pg.start();
            assertThat(pg.isRunning()).isTrue();
            assertThat(pg.postmasterPid()).isNotEqualTo(pid);
            assertThat(pg.query("SELECT count(*) FROM kept", Long.class)).isEqualTo(2L);
            assertThat(pg.logTail(200)).contains("not properly shut down");

            pg.stop();
            assertThat(pg.isRunning()).isFalse();
            pg.stop(); // stopping a stopped server is fine
            pg.restart();
            assertThat(pg.query("SELECT 1", Integer.class)).isEqualTo(1);
        }
    }

    @Test
    void closeDeletesDirectoriesAndFreesThePort() throws IOException {
        PgServer pg = PgServer.builder().name("closing").start();
        Path base = pg.dataDirectory().getParent();
        int port = pg.port();
        long pid = pg.postmasterPid();

        pg.close();

        assertThat(base).doesNotExist();
        assertThat(Workspace.isAlive(pid)).isFalse();
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port));
            assertThat(s.isBound()).isTrue();
        }
        pg.close(); // idempotent
        assertThatThrownBy(pg::start).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void closeOfAStoppedOrCrashedServerIsFine() {
        PgServer stopped = PgServer.builder().name("stopped").start();
        stopped.stop();
        stopped.close();
        assertThat(stopped.dataDirectory().getParent()).doesNotExist();

        PgServer crashed = PgServer.builder().name("crashed").start();
        crashed.kill9();
        crashed.close();
        assertThat(crashed.dataDirectory().getParent()).doesNotExist();
    }

    @Test
    void passwordIsRequiredOverTcpAndNeverShown() {
        String secret = "s3cret pa'ss";
        try (PgServer pg = PgServer.builder().name("secret").password(secret).start();
             PgServer standby = pg.createStandby("secret2")) {
            ConnInfo ci = pg.conninfo();
            assertThat(ci.password()).contains(secret);
            assertThat(ci.toString()).doesNotContain(secret);
            assertThat(pg.toString()).doesNotContain(secret);
            assertThat(pg.query("SELECT 1", Integer.class)).isEqualTo(1);
            assertThat(pg.query("SHOW password_encryption", String.class)).isEqualTo("scram-sha-256");
            assertThat(pg.query("SELECT rolpassword LIKE 'SCRAM-SHA-256$%' FROM pg_authid WHERE rolname = 'repmgr'",
                    Boolean.class)).isTrue();

            Properties noPassword = new Properties();
            noPassword.setProperty("user", "repmgr");
            assertThatThrownBy(() -> DriverManager.getConnection(
                    "jdbc:postgresql://127.0.0.1:" + pg.port() + "/repmgr", noPassword))
                    .hasMessageContaining("password");

            assertThat(standby.inRecovery()).isTrue();
            assertThat(standby.conninfo().password()).contains(secret);
            assertThat(pg.logTail(1000)).doesNotContain(secret);
            assertThat(standby.logTail(1000)).doesNotContain(secret);
        }
    }
}
