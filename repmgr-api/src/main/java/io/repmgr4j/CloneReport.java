package io.repmgr4j;

import io.repmgr4j.plan.Check;
import io.repmgr4j.plan.Step;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.immutables.value.Value;

/**
 * What a standby clone did: the prerequisite checks, every step it ran, where it copied
 * from, how much, how fast, the pg_basebackup command line (no password: those go
 * through the environment), and, when the clone was chained with start, register and
 * streaming, how far that went. Immutable; thread-safe.
 */
@Value.Immutable
public abstract class CloneReport {

    public static ImmutableCloneReport.Builder builder() {
        return ImmutableCloneReport.builder();
    }

    /** The cloned node's id. */
    public abstract int nodeId();

    public abstract String nodeName();

    /** The data directory the copy went to, on the node's host. */
    public abstract String dataDirectory();

    /** The upstream's node id, when the upstream is a registered node. */
    public abstract OptionalInt upstreamNodeId();

    /** The host pg_basebackup copied from. */
    public abstract String sourceHost();

    /** The port pg_basebackup copied from. */
    public abstract int sourcePort();

    /** Every prerequisite check, as the dry run reports them. */
    public abstract List<Check> checks();

    /** Every step that ran, in order. */
    public abstract List<Step> steps();

    /** Bytes copied (pg_basebackup's final count; the source's size when it printed none). */
    public abstract long sizeBytes();

    /** How long pg_basebackup ran. */
    public abstract Duration copyDuration();

    /** How long the whole operation took, checks and chained steps included. */
    public abstract Duration totalDuration();

    /** Bytes copied per second of {@link #copyDuration()}. */
    @Value.Derived
    @Value.Auxiliary
    public double throughputBytesPerSecond() {
        long nanos = copyDuration().toNanos();
        return nanos <= 0 ? 0 : sizeBytes() * 1e9 / nanos;
    }

    /** The pg_basebackup command line that ran, quoted for a shell; never holds a password. */
    public abstract String commandLine();

    /** The replication slot the standby uses ({@code repmgr_slot_<node_id>}), when slots are used. */
    public abstract Optional<String> slotName();

    /** Warnings from the checks and the run, one sentence each. */
    public abstract List<String> warnings();

    /** True when the chain started the server. */
    @Value.Default
    public boolean started() {
        return false;
    }

    /** True when the chain saw the upstream stream to the node. */
    @Value.Default
    public boolean streaming() {
        return false;
    }

    /** The node record, when the chain registered the node. */
    public abstract Optional<NodeRecord> record();
}
