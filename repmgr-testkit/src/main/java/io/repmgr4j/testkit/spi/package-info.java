/**
 * The service interface through which other modules add backends to the test kit
 * ({@link io.repmgr4j.testkit.spi.ReplicaSetBackend}) and the shape of a replica set they start
 * ({@link io.repmgr4j.testkit.spi.ReplicaSetSpec}).
 */
package io.repmgr4j.testkit.spi;
