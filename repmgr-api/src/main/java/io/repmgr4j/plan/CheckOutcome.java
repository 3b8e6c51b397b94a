package io.repmgr4j.plan;

/** How a prerequisite check ended. Immutable; thread-safe. */
public enum CheckOutcome {
    /** The prerequisite is met. */
    OK,
    /** The operation can go ahead, but something is worth knowing (repmgr's WARNING lines). */
    WARNING,
    /** The prerequisite is not met: a real run refuses before changing anything. */
    FAILED
}
