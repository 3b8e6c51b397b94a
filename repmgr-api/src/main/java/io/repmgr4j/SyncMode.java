package io.repmgr4j;

import java.util.Locale;

/**
 * How the library manages {@code synchronous_standby_names} on the primary (repmgr4j's
 * own setting {@code synchronous}; repmgr has none). An enum; thread-safe.
 */
public enum SyncMode {
    /** The library does not touch {@code synchronous_standby_names}: replication is asynchronous. */
    OFF,
    /**
     * {@code FIRST n (a, b, ...)}: the {@code n} best sync candidates (by priority) are the
     * synchronous standbys; every acknowledged commit is on all of them, so any one of them
     * may be promoted without loss.
     */
    PRIORITY,
    /**
     * {@code ANY n (a, b, ...)} over all {@code m} sync candidates: every acknowledged commit
     * is on at least {@code n} of them, so a failover asks at least {@code m - n + 1} of them
     * and promotes the one that received the most.
     */
    QUORUM;

    /** The repmgr.conf spelling: {@code off}, {@code priority}, {@code quorum}. */
    public String confValue() {
        return name().toLowerCase(Locale.ROOT);
    }
}
