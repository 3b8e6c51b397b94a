package io.repmgr4j;

/**
 * What {@code cluster show} found a node doing, compared with its record; the label is
 * repmgr's Status column text. Immutable; thread-safe.
 */
public enum NodeState {
    /** A registered primary, up and writable. */
    PRIMARY_RUNNING("* running"),
    /** A registered standby, up and in recovery. */
    STANDBY_RUNNING("running"),
    /** Up and writable, but registered as something else (a standby promoted outside the library, an old primary back). */
    RUNNING_AS_PRIMARY("! running as primary"),
    /** Up and in recovery, but registered as a primary. */
    RUNNING_AS_STANDBY("! running as standby"),
    /** Up, but its record is inactive. */
    RUNNING_BUT_INACTIVE("! running"),
    /** Active in the metadata but could not be reached. */
    UNREACHABLE("? unreachable"),
    /** Inactive in the metadata and not reachable: a failure that was recorded. */
    FAILED("- failed"),
    /** Reached, but its state could not be read. */
    UNKNOWN("? running");

    private final String label;

    NodeState(String label) {
        this.label = label;
    }

    /** repmgr's text for the state. */
    public String label() {
        return label;
    }

    /** True when the server answered. */
    public boolean reachable() {
        return this != UNREACHABLE && this != FAILED;
    }
}
