package io.repmgr4j;

import java.time.Duration;
import java.util.Optional;
import java.util.OptionalLong;
import org.immutables.value.Value;

/**
 * One row of {@code service status}: a node as {@code cluster show} finds it, plus its
 * failover daemon as the daemon itself publishes it on the node's server.
 * Immutable; thread-safe.
 */
@Value.Immutable
public abstract class NodeServiceStatus {

    public static ImmutableNodeServiceStatus.Builder builder() {
        return ImmutableNodeServiceStatus.builder();
    }

    /** The node's record and server state, as {@code cluster show} reports it. */
    public abstract NodeStatus node();

    /** Whether a daemon runs for the node; empty when the node's server could not be asked. */
    public abstract Optional<Boolean> daemonRunning();

    /** The daemon's operating-system process id (the JVM's, for an embedded daemon). */
    public abstract OptionalLong daemonPid();

    /** What the daemon is doing, when it runs. */
    public abstract Optional<DaemonMode> daemonMode();

    /** Whether daemons are paused for this node; empty when it could not be read. */
    public abstract Optional<Boolean> paused();

    /**
     * How long ago the daemon last reached its upstream, measured on the node's own server
     * clock; empty for a primary, or when unknown.
     */
    public abstract Optional<Duration> upstreamLastSeen();
}
