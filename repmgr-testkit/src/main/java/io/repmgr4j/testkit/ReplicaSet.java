package io.repmgr4j.testkit;

import java.util.List;

/**
 * A running replica set of a test, on whichever backend started it: a primary {@code pg1}
 * and its streaming standbys {@code pg2}, {@code pg3}, ... Local servers
 * ({@link PgReplicaSet}) or containers (repmgr-testcontainers' {@code PgContainerReplicaSet}).
 * Implementations are thread-safe; {@link #close()} removes every node and is idempotent.
 */
public interface ReplicaSet extends AutoCloseable {
    /** The backend that started it: {@code local} or {@code containers}. */
    String backend();

    /** The node started as primary (pg1); after a switchover or failover ask the nodes which is primary now. */
    PgNode primary();

    /**
     * Node {@code n}: 1 is pg1 (the primary), 2 the first standby, and so on.
     *
     * @throws java.util.NoSuchElementException when the set has fewer nodes
     */
    PgNode node(int n);

    /** All nodes, pg1 first. */
    List<? extends PgNode> nodes();

    /** Stops and removes every node (standbys first); the first failure is thrown after all were tried. */
    @Override
    void close();
}
