package io.repmgr4j.plan;

import io.repmgr4j.ErrorCode;
import java.util.Optional;
import org.immutables.value.Value;

/**
 * One prerequisite check of an operation's {@link Plan}: what was checked (a name a
 * person understands, such as {@code free WAL senders on the upstream}), how it ended,
 * what was found ({@code 2 required, 10 available}), and for a warning or a failure what
 * to do about it. A failed check also carries the {@link ErrorCode} the operation fails
 * with. Details never contain passwords. Immutable; thread-safe.
 */
@Value.Immutable
public abstract class CheckResult {

    public static ImmutableCheckResult.Builder builder() {
        return ImmutableCheckResult.builder();
    }

    /** A met prerequisite. */
    public static CheckResult ok(String name, String detail) {
        return builder().name(name).outcome(CheckOutcome.OK).detail(detail).build();
    }

    /** A prerequisite that is met, with something the operator should know. */
    public static CheckResult warning(String name, String detail, String hint) {
        return builder().name(name).outcome(CheckOutcome.WARNING).detail(detail).hint(Optional.ofNullable(hint)).build();
    }

    /** A prerequisite that is not met. */
    public static CheckResult failed(String name, ErrorCode code, String detail, String hint) {
        return builder().name(name).outcome(CheckOutcome.FAILED).errorCode(code).detail(detail)
                .hint(Optional.ofNullable(hint)).build();
    }

    /** What was checked. */
    public abstract String name();

    public abstract CheckOutcome outcome();

    /** What was found. */
    public abstract String detail();

    /** What to do, for a warning or a failure. */
    public abstract Optional<String> hint();

    /** For a failed check: the code the operation fails with. */
    public abstract Optional<ErrorCode> errorCode();

    /** True unless the check failed. */
    @Value.Derived
    @Value.Auxiliary
    public boolean passed() {
        return outcome() != CheckOutcome.FAILED;
    }

    @Value.Check
    protected void check() {
        if (outcome() == CheckOutcome.FAILED && errorCode().isEmpty()) {
            throw new IllegalStateException("a failed check needs an error code");
        }
    }
}
