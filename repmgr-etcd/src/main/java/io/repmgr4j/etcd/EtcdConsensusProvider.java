package io.repmgr4j.etcd;

import io.repmgr4j.ConsensusConfig;
import io.repmgr4j.spi.ConsensusStore;
import io.repmgr4j.spi.ConsensusStoreProvider;

/** Makes {@link EtcdConsensusStore}s for {@code consensus = etcd} (found by {@link java.util.ServiceLoader}). Thread-safe. */
public final class EtcdConsensusProvider implements ConsensusStoreProvider {

    @Override
    public String kind() {
        return "etcd";
    }

    @Override
    public ConsensusStore open(ConsensusConfig config) {
        return EtcdConsensusStore.open(config);
    }
}
