package io.repmgr4j.core;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.spi.ReplicationClusterFactory;
import java.util.List;

/**
 * repmgr-core's {@link ReplicationClusterFactory}, registered for {@link java.util.ServiceLoader}:
 * opens handles with {@link ReplicationClusters#builder()}. Thread-safe (stateless).
 */
public final class CoreClusterFactory implements ReplicationClusterFactory {
    /** Created by {@link java.util.ServiceLoader}. */
    public CoreClusterFactory() {
    }

    @Override
    public ReplicationCluster open(List<ConnInfo> seeds, List<Node> nodes) {
        ReplicationClusters.Builder b = ReplicationClusters.builder();
        seeds.forEach(b::seed);
        nodes.forEach(n -> b.node(n.config(), n.runner()));
        return b.build();
    }
}
