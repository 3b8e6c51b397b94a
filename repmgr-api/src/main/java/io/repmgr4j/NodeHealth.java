package io.repmgr4j;

import java.time.Instant;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;
import org.immutables.value.Value;

/**
 * What a running {@link FailoverDaemon} last saw of its own PostgreSQL server, read every
 * 100 ms by the daemon while something asks for it (its HTTP health endpoints, metrics):
 * whether the server answers, whether it is in recovery and streaming, its timeline and
 * replication lag, and which node its copy of the metadata names as primary. The health
 * endpoints answer from this value, never from a query of their own. Immutable; thread-safe.
 */
@Value.Immutable
public abstract class NodeHealth {

    public static ImmutableNodeHealth.Builder builder() {
        return ImmutableNodeHealth.builder();
    }

    /** When this was read. */
    public abstract Instant observedAt();

    /** Whether the server answered the last check. All other values are those of the last successful check. */
    public abstract boolean running();

    /** {@code pg_is_in_recovery()}; true when the server did not answer. */
    public abstract boolean inRecovery();

    /** A standby whose WAL receiver is streaming. */
    public abstract boolean streaming();

    /** The server's timeline: a primary's current one, a standby's received (or replayed) one. */
    public abstract OptionalLong timeline();

    /** A standby's lag in bytes: the end of WAL its upstream last reported minus what it replayed; empty on a primary. */
    public abstract OptionalLong lagBytes();

    /** A standby's replay delay in seconds (0 when it replayed everything it received); empty on a primary. */
    public abstract OptionalDouble lagSeconds();

    /** The node that this server's copy of the metadata ({@code repmgr.nodes}) records as the active primary. */
    public abstract OptionalInt metadataPrimaryId();

    /** A writable primary that the metadata on it names as the cluster's primary. */
    public boolean legitimatePrimary(int selfId) {
        return running() && !inRecovery() && metadataPrimaryId().equals(OptionalInt.of(selfId));
    }
}
