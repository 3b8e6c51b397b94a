package io.repmgr4j;

/**
 * Which kind of server a client connection string asks for, in pgjdbc's and libpq's
 * words. See {@link ConnectionString}. Immutable; thread-safe.
 */
public enum Target {
    /** The writable primary: pgjdbc {@code targetServerType=primary}, libpq {@code target_session_attrs=read-write}. */
    PRIMARY("primary", "read-write"),
    /** A standby (in recovery): pgjdbc {@code secondary}, libpq {@code standby}. */
    STANDBY("secondary", "standby"),
    /** A standby when one answers, else the primary: pgjdbc {@code preferSecondary}, libpq {@code prefer-standby}. */
    PREFER_STANDBY("preferSecondary", "prefer-standby"),
    /** Whichever node answers first: {@code any} for both. */
    ANY("any", "any");

    private final String pgjdbc;
    private final String libpq;

    Target(String pgjdbc, String libpq) {
        this.pgjdbc = pgjdbc;
        this.libpq = libpq;
    }

    /** The value of pgjdbc's {@code targetServerType}. */
    public String targetServerType() {
        return pgjdbc;
    }

    /** The value of libpq's {@code target_session_attrs} (PostgreSQL 14 or later for standby and prefer-standby). */
    public String targetSessionAttrs() {
        return libpq;
    }
}
