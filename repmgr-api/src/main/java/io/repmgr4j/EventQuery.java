package io.repmgr4j;

import java.util.Optional;
import java.util.OptionalInt;
import org.immutables.value.Value;

/**
 * Which events to read: optionally one node and one event name, newest first, at most
 * {@link #limit()} rows (repmgr's {@code cluster event} shows 20). Immutable; thread-safe.
 */
@Value.Immutable
public abstract class EventQuery {

    public static ImmutableEventQuery.Builder builder() {
        return ImmutableEventQuery.builder();
    }

    /** The newest 20 events of every node. */
    public static EventQuery latest() {
        return builder().build();
    }

    public abstract OptionalInt nodeId();

    public abstract Optional<String> event();

    @Value.Default
    public int limit() {
        return 20;
    }

    @Value.Check
    protected void check() {
        if (limit() < 1) {
            throw new ReplicationException(ErrorCode.BAD_CONFIG, "invalid event limit " + limit(),
                    "the limit is the number of rows to return and must be 1 or more", null);
        }
    }
}
