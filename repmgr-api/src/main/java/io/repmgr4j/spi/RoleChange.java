package io.repmgr4j.spi;

import java.time.Instant;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * One role change of a daemon's node, as a {@link RoleChangeListener} is told of it.
 * Immutable; thread-safe.
 *
 * @param nodeId the daemon's node
 * @param nodeName its name
 * @param reason why, in words (for logs)
 * @param upstreamNodeId the new upstream, for {@link RoleChangeListener#onFollow}; empty otherwise
 * @param at when the daemon saw the change
 */
public record RoleChange(int nodeId, String nodeName, String reason, OptionalInt upstreamNodeId, Instant at) {
    public RoleChange {
        Objects.requireNonNull(nodeName, "nodeName");
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(upstreamNodeId, "upstreamNodeId");
        Objects.requireNonNull(at, "at");
    }
}
