package io.repmgr4j.spi;

import io.repmgr4j.ConsensusConfig;

/**
 * Makes {@link ConsensusStore}s of one kind; found with {@link java.util.ServiceLoader} (module
 * {@code repmgr-etcd} provides kind {@code etcd}). Implementations are thread-safe.
 */
public interface ConsensusStoreProvider {

    /** The kind this provider makes ({@code etcd}). */
    String kind();

    /** Connects a store with these settings; throws {@link ConsensusException} or a BAD_CONFIG error. */
    ConsensusStore open(ConsensusConfig config);
}
