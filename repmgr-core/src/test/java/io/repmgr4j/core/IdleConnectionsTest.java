package io.repmgr4j.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.sql.PgConnections;
import io.repmgr4j.testkit.PgServer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Connections kept between operations, against a real server: reuse, reset, and what is never kept. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class IdleConnectionsTest {
    private static final Duration CHECK = Duration.ofMillis(500);
    private PgServer server;
    private ConnInfo info;
    private Supplier<Connection> open;

    @BeforeAll
    void start() {
        server = PgServer.builder().name("idleconn").start();
        info = server.conninfo().with("application_name", "idle-test");
        open = () -> PgConnections.open(info);
        server.execute("CREATE TABLE IF NOT EXISTS idle_t (id int)");
    }

    @AfterAll
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void aClosedConnectionIsLentAgainWithAFreshSession() throws SQLException {
        try (IdleConnections pool = new IdleConnections(Duration.ofSeconds(30))) {
            int pid;
            try (Connection c = pool.get("k", CHECK, open)) {
                pid = pid(c);
                exec(c, "SET work_mem = '7MB'");
                exec(c, "SELECT pg_advisory_lock(4242)");
                exec(c, "CREATE TEMP TABLE scratch (x int)");
            }
            assertThat(pool.size()).isEqualTo(1);
            // the session's lock went with DISCARD ALL, though the backend lives on
            assertThat(server.query("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'", Long.class)).isZero();
            try (Connection c = pool.get("k", CHECK, open)) {
                assertThat(pid(c)).isEqualTo(pid);
                assertThat(text(c, "SHOW work_mem")).isNotEqualTo("7MB").isEqualTo(server.query("SHOW work_mem", String.class));
                assertThat(text(c, "SELECT count(*)::text FROM pg_class WHERE relname = 'scratch'"
                        + " AND relpersistence = 't'")).isEqualTo("0");
                assertThat(text(c, "SHOW application_name")).isEqualTo("idle-test");
            }
        }
    }

    @Test
    void aConnectionLeftInATransactionOrReadOnlyIsClosedNotKept() throws SQLException {
        try (IdleConnections pool = new IdleConnections(Duration.ofSeconds(30))) {
            int pid;
            try (Connection c = pool.get("k", CHECK, open)) {
                pid = pid(c);
                c.setAutoCommit(false);
                exec(c, "INSERT INTO idle_t VALUES (1)");
            }
            assertThat(pool.size()).isZero();
            awaitGone(pid);
            assertThat(server.query("SELECT count(*) FROM idle_t", Long.class)).isZero();
            try (Connection c = pool.get("k", CHECK, open)) {
                assertThat(pid(c)).isNotEqualTo(pid);
                c.setReadOnly(true);
            }
            assertThat(pool.size()).isZero();
        }
    }

    @Test
    void aKeptConnectionWhoseBackendDiedIsReplacedUnnoticed() throws SQLException {
        try (IdleConnections pool = new IdleConnections(Duration.ofSeconds(30))) {
            int pid;
            try (Connection c = pool.get("k", CHECK, open)) {
                pid = pid(c);
            }
            server.execute("SELECT pg_terminate_backend(" + pid + ")");
            awaitGone(pid);
            try (Connection c = pool.get("k", CHECK, open)) {
                assertThat(pid(c)).isNotEqualTo(pid);
                assertThat(text(c, "SELECT 'alive'")).isEqualTo("alive");
            }
        }
    }

    @Test
    void keptConnectionsCloseAfterTheirTimeAndWithThePool() throws SQLException {
        IdleConnections pool = new IdleConnections(Duration.ofMillis(300));
        int pid;
        try (Connection c = pool.get("k", CHECK, open)) {
            pid = pid(c);
        }
        assertThat(pool.size()).isEqualTo(1);
        awaitGone(pid);
        assertThat(pool.size()).isZero();

        Connection lent = pool.get("k", CHECK, open);
        int lentPid = pid(lent);
        pool.close();
        lent.close();
        awaitGone(lentPid);
        assertThat(lent.isClosed()).isTrue();
        assertThatThrownBy(() -> lent.createStatement()).isInstanceOf(SQLException.class);
    }

    @Test
    void atMostTwoPerServerAreKept() throws SQLException {
        try (IdleConnections pool = new IdleConnections(Duration.ofSeconds(30))) {
            Connection a = pool.get("k", CHECK, open);
            Connection b = pool.get("k", CHECK, open);
            Connection c = pool.get("k", CHECK, open);
            int oldest = pid(a);
            a.close();
            b.close();
            c.close();
            assertThat(pool.size()).isEqualTo(IdleConnections.PER_SERVER);
            awaitGone(oldest);
        }
    }

    private static int pid(Connection c) throws SQLException {
        return Integer.parseInt(text(c, "SELECT pg_backend_pid()::text"));
    }

    private static String text(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static void exec(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    /** Waits (up to 10 s) until no backend with that pid is left. */
    private void awaitGone(int pid) {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (server.query("SELECT count(*) FROM pg_stat_activity WHERE pid = " + pid, Long.class) > 0) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("backend " + pid + " still there");
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }
}
