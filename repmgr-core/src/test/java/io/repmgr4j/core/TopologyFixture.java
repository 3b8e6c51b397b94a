package io.repmgr4j.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.NodeConfig;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * A registered replica set for topology tests: node ids 1, 2, ... for pg1, pg2, ...,
 * configurations with the servers' bindir, a cluster handle that knows every node, and a
 * snapshot of what must not change when an operation is refused.
 */
final class TopologyFixture implements AutoCloseable {
    final PgReplicaSet set;
    final Map<Integer, PgServer> servers = new LinkedHashMap<>();
    final Map<Integer, NodeConfig> configs = new LinkedHashMap<>();
    ReplicationCluster cluster;

    TopologyFixture(PgReplicaSet set) {
        this(set, UnaryOperator.identity());
    }

    /** With every node's configuration changed by {@code edit}. */
    TopologyFixture(PgReplicaSet set, UnaryOperator<NodeConfig> edit) {
        this.set = set;
        int id = 1;
        for (PgServer s : set.servers()) {
            servers.put(id, s);
            configs.put(id, edit.apply(config(id, s)));
            id++;
        }
        cluster = handle(UnaryOperator.identity());
        cluster.registerPrimary(configs.get(1)).execute();
        for (int i = 2; i < id; i++) {
            cluster.registerStandby(configs.get(i)).waitUntilAttached(Duration.ofSeconds(30)).execute();
        }
    }

    static NodeConfig config(int id, PgServer s) {
        return NodeConfig.builder().nodeId(id).nodeName(s.name()).conninfo(s.conninfo())
                .dataDirectory(s.dataDirectory().toString()).pgBindir(s.bindir().toString())
                .promoteCheckTimeout(30).shutdownCheckTimeout(30).nodeRejoinTimeout(30).standbyReconnectTimeout(30).build();
    }

    /** A new handle knowing every node, with configurations changed by {@code edit}. */
    ReplicationCluster handle(UnaryOperator<NodeConfig> edit) {
        ReplicationClusters.Builder b = ReplicationClusters.builder();
        servers.forEach((id, s) -> b.seed(s.conninfo()));
        configs.forEach((id, c) -> b.node(edit.apply(c), servers.get(id).runner()));
        return b.build();
    }

    void add(int id, PgServer s) {
        servers.put(id, s);
        configs.put(id, config(id, s));
        cluster.close();
        cluster = handle(UnaryOperator.identity());
    }

    PgServer server(int id) {
        return servers.get(id);
    }

    /** Node records, roles and timelines of the running servers. */
    record Snapshot(List<NodeRecord> nodes, Map<Integer, String> roles) {
    }

    Snapshot snapshot() {
        Map<Integer, String> roles = new LinkedHashMap<>();
        servers.forEach((id, s) -> {
            if (!s.isRunning()) {
                roles.put(id, "stopped");
                return;
            }
            boolean standby = s.inRecovery();
            Integer tli = s.query(standby ? "SELECT timeline_id FROM pg_control_checkpoint()"
                    : "SELECT ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int", Integer.class);
            roles.put(id, (standby ? "standby" : "primary") + " tli " + tli);
        });
        return new Snapshot(cluster.metadata().nodes(), roles);
    }

    void assertUnchanged(Snapshot before) {
        assertThat(snapshot()).isEqualTo(before);
    }

    /** The application names streaming from the server (pg_stat_replication). */
    /**
     * The application_names streaming from a server. A client that has just connected
     * shows as "catchup" for a moment, so this waits (up to 30 s) until no connected
     * client is in another state before it answers.
     */
    static List<String> streamingFrom(PgServer s) {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
        while (true) {
            List<String> streaming = new ArrayList<>();
            int others = 0;
            try (var c = s.connect(); var st = c.createStatement();
                 var rs = st.executeQuery("SELECT application_name, state FROM pg_stat_replication ORDER BY 1")) {
                while (rs.next()) {
                    if ("streaming".equals(rs.getString(2))) {
                        streaming.add(rs.getString(1));
                    } else {
                        others++;
                    }
                }
            } catch (java.sql.SQLException e) {
                throw new IllegalStateException(e);
            }
            if (others == 0 || System.nanoTime() > deadline) {
                return streaming;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return streaming;
            }
        }
    }

    @Override
    public void close() {
        try {
            if (cluster != null) {
                cluster.close();
            }
        } finally {
            set.close();
        }
    }
}
