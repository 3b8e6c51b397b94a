package io.repmgr4j;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Optional;
import org.immutables.value.Value;

/**
 * The state of every registered node, as {@code cluster show} finds it by probing all
 * nodes at once, plus the problems it detected (repmgr's "following issues were
 * detected"). Render it with {@code io.repmgr4j.format.ClusterShowFormat}.
 * Immutable; thread-safe.
 */
@Value.Immutable
public abstract class ClusterStatus {

    public static ImmutableClusterStatus.Builder builder() {
        return ImmutableClusterStatus.builder();
    }

    /** One entry per registered node, ordered by node id. */
    public abstract List<NodeStatus> nodes();

    /** Detected problems, each a sentence such as {@code unable to connect to node "pg50" (ID: 1)}. */
    public abstract List<String> problems();

    /**
     * The synchronous record read on the primary (repmgr4j's synchronous replication):
     * mode, what it guarantees now and its members; empty when never configured or the
     * primary could not be read.
     */
    public abstract Optional<SynchronousRecord> synchronous();

    /** The cluster's synchronous mode: the record's, {@link SyncMode#OFF} without one. */
    @Value.Derived
    @Value.Auxiliary
    public SyncMode synchronousMode() {
        return synchronous().map(SynchronousRecord::mode).orElse(SyncMode.OFF);
    }

    /** When probing started. */
    public abstract OffsetDateTime probedAt();

    /** How long probing took. */
    public abstract Duration probeDuration();

    /** True when nothing is wrong. */
    @Value.Derived
    @Value.Auxiliary
    public boolean healthy() {
        return problems().isEmpty();
    }

    /** The node with this id. */
    public Optional<NodeStatus> node(int nodeId) {
        return nodes().stream().filter(n -> n.nodeId() == nodeId).findFirst();
    }

    /** The node with this name. */
    public Optional<NodeStatus> node(String nodeName) {
        return nodes().stream().filter(n -> n.nodeName().equals(nodeName)).findFirst();
    }
}
