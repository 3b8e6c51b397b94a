package io.repmgr4j.spi;

import java.util.Objects;

/**
 * A leader key held under a lease, as a {@link ConsensusStore} granted or renewed it.
 * {@link #validUntilNanos()} is a lower bound, on this host's {@link System#nanoTime()} clock,
 * of the moment the lease can expire in the store: it is measured from the moment the grant
 * or renewal request was sent, plus the lease time the store granted, so the key cannot
 * vanish before it whatever the network delay. A leader must stop writing before it.
 * Immutable.
 *
 * @param name the leader's name stored in the key
 * @param term the key's creation revision
 * @param leaseId the store's lease id
 * @param validUntilNanos {@code System.nanoTime()} before which the lease cannot expire
 */
public record Leadership(String name, long term, long leaseId, long validUntilNanos) {
    public Leadership {
        Objects.requireNonNull(name, "name");
    }

    /** Nanoseconds left before the lease can expire, as of {@code nowNanos} (negative once past). */
    public long remainingNanos(long nowNanos) {
        return validUntilNanos - nowNanos;
    }

    /** The same leadership, valid until {@code nanos}. */
    public Leadership validUntil(long nanos) {
        return new Leadership(name, term, leaseId, nanos);
    }
}
