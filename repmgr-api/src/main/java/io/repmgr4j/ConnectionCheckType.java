package io.repmgr4j;

/** repmgr.conf's {@code connection_check_type}: how the daemon checks that a server is up. */
public enum ConnectionCheckType {
    /** A connection attempt that is closed at once (libpq's PQping). */
    PING,
    /** A kept connection, checked for being open. */
    CONNECTION,
    /** A query on a kept connection. */
    QUERY
}
