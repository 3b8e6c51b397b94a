package io.repmgr4j;

import io.repmgr4j.spi.EventListener;
import java.io.Closeable;

/**
 * The failover daemon of one node: repmgrd's role, embeddable in a Java service. Get one
 * from {@link ReplicationCluster#daemon(NodeConfig)}, add listeners, {@link #start()} it,
 * and {@link #close()} it when the service stops. A standalone main
 * ({@code io.repmgr4j.core.daemon.DaemonMain}) runs the same code from a repmgr.conf.
 *
 * <p>While running it checks the local server and its upstream every monitor interval;
 * on a standby whose primary is lost it runs the reconnect policy, then an election
 * among the siblings, and promotes this node or follows the winner; on a primary it
 * watches the child nodes. See the cluster's design notes for the rules.
 *
 * <pre>{@code
 * try (FailoverDaemon daemon = cluster.daemon(config).addListener(e -> log.info("{}", e)).start()) {
 *     service.awaitShutdown();
 * }
 * }</pre>
 *
 * <p>Thread-safe. Listeners are called on the daemon's own notification thread, never on
 * its monitoring thread, so a slow listener cannot delay a failover.
 */
public interface FailoverDaemon extends Closeable {

    /** The node this daemon runs for. */
    int nodeId();

    /**
     * Checks the settings and the node (registered, reachable, no other daemon running for
     * it), records {@code repmgrd_start} and starts monitoring. Returns this daemon.
     *
     * @throws ReplicationException {@code BAD_CONFIG} for invalid settings or an
     *     unregistered node, {@code DB_CONN} when the local server cannot be reached
     * @throws IllegalStateException when the daemon was started or closed already
     */
    FailoverDaemon start();

    /** Created, running or closed. */
    DaemonState state();

    /** What the daemon is doing and has seen. */
    DaemonStatus status();

    /**
     * What the daemon last saw of its own server (refreshed every 100 ms from the first
     * call on, while the daemon runs); empty before the first check or when not running.
     */
    default java.util.Optional<NodeHealth> health() {
        return java.util.Optional.empty();
    }

    /** Tells {@code listener} of every event this daemon records. Returns this daemon. */
    FailoverDaemon addListener(EventListener listener);

    /** Stops telling {@code listener}; false when it was not added. */
    boolean removeListener(EventListener listener);

    /**
     * Stops the daemon: records {@code repmgrd_shutdown} (when it ran), stops its threads
     * and closes every connection it opened. Idempotent; never throws.
     */
    @Override
    void close();
}
