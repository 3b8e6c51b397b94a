package io.repmgr4j.plan;

/** How one step of an operation ended. Immutable; thread-safe. */
public enum StepStatus {
    /** The step ran to its end. */
    DONE,
    /** The step failed; the operation stopped there. */
    FAILED,
    /** The step undid the effect of an earlier one after a failure (dropping a slot it had created, say). */
    UNDONE,
    /** Undoing an earlier step failed: its effect is still there (the detail says what is left). */
    UNDO_FAILED
}
