package io.repmgr4j.plan;

import io.repmgr4j.ReplicationException;
import java.util.List;
import java.util.Optional;
import org.immutables.value.Value;

/**
 * What an operation would do: every prerequisite check with its outcome, and the steps a
 * real run would take, in order. A dry run ({@code plan()}) returns this and changes
 * nothing; a real run ({@code execute()}) computes the same plan and refuses, before
 * changing anything, when {@link #ready()} is false. Render it with
 * {@code io.repmgr4j.format.PlanFormat}. Immutable; thread-safe.
 */
@Value.Immutable
public abstract class Plan {

    public static ImmutablePlan.Builder builder() {
        return ImmutablePlan.builder();
    }

    /** The operation's name as repmgr calls it: {@code standby clone}. */
    public abstract String operation();

    /** Every check, in the order a person reads them. */
    public abstract List<CheckResult> checks();

    /** The steps a real run takes, each a sentence ({@code run pg_basebackup from 127.0.0.1:5433 into /data}). */
    public abstract List<String> steps();

    /** True when no check failed: a real run would go ahead. */
    @Value.Derived
    @Value.Auxiliary
    public boolean ready() {
        return checks().stream().allMatch(CheckResult::passed);
    }

    /** The checks that failed. */
    public List<CheckResult> failures() {
        return checks().stream().filter(c -> c.outcome() == CheckOutcome.FAILED).toList();
    }

    /** The checks that passed with a warning. */
    public List<CheckResult> warnings() {
        return checks().stream().filter(c -> c.outcome() == CheckOutcome.WARNING).toList();
    }

    /** The check with this name. */
    public Optional<CheckResult> check(String name) {
        return checks().stream().filter(c -> c.name().equals(name)).findFirst();
    }

    /**
     * The exception a real run throws when this plan is not ready: the first failure's
     * code, message and hint, and every other failure in the detail.
     */
    public Optional<ReplicationException> refusal() {
        List<CheckResult> failed = failures();
        if (failed.isEmpty()) {
            return Optional.empty();
        }
        CheckResult first = failed.get(0);
        String detail = "prerequisite for \"" + operation() + "\" not met";
        if (failed.size() > 1) {
            detail += "; also failed: " + String.join("; ",
                    failed.subList(1, failed.size()).stream().map(c -> c.name() + ": " + c.detail()).toList());
        }
        return Optional.of(new ReplicationException(first.errorCode().orElseThrow(), first.name() + ": " + first.detail(),
                detail, first.hint().orElse(null)));
    }
}
