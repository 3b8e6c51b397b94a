package io.repmgr4j.testkit.junit;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.SyncMode;
import io.repmgr4j.spi.ReplicationClusterFactory;
import io.repmgr4j.testkit.PgNode;
import io.repmgr4j.testkit.ReplicaSet;
import io.repmgr4j.testkit.spi.ReplicaSetSpec;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** The extension's work with a cluster handle: registering a started set, and its synchronous mode. */
final class ClusterSetup {
    static final Duration ATTACH_TIMEOUT = Duration.ofSeconds(30);
    static final Duration SYNC_TIMEOUT = Duration.ofSeconds(30);

    private ClusterSetup() {
    }

    /** Refuses a synchronous mode the set's shape cannot give, before anything starts. */
    static void checkSynchronous(ReplicaSetSpec spec, SyncMode mode, int count) {
        if (mode == SyncMode.OFF) {
            return;
        }
        if (count < 1) {
            throw new IllegalArgumentException("synchronousCount must be 1 or more, got " + count);
        }
        int direct = spec.nodes() - 1 - spec.cascade().size();
        if (count > direct) {
            throw new IllegalArgumentException("synchronous = " + mode + " with synchronousCount = " + count + " needs "
                    + count + " standbys streaming from the primary, but the set has " + direct
                    + " (nodes = " + spec.nodes() + ", " + spec.cascade().size() + " cascaded)");
        }
    }

    /**
     * A handle knowing every node (ids 1, 2, ... for pg1, pg2, ..., each with its own
     * runner), the primary and the standbys registered, each standby with its upstream.
     */
    static ReplicationCluster openRegistered(ReplicationClusterFactory factory, ReplicaSet set, ReplicaSetSpec spec) {
        List<ConnInfo> seeds = new ArrayList<>();
        List<ReplicationClusterFactory.Node> nodes = new ArrayList<>();
        List<NodeConfig> configs = new ArrayList<>();
        for (int i = 1; i <= set.nodes().size(); i++) {
            PgNode n = set.node(i);
            NodeConfig c = n.nodeConfig(i).build();
            configs.add(c);
            seeds.add(n.conninfo());
            nodes.add(new ReplicationClusterFactory.Node(c, n.runner()));
        }
        ReplicationCluster cluster = factory.open(seeds, nodes);
        try {
            cluster.registerPrimary(configs.get(0)).execute();
            for (int i = 2; i <= configs.size(); i++) {
                cluster.registerStandby(configs.get(i - 1)).upstreamNodeId(spec.upstreamOf(i))
                        .waitUntilAttached(ATTACH_TIMEOUT).execute();
            }
            return cluster;
        } catch (RuntimeException e) {
            try {
                cluster.close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw new IllegalStateException("could not register the replica set's nodes: " + e.getMessage(), e);
        }
    }

    /**
     * Applies the mode with {@code cluster.synchronousReplication()} and waits until the
     * primary's pg_stat_replication shows {@code count} standbys as {@code sync}
     * (priority) or {@code quorum} (quorum).
     */
    static void synchronous(ReplicationCluster cluster, PgNode primary, SyncMode mode, int count) {
        cluster.synchronousReplication().mode(mode).count(count).apply();
        String wanted = mode == SyncMode.QUORUM ? "quorum" : "sync";
        long deadline = System.nanoTime() + SYNC_TIMEOUT.toNanos();
        String seen = "";
        while (true) {
            int matching = 0;
            StringBuilder states = new StringBuilder();
            try (Connection c = primary.connect(); Statement st = c.createStatement()) {
                st.setQueryTimeout(10);
                try (ResultSet rs = st.executeQuery("SELECT application_name, sync_state FROM pg_stat_replication ORDER BY 1")) {
                    while (rs.next()) {
                        states.append(states.length() == 0 ? "" : ", ").append(rs.getString(1)).append('=').append(rs.getString(2));
                        if (wanted.equals(rs.getString(2))) {
                            matching++;
                        }
                    }
                }
                if (matching >= count) {
                    return;
                }
                try (ResultSet rs = st.executeQuery("SHOW synchronous_standby_names")) {
                    seen = "pg_stat_replication: " + (states.length() == 0 ? "no standbys" : states)
                            + "; synchronous_standby_names = '" + (rs.next() ? rs.getString(1) : "") + "'";
                }
            } catch (SQLException | IllegalStateException e) {
                seen = e.getMessage();
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("synchronous = " + mode + " was applied, but after " + SYNC_TIMEOUT.toSeconds()
                        + " s the primary " + primary.name() + " shows fewer than " + count + " standbys as " + wanted + " ("
                        + seen + ")");
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for synchronous replication", e);
            }
        }
    }
}
