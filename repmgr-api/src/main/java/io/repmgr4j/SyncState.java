package io.repmgr4j;

import java.util.Locale;
import java.util.Optional;

/**
 * A standby's synchronous state as its primary reports it in
 * {@code pg_stat_replication.sync_state}. An enum; thread-safe.
 */
public enum SyncState {
    /** Commits wait for this standby (priority mode). */
    SYNC,
    /** One of the standbys a quorum of which every commit waits for ({@code ANY n}). */
    QUORUM,
    /** Named in {@code synchronous_standby_names} but not waited for now (a replacement in priority mode). */
    POTENTIAL,
    /** Commits never wait for this standby. */
    ASYNC;

    /** The value as PostgreSQL spells it. */
    public String pgValue() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses {@code pg_stat_replication.sync_state}; empty for null or an unknown value. */
    public static Optional<SyncState> parse(String value) {
        if (value == null) {
            return Optional.empty();
        }
        for (SyncState s : values()) {
            if (s.pgValue().equals(value)) {
                return Optional.of(s);
            }
        }
        return Optional.empty();
    }
}
