package io.repmgr4j.jdbc;

import static io.repmgr4j.jdbc.JdbcFixture.await;
import static io.repmgr4j.jdbc.JdbcFixture.where;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.repmgr4j.testkit.PgServer;
import java.net.ServerSocket;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/** ClusterDataSource over a real 3-node set, without daemons: routing, a switchover, a stale primary, bad input. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterDataSourceTest {
    static JdbcFixture fx;

    @BeforeAll
    static void start() {
        fx = new JdbcFixture(3);
    }

    @AfterAll
    static void stop() {
        if (fx != null) {
            fx.close();
        }
    }

    @Test
    @Order(1)
    void handsOutWritableConnectionsToThePrimaryOnly() throws SQLException {
        try (ClusterDataSource ds = fx.dataSource().build()) {
            for (int i = 0; i < 3; i++) {
                try (Connection c = ds.getConnection()) {
                    assertThat(where(c)).isEqualTo(fx.server(1).port() + " primary");
                    assertThat(c.isValid(2)).isTrue();
                    try (Statement st = c.createStatement()) {
                        st.execute("CREATE TABLE IF NOT EXISTS ds_test (v int)");
                        st.execute("INSERT INTO ds_test VALUES (1)");
                    }
                }
            }
            assertThat(ds.primary()).hasValueSatisfying(n -> assertThat(n.nodeId()).isEqualTo(1));
            assertThat(ds.openConnections()).isZero();
        }
    }

    @Test
    @Order(2)
    void readOnlyVariantHandsOutStandbysWithinTheLagLimitInTurn() throws SQLException {
        try (ClusterDataSource ds = fx.dataSource().readOnly(Duration.ofSeconds(10)).build()) {
            Set<String> seen = new HashSet<>();
            for (int i = 0; i < 4; i++) {
                try (Connection c = ds.getConnection()) {
                    seen.add(where(c));
                }
            }
            assertThat(seen).containsExactlyInAnyOrder(fx.server(2).port() + " standby", fx.server(3).port() + " standby");
            assertThat(ds.standbys()).hasSize(2);
        }
    }

    @Test
    @Order(3)
    void aRoleChangeNoticeIsActedOnWithoutWaitingForThePoll() {
        // polls a minute apart: only the NOTIFY of standby follow can make the change seen in time
        try (ClusterDataSource ds = fx.dataSource().readOnly(Duration.ofSeconds(10)).pollInterval(Duration.ofSeconds(60))
                .build()) {
            await("both standbys listed", Duration.ofSeconds(30), () -> ds.standbys().size() == 2);
            fx.cluster.follow(3).upstreamNodeId(2).timeout(Duration.ofSeconds(30)).execute();
            await("pg3 (now cascading from pg2, not streaming from the primary) left out", Duration.ofSeconds(20),
                    () -> ds.standbys().stream().map(ClusterDataSource.Node::nodeId).toList().equals(java.util.List.of(2)));
            fx.cluster.follow(3).upstreamNodeId(1).timeout(Duration.ofSeconds(30)).execute();
            await("pg3 listed again", Duration.ofSeconds(20), () -> ds.standbys().size() == 2);
        }
    }

    @Test
    @Order(4)
    void aStandbyWhoseReplayFallsBehindLeavesTheReadOnlyVariant() throws SQLException {
        PgServer pg2 = fx.server(2);
        PgServer pg3 = fx.server(3);
        try (ClusterDataSource ds = fx.dataSource().readOnly(Duration.ofMillis(500)).pollInterval(Duration.ofMillis(100))
                .build()) {
            await("both standbys within the lag limit", Duration.ofSeconds(30), () -> ds.standbys().size() == 2);
            Connection onPg3 = null;
            for (int i = 0; i < 4 && onPg3 == null; i++) {
                Connection c = ds.getConnection();
                if (where(c).equals(pg3.port() + " standby")) {
                    onPg3 = c;
                } else {
                    c.close();
                }
            }
            assertThat(onPg3).isNotNull();
            pg3.execute("SELECT pg_wal_replay_pause()");
            try {
                await("pg3 to fall behind by more than 500 ms", Duration.ofSeconds(60), () -> {
                    fx.server(1).execute("INSERT INTO ds_test VALUES (3)");
                    return ds.standbys().stream().noneMatch(n -> n.port() == pg3.port());
                });
                assertThat(onPg3.isValid(1)).isFalse();
                for (int i = 0; i < 3; i++) {
                    try (Connection c = ds.getConnection()) {
                        assertThat(where(c)).isEqualTo(pg2.port() + " standby");
                    }
                }
            } finally {
                onPg3.close();
                pg3.execute("SELECT pg_wal_replay_resume()");
            }
            await("pg3 back within the lag limit", Duration.ofSeconds(60), () -> {
                fx.server(1).execute("INSERT INTO ds_test VALUES (4)");
                return ds.standbys().size() == 2;
            });
        }
    }

    @Test
    @Order(5)
    void wrongUserDatabaseAndNoReachableNodeAreClearErrors() throws Exception {
        try (ClusterDataSource ds = fx.dataSource().user("no_such_role").build()) {
            assertThatThrownBy(ds::getConnection).isInstanceOfSatisfying(SQLException.class, e -> {
                assertThat(e.getSQLState()).startsWith("28");
                assertThat(e.getMessage()).contains("no_such_role").contains("pg1");
                assertThat(e.getCause()).isNotNull();
            });
        }
        try (ClusterDataSource ds = fx.dataSource().database("no_such_db").build()) {
            assertThatThrownBy(ds::getConnection).isInstanceOfSatisfying(SQLException.class,
                    e -> assertThat(e.getSQLState()).isEqualTo("3D000"));
        }
        int port;
        try (ServerSocket free = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = free.getLocalPort();
        }
        try (ClusterDataSource ds = ClusterDataSource.builder().seed("host=127.0.0.1 port=" + port
                + " user=repmgr dbname=repmgr").loginTimeout(Duration.ofSeconds(1)).build()) {
            long t0 = System.nanoTime();
            assertThatThrownBy(ds::getConnection).isInstanceOfSatisfying(SQLException.class, e -> {
                assertThat(e.getSQLState()).isEqualTo("08001");
                assertThat(e.getMessage()).contains("no writable primary").contains("127.0.0.1:" + port)
                        .contains("nodes tried");
            });
            // bounded by the login timeout (1 s), with room for a loaded machine
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(10));
        }
        assertThatThrownBy(() -> ClusterDataSource.builder().build()).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at least one seed");
        assertThatThrownBy(() -> ClusterDataSource.builder().seed("host=/tmp port=5432 user=u")
                .build()).hasMessageContaining("Unix-domain socket");
        assertThatThrownBy(() -> ClusterDataSource.builder().seed("host='unterminated")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("invalid seed");
    }

    @Test
    @Order(6)
    void aSwitchoverInvalidatesConnectionsToTheOldPrimaryAndRoutesToTheNewOne() throws SQLException {
        try (ClusterDataSource ds = fx.dataSource().build()) {
            Connection old = ds.getConnection();
            assertThat(where(old)).isEqualTo(fx.server(1).port() + " primary");
            Statement oldStatement = old.createStatement();
            fx.cluster.switchover(2).siblingsFollow(true).execute();
            await("the DataSource to follow the switchover", Duration.ofSeconds(30),
                    () -> ds.primary().map(n -> n.nodeId() == 2).orElse(false));
            assertThat(old.isValid(1)).isFalse();
            assertThatThrownBy(() -> oldStatement.execute("SELECT 1")).isInstanceOfSatisfying(SQLException.class,
                    e -> assertThat(e.getSQLState()).startsWith("08"));
            old.close();
            try (Connection c = ds.getConnection()) {
                assertThat(where(c)).isEqualTo(fx.server(2).port() + " primary");
            }
            fx.cluster.switchover(1).siblingsFollow(true).execute();
            await("the DataSource to follow the switchover back", Duration.ofSeconds(30),
                    () -> ds.primary().map(n -> n.nodeId() == 1).orElse(false));
            try (Connection c = ds.getConnection()) {
                assertThat(where(c)).isEqualTo(fx.server(1).port() + " primary");
            }
        }
    }

    @Test
    @Order(7)
    void theSpareConnectionKeptOnAStandbyServesTheFirstWriteAfterItsPromotion() throws SQLException {
        try (ClusterDataSource ds = fx.dataSource().build()) {
            await("spare connections to both standbys", Duration.ofSeconds(30),
                    () -> ds.sparePorts().equals(Set.of(fx.server(2).port(), fx.server(3).port())));
            java.sql.Timestamp before;
            try (Connection c = fx.server(2).connect(); Statement st = c.createStatement();
                 java.sql.ResultSet rs = st.executeQuery("SELECT clock_timestamp()")) {
                rs.next();
                before = rs.getTimestamp(1);
            }
            fx.cluster.switchover(2).siblingsFollow(true).execute();
            await("the DataSource to follow the switchover", Duration.ofSeconds(30),
                    () -> ds.primary().map(n -> n.nodeId() == 2).orElse(false));
            try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
                st.execute("INSERT INTO ds_test VALUES (2)");
                try (java.sql.ResultSet rs = st.executeQuery("SELECT backend_start FROM pg_stat_activity"
                        + " WHERE pid = pg_backend_pid()")) {
                    rs.next();
                    assertThat(rs.getTimestamp(1)).as("a session opened while pg2 was a standby").isBefore(before);
                }
            }
            fx.cluster.switchover(1).siblingsFollow(true).execute();
            await("the DataSource to follow the switchover back", Duration.ofSeconds(30),
                    () -> ds.primary().map(n -> n.nodeId() == 1).orElse(false));
        }
    }

    @Test
    @Order(8)
    void aStalePrimaryIsNeverHandedOutAndItsConnectionsBecomeInvalid() throws SQLException {
        // promote node 3 while node 1 still runs as primary (force): two writable servers, and the
        // metadata copy with the higher voting term (node 3's) names node 3
        try (ClusterDataSource ds = fx.dataSource().build()) {
            Connection old = ds.getConnection();
            assertThat(where(old)).isEqualTo(fx.server(1).port() + " primary");
            fx.cluster.promote(3).force(true).execute();
            PgServer stale = fx.server(1);
            assertThat(JdbcFixture.isPrimary(stale)).isTrue();
            await("the DataSource to route to node 3", Duration.ofSeconds(30),
                    () -> ds.primary().map(n -> n.nodeId() == 3).orElse(false));
            assertThat(old.isValid(1)).isFalse();
            assertThatThrownBy(() -> old.createStatement()).isInstanceOfSatisfying(SQLException.class,
                    e -> assertThat(e.getSQLState()).isEqualTo("08006"));
            old.close();
            for (int i = 0; i < 3; i++) {
                try (Connection c = ds.getConnection()) {
                    assertThat(where(c)).isEqualTo(fx.server(3).port() + " primary");
                }
            }
        }
    }

    @Test
    @Order(9)
    void aClusterWhoseNodeListBecomesEmptyIsAClearError() throws SQLException {
        // after the stale-primary case: node 3 is the primary; remove every record
        try (ClusterDataSource ds = fx.dataSource().loginTimeout(Duration.ofSeconds(2)).build()) {
            try (Connection c = ds.getConnection()) {
                assertThat(where(c)).endsWith("primary");
            }
            fx.server(3).execute("DELETE FROM repmgr.nodes");
            await("the DataSource to see the empty node list", Duration.ofSeconds(30), () -> {
                try (Connection c = ds.getConnection()) {
                    return false;
                } catch (SQLException e) {
                    return e.getMessage().contains("lists no active primary or standby");
                }
            });
        }
    }
}
