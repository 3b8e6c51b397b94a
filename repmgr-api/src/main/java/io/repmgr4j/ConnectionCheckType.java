package io.repmgr4j;

/**
 * repmgr.conf's {@code connection_check_type}: how the failover daemon checks that its
 * upstream is available (repmgr's definitions).
 */
public enum ConnectionCheckType {
    /** libpq's PQping: a startup packet, answered by a running server without logging in. */
    PING,
    /** A new connection, logged in, at each check. */
    CONNECTION,
    /** {@code SELECT 1} on a connection kept between checks. */
    QUERY
}
