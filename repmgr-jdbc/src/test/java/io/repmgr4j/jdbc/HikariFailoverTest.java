package io.repmgr4j.jdbc;

import static io.repmgr4j.jdbc.JdbcFixture.await;
import static io.repmgr4j.jdbc.JdbcFixture.sleep;
import static io.repmgr4j.jdbc.JdbcFixture.where;
import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.repmgr4j.testkit.PgServer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * HikariCP over ClusterDataSource, with failover daemons on a real 3-node set, while two
 * writers commit through the pool: a kill -9 of the primary (automatic failover), a rejoin
 * of the old primary, and a switchover back to it. After each, the pool holds connections
 * to the primary only; at no point was a write sent to a node in recovery (SQLState 25006,
 * "read-only transaction", would say so) or committed anywhere but on a primary.
 */
class HikariFailoverTest {
    static final int POOL = 4;

    /** Writers that commit through the pool and remember where each commit went and every error. */
    static final class Writers implements AutoCloseable {
        final AtomicBoolean running = new AtomicBoolean(true);
        final AtomicInteger commits = new AtomicInteger();
        final Map<String, AtomicInteger> commitsByServer = new ConcurrentHashMap<>();
        final List<String> errorStates = new CopyOnWriteArrayList<>();
        final List<Thread> threads = new ArrayList<>();

        Writers(HikariDataSource pool, int n) {
            for (int i = 0; i < n; i++) {
                Thread t = new Thread(() -> loop(pool), "writer-" + i);
                t.setDaemon(true);
                threads.add(t);
                t.start();
            }
        }

        void loop(HikariDataSource pool) {
            while (running.get()) {
                try (Connection c = pool.getConnection(); PreparedStatement ps = c.prepareStatement(
                        "INSERT INTO pool_writes (at) VALUES (clock_timestamp())"
                                + " RETURNING current_setting('port'), pg_is_in_recovery()")) {
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        String server = rs.getString(1) + (rs.getBoolean(2) ? " standby" : " primary");
                        commitsByServer.computeIfAbsent(server, k -> new AtomicInteger()).incrementAndGet();
                    }
                    commits.incrementAndGet();
                } catch (SQLException e) {
                    errorStates.add(String.valueOf(e.getSQLState()));
                }
                sleep(10);
            }
        }

        void awaitCommits(int more) {
            int target = commits.get() + more;
            await(more + " more commits through the pool", Duration.ofSeconds(60), () -> commits.get() >= target);
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            for (Thread t : threads) {
                t.join(30_000);
            }
        }
    }

    /** Borrows every connection of the pool at once (each validated or replaced) and says where each goes. */
    static List<String> everyPooledConnection(HikariDataSource pool) throws SQLException {
        sleep(600); // past HikariCP's alive-bypass window (500 ms), so that each borrow validates
        List<Connection> held = new ArrayList<>();
        List<String> out = new ArrayList<>();
        try {
            for (int i = 0; i < POOL; i++) {
                held.add(pool.getConnection());
            }
            for (Connection c : held) {
                out.add(where(c));
            }
        } finally {
            for (Connection c : held) {
                c.close();
            }
        }
        return out;
    }

    @Test
    void thePoolFollowsAFailoverARejoinAndASwitchover() throws Exception {
        try (JdbcFixture fx = new JdbcFixture(3)) {
            fx.server(1).execute("CREATE TABLE pool_writes (id bigserial PRIMARY KEY, at timestamptz NOT NULL)");
            fx.startDaemons();
            sleep(1500);
            try (ClusterDataSource ds = fx.dataSource().build()) {
                HikariConfig hc = new HikariConfig();
                hc.setDataSource(ds);
                hc.setMaximumPoolSize(POOL);
                hc.setMinimumIdle(POOL);
                hc.setConnectionTimeout(20_000);
                hc.setPoolName("failover-test");
                try (HikariDataSource pool = new HikariDataSource(hc); Writers w = new Writers(pool, 2)) {
                    w.awaitCommits(50);
                    assertThat(everyPooledConnection(pool)).containsOnly(fx.server(1).port() + " primary");

                    // 1. kill -9 of the primary: a daemon promotes a standby
                    PgServer old = fx.server(1);
                    old.kill9();
                    await("a new primary", Duration.ofSeconds(60), () -> fx.writable() != null);
                    PgServer winner = fx.writable();
                    await("the DataSource to route to the new primary", Duration.ofSeconds(30),
                            () -> ds.primary().map(n -> n.port() == winner.port()).orElse(false));
                    w.awaitCommits(50);
                    assertThat(everyPooledConnection(pool)).containsOnly(winner.port() + " primary");
                    assertThat(w.commitsByServer.keySet()).allMatch(s -> s.endsWith(" primary"));

                    // 2. the old primary rejoins as a standby of the new one, once the promotion is recorded
                    int winnerId = fx.idOf(winner);
                    await("the promotion recorded", Duration.ofSeconds(30), () -> Boolean.TRUE.equals(winner.query(
                            "SELECT count(*) = 1 FROM repmgr.nodes WHERE type = 'primary' AND active AND node_id = "
                                    + winnerId, Boolean.class)));
                    fx.cluster.rejoin(fx.config(1)).forceRewind(true).recoverCrashedNode(true)
                            .timeout(Duration.ofSeconds(120)).execute();
                    winner.waitForStreaming(old, Duration.ofSeconds(60));
                    w.awaitCommits(30);
                    assertThat(everyPooledConnection(pool)).containsOnly(winner.port() + " primary");

                    // 3. a switchover back to the rejoined node
                    fx.cluster.switchover(1).siblingsFollow(true).execute();
                    await("the DataSource to route to node 1 again", Duration.ofSeconds(30),
                            () -> ds.primary().map(n -> n.nodeId() == 1).orElse(false));
                    w.awaitCommits(50);
                    assertThat(everyPooledConnection(pool)).containsOnly(old.port() + " primary");
                    assertThat(pool.getHikariPoolMXBean().getTotalConnections()).isLessThanOrEqualTo(POOL);
                    w.close();
                    assertThat(w.commitsByServer.keySet()).allMatch(s -> s.endsWith(" primary"))
                            .contains(old.port() + " primary", winner.port() + " primary");
                    assertThat(w.errorStates).as("no write was sent to a read-only node").doesNotContain("25006");
                    try (Connection c = pool.getConnection(); Statement st = c.createStatement();
                         ResultSet rs = st.executeQuery("SELECT count(*) FROM pool_writes")) {
                        rs.next();
                        assertThat(rs.getLong(1)).isPositive();
                    }
                }
                assertThat(ds.openConnections()).isZero();
            }
        }
    }
}
