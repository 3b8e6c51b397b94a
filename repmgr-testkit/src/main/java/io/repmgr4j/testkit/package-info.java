/**
 * Real, throw-away PostgreSQL servers on loopback for tests, demos and experiments:
 * {@link io.repmgr4j.testkit.PgServer} (one server), {@link io.repmgr4j.testkit.PgReplicaSet}
 * (a primary with streaming standbys), {@link io.repmgr4j.testkit.PgSandbox} (a place
 * for a server that code under test will create, such as a clone) and
 * {@link io.repmgr4j.testkit.PgBinaries} (where the PostgreSQL programs are).
 *
 * <p>Servers live under {@code ${java.io.tmpdir}/repmgr4j-pg/} (or {@code REPMGR4J_PG_ROOT}),
 * run as the unprivileged OS user {@code postgres} when the JVM is root, and are removed by
 * {@code close()}, by a JVM shutdown hook, or, after a JVM was killed, by the next JVM that
 * uses the kit.
 */
package io.repmgr4j.testkit;
