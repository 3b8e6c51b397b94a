package io.repmgr4j.spi;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationCluster;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.ServiceLoader;

/**
 * Opens a {@link ReplicationCluster} handle for code that depends on repmgr-api only, such
 * as the test kit's JUnit extension (which cannot depend on repmgr-core: core's own tests
 * use the kit). repmgr-core provides the implementation, found with {@link ServiceLoader}
 * when it is on the class path; applications call {@code ReplicationClusters.builder()}
 * directly. Implementations are thread-safe.
 */
public interface ReplicationClusterFactory {

    /**
     * A handle reached through {@code seeds} that knows each node's configuration and the
     * runner for its host, as {@code ReplicationClusters.builder().seed(..).node(config, runner).build()}.
     */
    ReplicationCluster open(List<ConnInfo> seeds, List<Node> nodes);

    /** A node the handle may act on, and the runner for its host. */
    record Node(NodeConfig config, CommandRunner runner) {
        public Node {
            Objects.requireNonNull(config, "config");
            Objects.requireNonNull(runner, "runner");
        }
    }

    /** The implementation on the class path of {@code loader}, if any (repmgr-core's). */
    static Optional<ReplicationClusterFactory> find(ClassLoader loader) {
        return ServiceLoader.load(ReplicationClusterFactory.class, loader).findFirst();
    }
}
