package io.repmgr4j;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * The durable synchronous record (table {@code repmgr4j.synchronous_state}, written on the
 * primary, replicated to every standby): the cluster-wide synchronous settings in force,
 * and which nodes may hold every acknowledged commit. Elections read it: in
 * {@link Kind#PRIORITY} only a member may be promoted; in {@link Kind#QUORUM} at least
 * {@code members - recordCount + 1} members must answer and the one that received the most
 * is promoted; {@link Kind#OFF} and {@link Kind#DEGRADED} leave the usual election rules.
 * The generation grows by one with every write, so of two copies the newer is known.
 * Immutable; thread-safe.
 *
 * @param mode the configured mode ({@code synchronous})
 * @param count the configured {@code synchronous_count}
 * @param strict {@code synchronous_strict}
 * @param degradeTimeout {@code synchronous_degrade_timeout}
 * @param kind what the record guarantees now
 * @param recordCount the {@code n} the guarantee holds with (at most {@code count})
 * @param members node ids that may hold every acknowledged commit (besides the primary)
 * @param standbyNames the {@code synchronous_standby_names} last applied
 * @param generation grows by one with each write
 * @param primaryNodeId the primary that wrote it
 */
public record SynchronousRecord(SyncMode mode, int count, boolean strict, Duration degradeTimeout, Kind kind,
                                int recordCount, List<Integer> members, String standbyNames, long generation,
                                int primaryNodeId) {

    /** What a record guarantees. */
    public enum Kind {
        /** Nothing: asynchronous replication, usual election rules. */
        OFF,
        /** Every acknowledged commit is on every member. */
        PRIORITY,
        /** Every acknowledged commit is on at least {@code recordCount} members. */
        QUORUM,
        /** Synchronous replication is configured but fell back to asynchronous (non-strict, timeout passed). */
        DEGRADED
    }

    public SynchronousRecord {
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(degradeTimeout, "degradeTimeout");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(standbyNames, "standbyNames");
        members = List.copyOf(members);
    }

    /** Whether elections must obey the record (priority or quorum guarantee). */
    public boolean guarding() {
        return kind == Kind.PRIORITY || kind == Kind.QUORUM;
    }

    /** The same record with another guarantee, the next generation. */
    public SynchronousRecord next(Kind kind, int recordCount, List<Integer> members, String standbyNames, int primaryNodeId) {
        return new SynchronousRecord(mode, count, strict, degradeTimeout, kind, recordCount, members, standbyNames,
                generation + 1, primaryNodeId);
    }
}
