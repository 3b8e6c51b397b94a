package io.repmgr4j;

import java.time.OffsetDateTime;
import java.util.Optional;
import org.immutables.value.Value;

/**
 * One row of {@code repmgr.monitoring_history}: what a standby's daemon saw at one
 * check. LSNs are PostgreSQL's text form ({@code 0/7023A50}); lags are in bytes.
 * Immutable; thread-safe.
 */
@Value.Immutable
public abstract class MonitoringRecord {

    public static ImmutableMonitoringRecord.Builder builder() {
        return ImmutableMonitoringRecord.builder();
    }

    public abstract int primaryNodeId();

    public abstract int standbyNodeId();

    public abstract OffsetDateTime lastMonitorTime();

    /** The time of the last transaction the standby replayed. */
    public abstract Optional<OffsetDateTime> lastApplyTime();

    /** The primary's current WAL location. */
    public abstract Lsn lastWalPrimaryLocation();

    /** The standby's receive location. */
    public abstract Optional<Lsn> lastWalStandbyLocation();

    /** Bytes between the primary's location and the standby's receive location, never below 0. */
    public abstract long replicationLag();

    /** Bytes between the standby's receive and replay locations, never below 0. */
    public abstract long applyLag();
}
