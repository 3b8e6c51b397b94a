/**
 * A JUnit 5 extension that starts a replica set of real PostgreSQL servers for a test class
 * or method and injects it: {@link io.repmgr4j.testkit.junit.PgReplicaSetTest}. Needs
 * {@code junit-jupiter-api} on the test class path (the test kit declares it optional, so
 * users of the kit without JUnit are not affected).
 */
package io.repmgr4j.testkit.junit;
