package io.repmgr4j.core.sync;

import io.repmgr4j.ErrorCode;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.SyncMode;
import io.repmgr4j.SynchronousRecord;
import java.time.Duration;
import java.util.Objects;

/**
 * The cluster-wide synchronous settings: {@code synchronous}, {@code synchronous_count},
 * {@code synchronous_strict}, {@code synchronous_degrade_timeout}. Immutable; thread-safe.
 */
public record SyncSettings(SyncMode mode, int count, boolean strict, Duration degradeTimeout) {

    /** Asynchronous replication, untouched by the library. */
    public static final SyncSettings OFF = new SyncSettings(SyncMode.OFF, 1, false, Duration.ofSeconds(10));

    public SyncSettings {
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(degradeTimeout, "degradeTimeout");
        if (count < 1) {
            throw new ReplicationException(ErrorCode.BAD_CONFIG, "invalid synchronous_count " + count,
                    "synchronous_count must be 1 or more", "set synchronous_count to the number of standbys every commit waits for");
        }
        if (degradeTimeout.isNegative() || degradeTimeout.isZero()) {
            throw new ReplicationException(ErrorCode.BAD_CONFIG, "invalid synchronous_degrade_timeout " + degradeTimeout,
                    "the degrade timeout must be positive", "give a number of seconds of 1 or more");
        }
    }

    /** The settings of a node's configuration (repmgr.conf or Java). */
    public static SyncSettings of(NodeConfig c) {
        return new SyncSettings(c.synchronous(), c.synchronousCount(), c.synchronousStrict(),
                Duration.ofSeconds(c.synchronousDegradeTimeout()));
    }

    /** The settings a record was written with. */
    public static SyncSettings of(SynchronousRecord r) {
        return new SyncSettings(r.mode(), r.count(), r.strict(), r.degradeTimeout());
    }

    /** Whether a record carries these settings. */
    boolean sameAs(SynchronousRecord r) {
        return r.mode() == mode && r.count() == count && r.strict() == strict && r.degradeTimeout().equals(degradeTimeout);
    }
}
