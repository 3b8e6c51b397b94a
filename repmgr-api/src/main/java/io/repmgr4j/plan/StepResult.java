package io.repmgr4j.plan;

import java.time.Duration;
import java.util.Optional;
import org.immutables.value.Value;

/**
 * One step an operation ran, in order: its name ({@code run pg_basebackup}), how it
 * ended, how long it took and, for a failure, why. Immutable; thread-safe.
 */
@Value.Immutable
public abstract class StepResult {

    public static ImmutableStepResult.Builder builder() {
        return ImmutableStepResult.builder();
    }

    public abstract String name();

    public abstract StepStatus status();

    public abstract Duration duration();

    /** Why it failed, or what an undo left behind. */
    public abstract Optional<String> detail();
}
