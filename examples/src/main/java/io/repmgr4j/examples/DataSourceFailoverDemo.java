package io.repmgr4j.examples;

import static io.repmgr4j.examples.Console.say;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.repmgr4j.DaemonOptions;
import io.repmgr4j.FailoverDaemon;
import io.repmgr4j.FailoverMode;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.Target;
import io.repmgr4j.core.ReplicationClusters;
import io.repmgr4j.jdbc.ClusterDataSource;
import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An application that follows the primary by itself: it writes through HikariCP over a
 * {@link ClusterDataSource} (one commit every 10 ms) while the demo kills the primary's
 * postmaster with {@code kill -9} and the failover daemons promote a standby. It prints
 * where its commits went, the errors it saw and its longest gap between two commits.
 * Everything it started is stopped and deleted at the end.
 *
 * <p>Run it with {@code bin/demo io.repmgr4j.examples.DataSourceFailoverDemo}.
 */
public final class DataSourceFailoverDemo {
    private DataSourceFailoverDemo() {
    }

    public static void main(String[] args) throws Exception {
        say("starting a primary and two streaming standbys on 127.0.0.1 (throw-away data directories)");
        try (PgReplicaSet servers = PgReplicaSet.start(3, b -> b.setting("wal_retrieve_retry_interval", "200ms"));
             ReplicationCluster cluster = ReplicationClusters.connect(servers.server("pg1").conninfo(),
                     servers.server("pg2").conninfo(), servers.server("pg3").conninfo())) {
            List<NodeConfig> configs = new ArrayList<>();
            int id = 1;
            for (PgServer s : servers.servers()) {
                configs.add(NodeConfig.builder().nodeId(id++).nodeName(s.name()).conninfo(s.conninfo())
                        .dataDirectory(s.dataDirectory().toString()).pgBindir(s.bindir().toString())
                        .failover(FailoverMode.AUTOMATIC).monitorIntervalSecs(1).reconnectAttempts(3).reconnectInterval(1)
                        .build());
            }
            cluster.registerPrimary(configs.get(0)).execute();
            cluster.registerStandby(configs.get(1)).waitUntilAttached(Duration.ofSeconds(30)).execute();
            cluster.registerStandby(configs.get(2)).waitUntilAttached(Duration.ofSeconds(30)).execute();
            servers.server("pg1").execute("CREATE TABLE app_writes (id bigserial PRIMARY KEY, at timestamptz NOT NULL)");

            say("what a multi-host client would be given instead (cluster.connectionString)");
            System.out.println(cluster.connectionString(Target.PRIMARY).jdbcUrl());
            System.out.println(cluster.connectionString(Target.PRIMARY).conninfo());

            say("failover daemons on every node (checks every 500 ms, 3 reconnect attempts 200 ms apart)");
            DaemonOptions fast = DaemonOptions.builder().monitorInterval(Duration.ofMillis(500))
                    .reconnectInterval(Duration.ofMillis(200)).build();
            List<FailoverDaemon> daemons = new ArrayList<>();
            for (NodeConfig c : configs) {
                daemons.add(cluster.daemon(c, fast).start());
            }
            Thread.sleep(2000);

            say("the application: HikariCP (4 connections) over ClusterDataSource, one commit every 10 ms");
            ClusterDataSource.Builder dsb = ClusterDataSource.builder();
            servers.servers().forEach(s -> dsb.seed(s.conninfo()));
            HikariConfig hc = new HikariConfig();
            AtomicBoolean running = new AtomicBoolean(true);
            AtomicInteger commits = new AtomicInteger();
            AtomicInteger errors = new AtomicInteger();
            AtomicLong last = new AtomicLong();
            AtomicLong longest = new AtomicLong();
            try (ClusterDataSource ds = dsb.build()) {
                hc.setDataSource(ds);
                hc.setMaximumPoolSize(4);
                hc.setPoolName("app");
                try (HikariDataSource pool = new HikariDataSource(hc)) {
                    Thread writer = new Thread(() -> {
                        while (running.get()) {
                            try (Connection c = pool.getConnection(); PreparedStatement ps = c.prepareStatement(
                                    "INSERT INTO app_writes (at) VALUES (clock_timestamp()) RETURNING current_setting('port')");
                                 ResultSet rs = ps.executeQuery()) {
                                rs.next();
                                long now = System.nanoTime();
                                long before = last.getAndSet(now);
                                if (before != 0) {
                                    longest.accumulateAndGet(now - before, Math::max);
                                }
                                commits.incrementAndGet();
                            } catch (SQLException e) {
                                errors.incrementAndGet();
                                System.out.println("    write failed: " + e.getSQLState() + " " + e.getMessage());
                            }
                            try {
                                Thread.sleep(10);
                            } catch (InterruptedException e) {
                                return;
                            }
                        }
                    }, "app-writer");
                    writer.start();
                    Thread.sleep(2000);
                    System.out.println("    writing to " + ds.primary().orElseThrow() + ": " + commits.get() + " commits so far");

                    say("kill -9 of the primary's postmaster (pg1)");
                    longest.set(0);
                    servers.server("pg1").kill9();
                    long killed = System.nanoTime();
                    while (ds.primary().map(n -> n.nodeId() == 1).orElse(true) && System.nanoTime() - killed < 60e9) {
                        Thread.sleep(5);
                    }
                    System.out.println("    the DataSource routes to " + ds.primary().orElseThrow() + " after "
                            + (System.nanoTime() - killed) / 1_000_000 + " ms");
                    Thread.sleep(2000);
                    running.set(false);
                    writer.join(10_000);
                    say("result");
                    System.out.println("    commits: " + commits.get() + ", failed writes: " + errors.get());
                    System.out.println("    longest gap between two commits: " + longest.get() / 1_000_000 + " ms");
                    Thread.sleep(600); // past HikariCP's alive-bypass window: each borrow below validates
                    List<Connection> held = new ArrayList<>();
                    List<String> ports = new ArrayList<>();
                    try {
                        for (int i = 0; i < 4; i++) {
                            Connection c = pool.getConnection();
                            held.add(c);
                            try (PreparedStatement ps = c.prepareStatement(
                                    "SELECT current_setting('port') || CASE WHEN pg_is_in_recovery() THEN ' (standby)' ELSE '' END");
                                 ResultSet rs = ps.executeQuery()) {
                                rs.next();
                                ports.add(rs.getString(1));
                            }
                        }
                    } finally {
                        for (Connection c : held) {
                            c.close();
                        }
                    }
                    System.out.println("    pool: " + pool.getHikariPoolMXBean().getTotalConnections()
                            + " connections, to the servers on ports " + ports + "; the primary is "
                            + ds.primary().orElseThrow());
                }
            } finally {
                daemons.forEach(FailoverDaemon::close);
            }
        }
    }
}
