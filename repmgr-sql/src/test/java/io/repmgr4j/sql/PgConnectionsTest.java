package io.repmgr4j.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.ReplicationException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PgConnectionsTest {

    static final String SECRET = "N0t-In-Any-Message";

    static ConnInfo ci(String s) {
        return ConnInfo.parse(s);
    }

    @Test
    void urlForTheSeedConninfo() {
        ConnInfo c = ci("host=10.67.38.50 port=1998 user=repmgr password=repmgr dbname=repmgr connect_timeout=5");
        assertThat(PgConnections.jdbcUrl(c)).isEqualTo("jdbc:postgresql://10.67.38.50:1998/repmgr");
    }

    @Test
    void urlWithSeveralHostsAndDefaultPorts() {
        assertThat(PgConnections.jdbcUrl(ci("host=h1,h2,h3 port=5433,,5434 dbname=db")))
                .isEqualTo("jdbc:postgresql://h1:5433,h2:5432,h3:5434/db");
        assertThat(PgConnections.jdbcUrl(ci("postgresql://h1:5433,h2:5434/db")))
                .isEqualTo("jdbc:postgresql://h1:5433,h2:5434/db");
    }

    @Test
    void urlWithIpv6() {
        assertThat(PgConnections.jdbcUrl(ci("postgresql://[::1]:5433/db"))).isEqualTo("jdbc:postgresql://[::1]:5433/db");
    }

    @Test
    void urlDefaultsToLocalhostAndTheUserAsDatabase() {
        assertThat(PgConnections.jdbcUrl(ci("user=repmgr"))).isEqualTo("jdbc:postgresql://localhost:5432/repmgr");
        assertThat(PgConnections.jdbcUrl(ci("port=5433"))).isEqualTo("jdbc:postgresql://localhost:5433/");
    }

    @Test
    void urlEncodesTheDatabaseName() {
        assertThat(PgConnections.jdbcUrl(ci("host=h dbname='my db/1?'")))
                .isEqualTo("jdbc:postgresql://h:5432/my+db%2F1%3F");
    }

    @Test
    void hostaddrIsWhereTheConnectionGoes() {
        assertThat(PgConnections.jdbcUrl(ci("host=db.example hostaddr=10.1.2.3 port=6432 dbname=d")))
                .isEqualTo("jdbc:postgresql://10.1.2.3:6432/d");
    }

    @Test
    void unixSocketHostIsBadConfigWithAHint() {
        for (String s : new String[] {"host=/var/run/postgresql dbname=d", "postgresql://%2Ftmp/d",
                "host=pg1,/tmp dbname=d"}) {
            ReplicationException e = catchThrowableOfType(ReplicationException.class, () -> PgConnections.jdbcUrl(ci(s)));
            assertThat(e).as(s).isNotNull();
            assertThat(e.code()).isEqualTo(ErrorCode.BAD_CONFIG);
            assertThat(e.getMessage()).contains("Unix-domain socket");
            assertThat(e.hint()).hasValueSatisfying(h -> assertThat(h).contains("host=127.0.0.1").contains("TCP"));
        }
    }

    @Test
    void propertiesForAFullConninfo() {
        Properties p = PgConnections.properties(ci("host=h1,h2 user=repmgr password=" + SECRET
                + " dbname=repmgr connect_timeout=5 sslmode=require application_name=repmgrd"
                + " target_session_attrs=read-write options='-c statement_timeout=0' keepalives=1"), null);
        assertThat(p.getProperty("user")).isEqualTo("repmgr");
        assertThat(p.getProperty("password")).isEqualTo(SECRET);
        assertThat(p.getProperty("connectTimeout")).isEqualTo("5");
        assertThat(p.getProperty("loginTimeout")).as("5 s for each of 2 hosts").isEqualTo("10");
        assertThat(p.getProperty("sslmode")).isEqualTo("require");
        assertThat(p.getProperty("ApplicationName")).isEqualTo("repmgrd");
        assertThat(p.getProperty("targetServerType")).isEqualTo("primary");
        assertThat(p.getProperty("options")).isEqualTo("-c statement_timeout=0");
        assertThat(p).doesNotContainKeys("socketTimeout", "keepalives", "host", "dbname");
    }

    @Test
    void propertiesDefaults() {
        Properties p = PgConnections.properties(ci("host=h"), null);
        assertThat(p.getProperty("connectTimeout")).isEqualTo("10");
        assertThat(p.getProperty("loginTimeout")).isEqualTo("10");
        assertThat(p.getProperty("ApplicationName")).isEqualTo("repmgr4j");
        assertThat(p).doesNotContainKeys("user", "password", "sslmode", "targetServerType", "socketTimeout", "options");
    }

    @Test
    void fallbackApplicationName() {
        assertThat(PgConnections.properties(ci("host=h fallback_application_name=tool"), null)
                .getProperty("ApplicationName")).isEqualTo("tool");
        assertThat(PgConnections.properties(ci("host=h fallback_application_name=tool application_name=app"), null)
                .getProperty("ApplicationName")).isEqualTo("app");
    }

    @ParameterizedTest
    @CsvSource({
        "'',        , 10",
        "'',      PT3S, 3",
        "5,      PT30S, 5",
        "30,      PT5S, 5",
        "30,   PT2.1S, 3",
        "30,    PT0.2S, 1",
        "1,           , 2",
        "0,           , 0",
        "-1,          , 0",
        "0,       PT7S, 7",
    })
    void connectTimeoutIsCapped(String connectTimeout, Duration cap, int expected) {
        ConnInfo c = connectTimeout.isEmpty() ? ci("host=h") : ci("host=h connect_timeout=" + connectTimeout);
        Properties p = PgConnections.properties(c, cap);
        assertThat(p.getProperty("connectTimeout")).isEqualTo(String.valueOf(expected));
        if (expected == 0) {
            assertThat(p).doesNotContainKey("loginTimeout");
        } else {
            assertThat(p.getProperty("loginTimeout")).isEqualTo(String.valueOf(expected));
        }
    }

    @Test
    void negativeCapIsRefused() {
        assertThatThrownBy(() -> PgConnections.properties(ci("host=h"), Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void socketTimeout() {
        Properties p = PgConnections.properties(ci("host=h"), null, Duration.ofMillis(1500));
        assertThat(p.getProperty("socketTimeout")).isEqualTo("2");
    }

    @ParameterizedTest
    @CsvSource({
        "any, any",
        "read-write, primary",
        "primary, primary",
        "read-only, secondary",
        "standby, secondary",
        "prefer-standby, preferSecondary",
    })
    void targetSessionAttrs(String libpq, String pgjdbc) {
        assertThat(PgConnections.properties(ci("host=h target_session_attrs=" + libpq), null)
                .getProperty("targetServerType")).isEqualTo(pgjdbc);
    }

    @Test
    void unknownTargetSessionAttrsIsBadConfig() {
        ReplicationException e = catchThrowableOfType(ReplicationException.class,
                () -> PgConnections.properties(ci("host=h target_session_attrs=master"), null));
        assertThat(e.code()).isEqualTo(ErrorCode.BAD_CONFIG);
        assertThat(e.getMessage()).contains("master");
    }

    @Test
    void sslFilesArePassedThrough() {
        Properties p = PgConnections.properties(ci("host=h sslmode=verify-full sslrootcert=/r.crt sslcert=/c.crt"
                + " sslkey=/c.pk8 sslpassword=" + SECRET), null);
        assertThat(p.getProperty("sslmode")).isEqualTo("verify-full");
        assertThat(p.getProperty("sslrootcert")).isEqualTo("/r.crt");
        assertThat(p.getProperty("sslcert")).isEqualTo("/c.crt");
        assertThat(p.getProperty("sslkey")).isEqualTo("/c.pk8");
        assertThat(p.getProperty("sslpassword")).isEqualTo(SECRET);
    }

    @Test
    void closedLoopbackPortGivesDbConnWithoutThePassword() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        ConnInfo c = ci("host=127.0.0.1 port=" + port + " user=repmgr password=" + SECRET
                + " dbname=repmgr connect_timeout=5");
        long start = System.nanoTime();
        ReplicationException e = catchThrowableOfType(ReplicationException.class,
                () -> PgConnections.open(c, Duration.ofSeconds(3)).close());
        assertThat(e).isNotNull();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        assertThat(e.code()).isEqualTo(ErrorCode.DB_CONN);
        assertThat(e.getMessage()).isEqualTo("unable to connect to 127.0.0.1:" + port);
        assertThat(e.detail()).isPresent();
        assertThat(e.hint()).contains(PgConnections.CONNECT_HINT);
        assertThat(e.getCause()).isInstanceOf(SQLException.class);
        assertThat(((SQLException) e.getCause()).getSQLState()).isNotNull();
        assertThat(e.toReport()).doesNotContain(SECRET);
        assertThat(e.toString()).doesNotContain(SECRET);
        assertThat(stackTraceOf(e)).doesNotContain(SECRET);
    }

    @Test
    void aPasswordInTheDriversMessageIsMasked() {
        ConnInfo c = ci("host=h1,h2 port=5433 password=" + SECRET);
        SQLException driver = new SQLException("could not use password " + SECRET, "28P01",
                new RuntimeException("inner " + SECRET));
        ReplicationException e = PgConnections.connectFailure(c, driver);
        assertThat(e.code()).isEqualTo(ErrorCode.DB_CONN);
        assertThat(e.getMessage()).isEqualTo("unable to connect to h1:5433,h2:5433");
        assertThat(e.detail()).hasValue("could not use password " + ConnInfo.MASK + " [SQLSTATE 28P01]");
        assertThat(((SQLException) e.getCause()).getSQLState()).isEqualTo("28P01");
        assertThat(e.getCause().getStackTrace()).isEqualTo(driver.getStackTrace());
        assertThat(stackTraceOf(e)).doesNotContain(SECRET).contains("inner " + ConnInfo.MASK);
    }

    private static String stackTraceOf(Throwable t) {
        StringWriter w = new StringWriter();
        t.printStackTrace(new PrintWriter(w));
        return w.toString();
    }
}
