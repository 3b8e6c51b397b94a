package io.repmgr4j.testkit;

/**
 * Where a test's replica set runs. {@link #AUTO} takes local PostgreSQL binaries when
 * present and containers otherwise; see {@link ReplicaSets#choose}.
 */
public enum Backend {
    /** Local binaries when present ({@link PgBinaries}), else containers (repmgr-testcontainers and a Docker engine). */
    AUTO,
    /** Local PostgreSQL servers ({@link PgReplicaSet}); refused when the binaries are absent. */
    LOCAL,
    /** PostgreSQL containers; needs repmgr-testcontainers on the class path and a Docker engine. */
    CONTAINERS;

    /** The name used in {@code REPMGR4J_TESTKIT_BACKEND} and messages: {@code auto}, {@code local}, {@code containers}. */
    public String id() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
