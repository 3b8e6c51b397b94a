package io.repmgr4j.core;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.spi.CommandRunner;
import io.repmgr4j.spi.EventListener;
import io.repmgr4j.spi.LocalCommandRunner;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Creates {@link ReplicationCluster}s. A cluster is reached through one or more seed
 * connection strings (any node of the set will do: standbys hold a replicated copy of
 * the metadata, which names the primary). Builders are not thread-safe; the clusters
 * they build are.
 *
 * <pre>{@code
 * ReplicationCluster cluster = ReplicationClusters.builder()
 *         .seed(ConnInfo.parse("host=pg1 port=5432 user=repmgr dbname=repmgr"))
 *         .eventListener(e -> log.info("{}", e))
 *         .build();
 * }</pre>
 */
public final class ReplicationClusters {
    private ReplicationClusters() {
    }

    /** A cluster reached through these seeds, with default options. */
    public static ReplicationCluster connect(ConnInfo... seeds) {
        Builder b = builder();
        for (ConnInfo s : seeds) {
            b.seed(s);
        }
        return b.build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Options of a cluster handle. */
    public static final class Builder {
        private final List<ConnInfo> seeds = new ArrayList<>();
        private final List<EventListener> listeners = new ArrayList<>();
        private Duration connectTimeout = Duration.ofSeconds(10);
        private Duration showTimeout = Duration.ofSeconds(10);
        private final java.util.Map<Integer, NodeBinding> nodes = new java.util.LinkedHashMap<>();
        private CommandRunner defaultRunner = LocalCommandRunner.asUser("postgres");

        private Builder() {
        }

        /** A node to reach the cluster through; several may be given. */
        public Builder seed(ConnInfo seed) {
            io.repmgr4j.InputRules.conninfo("seed", Objects.requireNonNull(seed, "seed"));
            seeds.add(seed);
            return this;
        }

        /**
         * A node the library may act on (start, stop, clone into, rewind): its
         * configuration, reached with the default command runner. Operations that take a
         * {@code NodeConfig} add it themselves; this names the others (a switchover's old
         * primary, the siblings that follow). A later call for the same node id wins.
         */
        public Builder node(NodeConfig config) {
            return node(config, null);
        }

        /** A node the library may act on, reached through its own command runner (SSH, say). */
        public Builder node(NodeConfig config, CommandRunner runner) {
            Objects.requireNonNull(config, "config");
            nodes.put(config.nodeId(), new NodeBinding(config, Optional.ofNullable(runner)));
            return this;
        }

        /**
         * The runner for nodes given without one. Default: this machine, switching to OS
         * user {@code postgres} when the JVM runs as root (PostgreSQL refuses root).
         */
        public Builder defaultCommandRunner(CommandRunner runner) {
            this.defaultRunner = Objects.requireNonNull(runner, "runner");
            return this;
        }

        /** Told of every event this handle records. */
        public Builder eventListener(EventListener listener) {
            listeners.add(Objects.requireNonNull(listener, "listener"));
            return this;
        }

        /** The longest a connection attempt may take (a node's own connect_timeout may be shorter). Default 10 s. */
        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = positive(timeout);
            return this;
        }

        /** The default bound of {@code cluster show}'s probe. Default 10 s. */
        public Builder showTimeout(Duration timeout) {
            this.showTimeout = positive(timeout);
            return this;
        }

        public ReplicationCluster build() {
            return new DefaultReplicationCluster(new ClusterContext(seeds, listeners, connectTimeout, showTimeout,
                    nodes.values(), defaultRunner));
        }

        private static Duration positive(Duration d) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException("a timeout must be positive");
            }
            return d;
        }
    }
}
