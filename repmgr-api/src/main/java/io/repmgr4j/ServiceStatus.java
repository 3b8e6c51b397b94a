package io.repmgr4j;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Optional;
import org.immutables.value.Value;

/**
 * {@code repmgr service status}: every registered node with its failover daemon, and
 * the problems found. Render it with {@code io.repmgr4j.format.ServiceStatusFormat}.
 * Immutable; thread-safe.
 */
@Value.Immutable
public abstract class ServiceStatus {

    public static ImmutableServiceStatus.Builder builder() {
        return ImmutableServiceStatus.builder();
    }

    /** One row per registered node, ordered by node id. */
    public abstract List<NodeServiceStatus> nodes();

    /** Problems: those of {@code cluster show}, plus nodes whose daemon is not running. */
    public abstract List<String> problems();

    public abstract OffsetDateTime probedAt();

    /** The synchronous record read on the primary, as in {@link ClusterStatus#synchronous()}. */
    public abstract Optional<SynchronousRecord> synchronous();

    public abstract Duration probeDuration();

    /** The row of this node. */
    public Optional<NodeServiceStatus> node(int nodeId) {
        return nodes().stream().filter(n -> n.node().nodeId() == nodeId).findFirst();
    }
}
