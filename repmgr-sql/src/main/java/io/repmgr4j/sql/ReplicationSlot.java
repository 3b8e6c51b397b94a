package io.repmgr4j.sql;

import io.repmgr4j.Lsn;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * One row of a server's {@code pg_replication_slots}. repmgr names physical slots
 * {@code repmgr_slot_<node_id>}. Read by {@link ServerProbe#replicationSlots}.
 * Immutable; thread-safe.
 *
 * @param slotName the slot's name
 * @param slotType {@code physical} or {@code logical}
 * @param temporary whether the slot disappears with its session
 * @param active whether a client is using it now
 * @param activePid the process using it, when active
 * @param restartLsn the oldest location the slot keeps WAL for, once it has one
 * @param walStatus {@code reserved}, {@code extended}, {@code unreserved} or {@code lost}
 */
public record ReplicationSlot(
        String slotName,
        String slotType,
        boolean temporary,
        boolean active,
        OptionalInt activePid,
        Optional<Lsn> restartLsn,
        Optional<String> walStatus) {

    public ReplicationSlot {
        Objects.requireNonNull(slotName, "slotName");
        Objects.requireNonNull(slotType, "slotType");
        Objects.requireNonNull(activePid, "activePid");
        Objects.requireNonNull(restartLsn, "restartLsn");
        Objects.requireNonNull(walStatus, "walStatus");
    }
}
