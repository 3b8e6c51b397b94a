package io.repmgr4j.plan;

import io.repmgr4j.ErrorCode;
import java.util.Optional;
import org.immutables.value.Value;

/**
 * One prerequisite check of an operation, as run before anything is changed: what was
 * checked (a name a person understands, such as {@code free WAL senders on the upstream}),
 * how it came out, what was found ({@code 2 required, 10 available}), for a warning or a
 * failure what to do about it, and for a failure the {@link ErrorCode} the operation
 * fails with. Details and hints never hold a password. Immutable; thread-safe.
 */
@Value.Immutable
public abstract class Check {

    /** How a check came out. */
    public enum Outcome {
        /** The prerequisite holds. */
        OK,
        /** The operation can go on, but something deserves attention (repmgr's WARNING lines). */
        WARNING,
        /** The operation cannot go on; a real run stops here without changing anything. */
        FAILED
    }

    public static ImmutableCheck.Builder builder() {
        return ImmutableCheck.builder();
    }

    /** A check that passed. */
    public static Check ok(String name, String detail) {
        return builder().name(name).outcome(Outcome.OK).detail(Optional.ofNullable(detail)).build();
    }

    /** A check that passed with a warning. */
    public static Check warning(String name, String detail) {
        return warning(name, detail, null);
    }

    /** A check that passed with a warning, and what to do about it ({@code hint} may be null). */
    public static Check warning(String name, String detail, String hint) {
        return builder().name(name).outcome(Outcome.WARNING).detail(Optional.ofNullable(detail))
                .hint(Optional.ofNullable(hint)).build();
    }

    /** A check that failed. */
    public static Check failed(String name, String detail) {
        return builder().name(name).outcome(Outcome.FAILED).detail(Optional.ofNullable(detail)).build();
    }

    /**
     * A check that failed, with the code the operation fails with and what to do about it
     * ({@code code} and {@code hint} may be null).
     */
    public static Check failed(String name, ErrorCode code, String detail, String hint) {
        return builder().name(name).outcome(Outcome.FAILED).errorCode(Optional.ofNullable(code))
                .detail(Optional.ofNullable(detail)).hint(Optional.ofNullable(hint)).build();
    }

    /** What was checked, in words a person understands. */
    public abstract String name();

    public abstract Outcome outcome();

    /** What the check found (values, the reason for a failure). Never holds a password. */
    public abstract Optional<String> detail();

    /** What to do, for a warning or a failure. */
    public abstract Optional<String> hint();

    /** For a failed check: the code the operation fails with. */
    public abstract Optional<ErrorCode> errorCode();

    /** True unless the check failed. */
    @Value.Derived
    @Value.Auxiliary
    public boolean passed() {
        return outcome() != Outcome.FAILED;
    }

    /** The name, then {@code ": "} and the detail when there is one. */
    public String describe() {
        return name() + detail().map(d -> ": " + d).orElse("");
    }
}
