package io.repmgr4j.jdbc;

import io.repmgr4j.DaemonOptions;
import io.repmgr4j.FailoverDaemon;
import io.repmgr4j.FailoverMode;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.core.ReplicationClusters;
import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * A registered replica set for the DataSource tests: node ids 1, 2, ... for pg1, pg2, ...,
 * a cluster handle that knows every node, and optionally failover daemons with short
 * intervals. Closes everything it started.
 */
final class JdbcFixture implements AutoCloseable {
    final PgReplicaSet set;
    final Map<Integer, PgServer> servers = new LinkedHashMap<>();
    final ReplicationCluster cluster;
    final List<FailoverDaemon> daemons = new ArrayList<>();

    JdbcFixture(int nodes) {
        set = PgReplicaSet.start(nodes, b -> b.setting("wal_retrieve_retry_interval", "200ms"));
        ReplicationClusters.Builder b = ReplicationClusters.builder();
        int id = 1;
        for (PgServer s : set.servers()) {
            servers.put(id++, s);
            b.seed(s.conninfo());
        }
        ReplicationCluster c = b.build();
        try {
            c.registerPrimary(config(1)).execute();
            for (int i = 2; i <= nodes; i++) {
                c.registerStandby(config(i)).waitUntilAttached(Duration.ofSeconds(30)).execute();
            }
        } catch (RuntimeException e) {
            c.close();
            set.close();
            throw e;
        }
        cluster = c;
    }

    NodeConfig config(int id) {
        PgServer s = servers.get(id);
        return NodeConfig.builder().nodeId(id).nodeName(s.name()).conninfo(s.conninfo())
                .dataDirectory(s.dataDirectory().toString()).pgBindir(s.bindir().toString())
                .failover(FailoverMode.AUTOMATIC).monitorIntervalSecs(1).reconnectAttempts(2).reconnectInterval(1)
                .promoteCheckTimeout(30).shutdownCheckTimeout(30).nodeRejoinTimeout(30).standbyReconnectTimeout(30)
                .build();
    }

    PgServer server(int id) {
        return servers.get(id);
    }

    int idOf(PgServer s) {
        return servers.entrySet().stream().filter(e -> e.getValue() == s).findFirst().orElseThrow().getKey();
    }

    /** A DataSource builder seeded with every node. */
    ClusterDataSource.Builder dataSource() {
        ClusterDataSource.Builder b = ClusterDataSource.builder();
        servers.values().forEach(s -> b.seed(s.conninfo()));
        return b;
    }

    /** Failover daemons on every node: checks every 300 ms, reconnect 2 × 300 ms. */
    void startDaemons() {
        DaemonOptions fast = DaemonOptions.builder().monitorInterval(Duration.ofMillis(300))
                .reconnectInterval(Duration.ofMillis(300)).primaryWaitTimeout(Duration.ofSeconds(20)).build();
        for (int id : servers.keySet()) {
            daemons.add(cluster.daemon(config(id), fast).start());
        }
    }

    void stopDaemons() {
        daemons.forEach(FailoverDaemon::close);
        daemons.clear();
    }

    /** The server that answers and is not in recovery, if exactly one does. */
    PgServer writable() {
        List<PgServer> w = servers.values().stream().filter(JdbcFixture::isPrimary).toList();
        return w.size() == 1 ? w.get(0) : null;
    }

    static boolean isPrimary(PgServer s) {
        try {
            return s.isRunning() && !s.inRecovery();
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** The port of the server a connection is to, and whether it is in recovery. */
    static String where(Connection c) throws SQLException {
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT current_setting('port'), pg_is_in_recovery()")) {
            rs.next();
            return rs.getString(1) + (rs.getBoolean(2) ? " standby" : " primary");
        }
    }

    static void await(String what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for: " + what);
            }
            sleep(20);
        }
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    @Override
    public void close() {
        try {
            stopDaemons();
            cluster.close();
        } finally {
            set.close();
        }
    }
}
