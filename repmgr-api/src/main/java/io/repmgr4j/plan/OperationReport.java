package io.repmgr4j.plan;

import io.repmgr4j.ErrorCode;
import io.repmgr4j.ReplicationException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.immutables.value.Value;

/**
 * What an operation did, or in a dry run would do: the checks it ran, the steps it took
 * (or planned), warnings, and a one-line summary ("node \"pg2\" (ID: 2) promoted to
 * primary, node \"pg1\" (ID: 1) demoted to standby"). A dry run ({@code plan()}) is a
 * report with {@link #dryRun()} set and every step {@link Step.Status#PLANNED}; a real run
 * refuses, before changing anything, when a check failed ({@link #refusal()}). Render it
 * with {@code io.repmgr4j.format.OperationReportFormat}. Immutable; thread-safe.
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

    /** True when no check failed: a real run goes (or would go) ahead. */
    @Value.Derived
    @Value.Auxiliary
    public boolean ready() {
        return checks().stream().allMatch(Check::passed);
    }

    /** The checks that failed, in order. */
    public List<Check> failures() {
        return checks().stream().filter(c -> c.outcome() == Check.Outcome.FAILED).toList();
    }

    /** The checks that passed with a warning, in order (the run's other warnings are in {@link #warnings()}). */
    public List<Check> checkWarnings() {
        return checks().stream().filter(c -> c.outcome() == Check.Outcome.WARNING).toList();
    }

    /** The check with this name. */
    public Optional<Check> check(String name) {
        return checks().stream().filter(c -> c.name().equals(name)).findFirst();
    }

    /**
     * The exception a real run throws when a check failed: the first failure's code
     * ({@link ErrorCode#BAD_CONFIG}, repmgr's code for an unmet prerequisite, when the
     * check carries none), its name and detail as the message, its hint, and every other
     * failure in the detail. Empty when every check passed.
     */
    public Optional<ReplicationException> refusal() {
        List<Check> failed = failures();
        if (failed.isEmpty()) {
            return Optional.empty();
        }
        Check first = failed.get(0);
        String detail = "prerequisite for \"" + operation() + "\" not met";
        if (failed.size() > 1) {
            detail += "; also failed: " + String.join("; ", failed.subList(1, failed.size()).stream().map(Check::describe).toList());
        }
        return Optional.of(new ReplicationException(first.errorCode().orElse(ErrorCode.BAD_CONFIG), first.describe(), detail,
                first.hint().orElse(null)));
    }
}
