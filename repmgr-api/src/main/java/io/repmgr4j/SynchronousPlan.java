package io.repmgr4j;

import java.util.List;
import java.util.Objects;

/**
 * What {@code cluster.synchronousReplication()...plan()} would set, or what {@code apply()}
 * set: the primary's {@code synchronous_standby_names} before and after, what the
 * synchronous record then says, why, and the steps in their safe order. Immutable;
 * thread-safe.
 *
 * @param primaryNodeId the primary it is for
 * @param currentStandbyNames the primary's {@code synchronous_standby_names} before
 * @param standbyNames the value to set (or set)
 * @param kind what the record guarantees afterwards
 * @param count the {@code n} in effect
 * @param members the names of the standbys that may hold every acknowledged commit
 * @param reason why this value
 * @param steps the steps, in order ("widen the record ...", "set synchronous_standby_names ...", ...)
 * @param applied whether this is the outcome of {@code apply()} (false for a dry run)
 * @param complete for an applied plan: whether the record was narrowed to the target too
 *     (false when a new synchronous standby had not confirmed yet; the daemon finishes it)
 */
public record SynchronousPlan(int primaryNodeId, String currentStandbyNames, String standbyNames,
                              SynchronousRecord.Kind kind, int count, List<String> members, String reason,
                              List<String> steps, boolean applied, boolean complete) {
    public SynchronousPlan {
        Objects.requireNonNull(currentStandbyNames, "currentStandbyNames");
        Objects.requireNonNull(standbyNames, "standbyNames");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(reason, "reason");
        members = List.copyOf(members);
        steps = List.copyOf(steps);
    }
}
