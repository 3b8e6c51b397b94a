package io.repmgr4j.spi;

import io.repmgr4j.NodeRecord;

/**
 * Called by a failover daemon that found two writable primaries: a node that runs as a
 * primary although the cluster's metadata has moved on (typically the old primary,
 * restarted after a failover), and the current primary. Use it to fence the stale one:
 * stop its server, take its virtual IP away, tell the connection pooler.
 *
 * <p>Called at most once per occurrence, on the daemon's notification thread (never its
 * monitoring thread), after the {@code repmgrd_split_brain_detected} event was recorded.
 * Implementations must be thread-safe; anything thrown is logged and ignored.
 *
 * <p>{@link #fenceLocal} is called when a daemon fences its own node (it lost sight of a
 * quorum, or found itself the stale one of two primaries), after its configured
 * {@code fencing} action ran: an embedder's own fence (a VIP, a pooler) goes there.
 */
@FunctionalInterface
public interface FencingHook {

    /**
     * @param stalePrimary the record of the node that should not be a primary (its record
     *     is inactive, or it is registered as a standby)
     * @param currentPrimary the record of the cluster's current primary
     */
    void fence(NodeRecord stalePrimary, NodeRecord currentPrimary);

    /**
     * The daemon of {@code node} fenced its own server; {@code reason} says why. Runs on
     * the daemon's notification thread. Default: nothing.
     */
    default void fenceLocal(NodeRecord node, String reason) {
    }
}
