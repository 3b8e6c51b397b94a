package io.repmgr4j.plan;

import java.util.Optional;
import org.immutables.value.Value;

/**
 * One prerequisite check of an operation, as run before anything is changed: its name
 * ("target is streaming from the primary"), how it came out, and why. Immutable;
 * thread-safe.
 */
@Value.Immutable
public abstract class Check {

    /** How a check came out. */
    public enum Outcome {
        /** The prerequisite holds. */
        OK,
        /** The operation can go on, but something deserves attention. */
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
        return builder().name(name).outcome(Outcome.WARNING).detail(Optional.ofNullable(detail)).build();
    }

    /** A check that failed. */
    public static Check failed(String name, String detail) {
        return builder().name(name).outcome(Outcome.FAILED).detail(Optional.ofNullable(detail)).build();
    }

    /** What was checked, in words a person understands. */
    public abstract String name();

    public abstract Outcome outcome();

    /** What the check found (values, the reason for a failure). Never holds a password. */
    public abstract Optional<String> detail();
}
