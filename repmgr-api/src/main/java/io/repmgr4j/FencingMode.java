package io.repmgr4j;

/**
 * repmgr4j's own {@code fencing} setting: what a failover daemon does to its own server
 * when that server must stop acknowledging writes (the primary lost sight of a quorum of
 * the cluster for {@code primary_isolation_timeout}, or it is the stale one of two
 * writable primaries). Immutable; thread-safe.
 */
public enum FencingMode {
    /**
     * The default: the server is restarted as a hot standby with no upstream
     * ({@code standby.signal}, no {@code primary_conninfo}). No client session can undo
     * that with {@code SET}; reads work again once it is up. Lifted by the daemon itself
     * only when it sees a quorum again and no other node was promoted meanwhile.
     */
    READONLY,
    /** The server is stopped ({@code pg_ctl stop -m immediate}). */
    STOP,
    /** {@code fence_command} is run through the node's command runner (placeholders %n, %a, %r). */
    COMMAND,
    /** Nothing is done to the server (events are still recorded). Only when asked for explicitly. */
    NONE
}
