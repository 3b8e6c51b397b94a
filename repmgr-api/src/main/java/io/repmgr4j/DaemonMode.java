package io.repmgr4j;

/**
 * What a running {@link FailoverDaemon} is doing right now. Siblings see it too: each
 * daemon publishes its mode (as one letter, {@link #code()}) in the application_name of
 * a session on its own server. Immutable; thread-safe.
 */
public enum DaemonMode {
    /** Not running (created or closed). */
    STOPPED('S'),
    /** Normal monitoring: the local server and the upstream (or, on a primary, the child nodes) are checked each interval. */
    MONITORING('M'),
    /** The upstream stopped answering; the reconnect policy ({@code reconnect_attempts} × {@code reconnect_interval}) runs. */
    RECONNECTING('R'),
    /** The upstream is gone; this daemon is comparing itself with its siblings. */
    ELECTING('E'),
    /** This node won the election and is being promoted (siblings treat this as a claim). */
    PROMOTING('P'),
    /** Another node won the election; this daemon waits for it to become primary. */
    WAITING_FOR_PRIMARY('W'),
    /** Re-pointing the local standby at a new upstream. */
    FOLLOWING('F'),
    /** The upstream is gone and no failover happens (paused, failover=manual, or the election was cancelled). */
    DEGRADED('D'),
    /** The local server does not answer. */
    LOCAL_DOWN('L'),
    /** This node runs as a primary while another node is the cluster's current primary (two writable primaries). */
    SPLIT_BRAIN('B'),
    /** This node fenced its own server (isolated, or the stale one of two primaries): it does not accept writes. */
    FENCED('X');

    private final char code;

    DaemonMode(char code) {
        this.code = code;
    }

    /** The letter published for siblings. */
    public char code() {
        return code;
    }

    /** The mode with this letter. */
    public static java.util.Optional<DaemonMode> ofCode(char code) {
        for (DaemonMode m : values()) {
            if (m.code == code) {
                return java.util.Optional.of(m);
            }
        }
        return java.util.Optional.empty();
    }
}
