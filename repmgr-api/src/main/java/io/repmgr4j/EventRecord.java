package io.repmgr4j;

import java.time.OffsetDateTime;
import java.util.Optional;
import org.immutables.value.Value;

/**
 * One row of {@code repmgr.events}: something that happened to a node, such as
 * {@code standby_register} or {@code repmgrd_failover_promote}. Immutable; thread-safe.
 */
@Value.Immutable
public abstract class EventRecord {

    public static ImmutableEventRecord.Builder builder() {
        return ImmutableEventRecord.builder();
    }

    public abstract int nodeId();

    /** The event's name, one of repmgr's (see {@link Events}). */
    public abstract String event();

    @Value.Default
    public boolean successful() {
        return true;
    }

    /** When it happened; empty on a record not yet stored (the store sets the time). */
    public abstract Optional<OffsetDateTime> timestamp();

    public abstract Optional<String> details();

    /** The node's name, where the query that read the event could join it. */
    public abstract Optional<String> nodeName();
}
