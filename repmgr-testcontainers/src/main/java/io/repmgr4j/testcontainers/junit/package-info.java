/**
 * A JUnit 5 extension that starts a replica set of PostgreSQL containers for a test class
 * or method: {@link io.repmgr4j.testcontainers.junit.PgContainerReplicaSetTest}. Needs
 * {@code junit-jupiter-api} on the test class path (declared optional).
 */
package io.repmgr4j.testcontainers.junit;
