package io.repmgr4j.plan;

import java.time.Duration;
import java.util.Optional;
import org.immutables.value.Value;

/**
 * One step of an operation ("stop primary \"pg1\" (ID: 1)", "run pg_basebackup from
 * 127.0.0.1:5433"): planned in a dry run; done, failed, skipped, or, after a failure,
 * undone in a real run. Immutable; thread-safe.
 */
@Value.Immutable
public abstract class Step {

    /** Where a step stands. */
    public enum Status {
        /** A dry run: the step would run. */
        PLANNED,
        /** The step ran and succeeded. */
        DONE,
        /** The step ran and failed; the operation stopped (and, where it could, undid its changes). */
        FAILED,
        /** The step was not needed or could not run because an earlier one failed. */
        SKIPPED,
        /** The step undid the effect of an earlier one after a failure (dropping a slot it had created, say). */
        UNDONE,
        /** Undoing an earlier step failed: its effect is still there (the detail says what is left). */
        UNDO_FAILED
    }

    public static ImmutableStep.Builder builder() {
        return ImmutableStep.builder();
    }

    public static Step of(String name, Status status, String detail) {
        return builder().name(name).status(status).detail(Optional.ofNullable(detail)).build();
    }

    /** What the step does, in words a person understands. */
    public abstract String name();

    public abstract Status status();

    /** What happened (a WAL location reached, an error, what an undo left behind). Never holds a password. */
    public abstract Optional<String> detail();

    /** How long the step took; empty for a step that did not run. */
    public abstract Optional<Duration> duration();
}
