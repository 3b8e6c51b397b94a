/**
 * Replica sets built from PostgreSQL containers through Testcontainers, for pipelines that
 * have a Docker engine but no PostgreSQL packages: {@link io.repmgr4j.testcontainers.PgContainerReplicaSet},
 * its nodes {@link io.repmgr4j.testcontainers.PgContainer}, and
 * {@link io.repmgr4j.testcontainers.ContainerCommandRunner}, the {@code CommandRunner} that
 * lets repmgr4j clone, switch over, rejoin and run its daemon against containers.
 */
package io.repmgr4j.testcontainers;
