package io.repmgr4j;

/**
 * Event names repmgr4j records for synchronous replication (repmgr has none). Constants only.
 */
public final class SyncEvents {
    private SyncEvents() {
    }

    /** {@code synchronous_standby_names} and the synchronous record were changed. */
    public static final String SYNCHRONOUS_CHANGED = "synchronous_changed";
    /** No synchronous standby for {@code synchronous_degrade_timeout}: dropped to asynchronous replication. */
    public static final String SYNCHRONOUS_DEGRADED = "synchronous_degraded";
    /** A sync candidate is back and caught up: synchronous replication restored. */
    public static final String SYNCHRONOUS_RESTORED = "synchronous_restored";
    /** A failover was not done because no standby is proven to hold every acknowledged commit. */
    public static final String SYNCHRONOUS_FAILOVER_BLOCKED = "synchronous_failover_blocked";
}
