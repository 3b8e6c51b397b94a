package io.repmgr4j.spi;

/**
 * Told when the node of a {@link io.repmgr4j.FailoverDaemon} changes role, to move what
 * follows the primary (a virtual IP, a DNS record, a pooler's configuration):
 * <ul>
 * <li>{@link #onPromote}: this node became the cluster's legitimate primary: its server
 *     accepts writes, the metadata names it the primary, and the daemon's check of the
 *     other nodes found no other writable primary (after a failover, a switchover, or at
 *     the daemon's start on the primary);</li>
 * <li>{@link #onDemote}: it stopped being that: its server went into recovery or stopped
 *     answering, the daemon fenced it, or another primary was found;</li>
 * <li>{@link #onFollow}: this standby was made to follow a new upstream by the daemon.</li>
 * </ul>
 * Calls come in order on the daemon's role thread ({@code repmgr4j-daemon-<id>-role}),
 * never on its monitoring thread, so a slow listener never delays a failover but does
 * delay the next role change's calls. A listener must not throw (what it throws is logged
 * and ignored). Give listeners to {@code DaemonOptions.roleChangeListeners}. Implementations
 * must be thread-safe.
 */
public interface RoleChangeListener {

    /** A listener that does nothing. */
    RoleChangeListener NONE = new RoleChangeListener() {
    };

    /** This node became the legitimate primary. */
    default void onPromote(RoleChange change) {
    }

    /** This node is no longer the legitimate primary. */
    default void onDemote(RoleChange change) {
    }

    /** This standby now follows {@link RoleChange#upstreamNodeId()}. */
    default void onFollow(RoleChange change) {
    }
}
