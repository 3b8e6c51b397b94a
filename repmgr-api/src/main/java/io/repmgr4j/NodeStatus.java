package io.repmgr4j;

import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import org.immutables.value.Value;

/**
 * One node in {@link ClusterStatus}: its record, what probing it found, and how it reads
 * in {@code cluster show}. Immutable; thread-safe.
 */
@Value.Immutable
public abstract class NodeStatus {

    public static ImmutableNodeStatus.Builder builder() {
        return ImmutableNodeStatus.builder();
    }

    public abstract int nodeId();

    public abstract String nodeName();

    /** The role the node is registered with (repmgr's Role column). */
    public abstract NodeType role();

    public abstract NodeState state();

    public abstract boolean active();

    public abstract OptionalInt upstreamNodeId();

    public abstract Optional<String> upstreamNodeName();

    public abstract UpstreamState upstreamState();

    public abstract String location();

    public abstract int priority();

    /** The timeline the server is on, when it could be read. */
    public abstract OptionalLong timeline();

    /** The node's connection string; renders with the password masked. */
    public abstract ConnInfo conninfo();

    /** Whether the server is in recovery, when it could be reached. */
    public abstract Optional<Boolean> inRecovery();

    /**
     * For a standby of the primary: its {@code pg_stat_replication.sync_state} on the
     * primary ({@code sync}, {@code quorum}, {@code potential}, {@code async}); empty when it
     * is not streaming from the primary or the primary could not be read.
     */
    public abstract Optional<SyncState> syncState();

    /** Why the node could not be reached (never holds a password). */
    public abstract Optional<String> connectionError();

    /** The Upstream column: the upstream's name with repmgr's marker, {@code ?} when unknown. */
    @Value.Derived
    @Value.Auxiliary
    public String upstreamLabel() {
        if (upstreamState() == UpstreamState.NONE) {
            return state().reachable() ? "" : "?";
        }
        return upstreamState().marker() + upstreamNodeName().orElse("?");
    }
}
