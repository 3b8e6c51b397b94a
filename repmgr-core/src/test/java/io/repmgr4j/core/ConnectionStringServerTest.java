package io.repmgr4j.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.ConnectionString;
import io.repmgr4j.Target;
import io.repmgr4j.testkit.PgReplicaSet;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Connection strings from the registered nodes, used for real: pgjdbc with the URL, psql (libpq) with the conninfo. */
class ConnectionStringServerTest {
    static final Path PSQL = Path.of("/usr/lib/postgresql/15/bin/psql");
    static TopologyFixture fx;

    @BeforeAll
    static void start() {
        fx = new TopologyFixture(PgReplicaSet.start(2));
    }

    @AfterAll
    static void stop() {
        if (fx != null) {
            fx.close();
        }
    }

    /** pg_is_in_recovery() and the port of the server the URL leads to. */
    static String viaJdbc(ConnectionString cs) throws SQLException {
        try (Connection c = DriverManager.getConnection(cs.jdbcUrl()); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery(), current_setting('port')")) {
            rs.next();
            return rs.getBoolean(1) + " " + rs.getString(2);
        }
    }

    static String viaPsql(ConnectionString cs) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(PSQL.toString(), "-X", "-A", "-t", "-d", cs.conninfo(), "-c",
                "SELECT pg_is_in_recovery(), current_setting('port')").redirectErrorStream(true).start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertThat(p.exitValue()).as(out).isZero();
        return out.replace("|", " ").replace("t ", "true ").replace("f ", "false ");
    }

    @Test
    void primaryAndStandbyStringsLeadToTheRightServerWithPgjdbcAndLibpq() throws Exception {
        assertThat(Files.isExecutable(PSQL)).isTrue();
        int primaryPort = fx.server(1).port();
        int standbyPort = fx.server(2).port();
        ConnectionString primary = fx.cluster.connectionString(Target.PRIMARY);
        ConnectionString standby = fx.cluster.connectionString(Target.STANDBY);
        assertThat(primary.hosts()).hasSize(2);
        assertThat(viaJdbc(primary)).isEqualTo("false " + primaryPort);
        assertThat(viaPsql(primary)).isEqualTo("false " + primaryPort);
        assertThat(viaJdbc(standby)).isEqualTo("true " + standbyPort);
        assertThat(viaPsql(standby)).isEqualTo("true " + standbyPort);
        assertThat(viaPsql(fx.cluster.connectionString(Target.PREFER_STANDBY))).isEqualTo("true " + standbyPort);
        assertThat(viaJdbc(fx.cluster.connectionString(Target.PREFER_STANDBY))).isEqualTo("true " + standbyPort);
        assertThat(viaPsql(fx.cluster.connectionString(Target.ANY))).endsWith(" " + primaryPort);
    }

    @Test
    void primaryStringSkipsAStandbyListedFirst() throws Exception {
        // hosts in the order that makes the first try fail: libpq and pgjdbc must go on to the primary
        String conninfo = fx.cluster.connectionString(Target.PRIMARY).conninfo();
        int primaryPort = fx.server(1).port();
        int standbyPort = fx.server(2).port();
        String reversed = conninfo.replace("port=" + primaryPort + "," + standbyPort, "port=" + standbyPort + "," + primaryPort);
        assertThat(reversed).isNotEqualTo(conninfo);
        Process p = new ProcessBuilder(PSQL.toString(), "-X", "-A", "-t", "-d", reversed, "-c",
                "SELECT current_setting('port')").redirectErrorStream(true).start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip())
                .isEqualTo(String.valueOf(primaryPort));
    }
}
