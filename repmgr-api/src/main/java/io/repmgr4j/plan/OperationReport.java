package io.repmgr4j.plan;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.immutables.value.Value;

/**
 * What an operation did, or in a dry run would do: the checks it ran, the steps it took
 * (or planned), warnings, and a one-line summary ("node \"pg2\" (ID: 2) promoted to
 * primary, node \"pg1\" (ID: 1) demoted to standby"). Render it with
 * {@code io.repmgr4j.format.OperationReportFormat}. Immutable; thread-safe.
 */
@Value.Immutable
public abstract class OperationReport {

    public static ImmutableOperationReport.Builder builder() {
        return ImmutableOperationReport.builder();
    }

    /** The operation, as repmgr names it: {@code standby switchover}, {@code node rejoin}, ... */
    public abstract String operation();

    /** True for a dry run: checks ran, nothing was changed, steps are {@link Step.Status#PLANNED}. */
    public abstract boolean dryRun();

    /** The prerequisite checks, in the order they ran. */
    public abstract List<Check> checks();

    /** The steps, in order: planned (dry run) or as they ran. */
    public abstract List<Step> steps();

    /** Things that went wrong without failing the operation (a sibling that could not follow, say). */
    public abstract List<String> warnings();

    /**
     * True when the operation did what it was asked (a dry run: when every check passed,
     * so a real run would go ahead).
     */
    public abstract boolean successful();

    /** One line saying what happened, or for a dry run what would happen. */
    public abstract String summary();

    /** How long the operation took. */
    public abstract Duration duration();

    /** The first failed check, if any. */
    @Value.Derived
    @Value.Auxiliary
    public Optional<Check> failedCheck() {
        return checks().stream().filter(c -> c.outcome() == Check.Outcome.FAILED).findFirst();
    }

    /** The step that failed, if any. */
    @Value.Derived
    @Value.Auxiliary
    public Optional<Step> failedStep() {
        return steps().stream().filter(s -> s.status() == Step.Status.FAILED).findFirst();
    }
}
