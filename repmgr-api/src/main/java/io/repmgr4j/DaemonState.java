package io.repmgr4j;

/** Where a {@link FailoverDaemon} handle is in its life: created, running, or closed for good. Immutable; thread-safe. */
public enum DaemonState {
    /** Built, not started yet: listeners may be added, nothing runs. */
    CREATED,
    /** Started: the monitoring thread runs. */
    RUNNING,
    /** Closed: threads stopped and connections closed; a closed daemon cannot be started again. */
    CLOSED
}
