package io.repmgr4j;

import java.time.Instant;
import java.util.Optional;
import java.util.OptionalInt;
import org.immutables.value.Value;

/**
 * A snapshot of one {@link FailoverDaemon}: its lifecycle state, what it is doing, which
 * upstream it watches and when it last saw it. Immutable; thread-safe.
 */
@Value.Immutable
public abstract class DaemonStatus {

    public static ImmutableDaemonStatus.Builder builder() {
        return ImmutableDaemonStatus.builder();
    }

    public abstract int nodeId();

    public abstract String nodeName();

    public abstract DaemonState state();

    public abstract DaemonMode mode();

    /** The role the local server was last seen in: primary (not in recovery) or standby; empty before the first check. */
    public abstract Optional<NodeType> localRole();

    /** The upstream the daemon watches; empty on a primary. */
    public abstract OptionalInt upstreamNodeId();

    /** When the daemon last reached its upstream; empty on a primary or before the first success. */
    public abstract Optional<Instant> upstreamLastSeen();

    /** Whether {@code cluster.pauseDaemons()} is in force for this node (as last read from the local server). */
    public abstract boolean paused();

    /** The cluster's voting term, as last read (0 when unknown). */
    public abstract int votingTerm();

    /** The last event this daemon recorded. */
    public abstract Optional<EventRecord> lastEvent();
}
