package io.repmgr4j.testkit.spi;

import io.repmgr4j.testkit.ReplicaSet;
import java.util.Optional;

/**
 * Starts the replica sets of a backend other than local servers: repmgr-testcontainers
 * registers its containers backend for {@link java.util.ServiceLoader} under this interface,
 * so the test kit itself does not depend on Testcontainers. Implementations are thread-safe.
 */
public interface ReplicaSetBackend {
    /** The backend's name, as in {@code REPMGR4J_TESTKIT_BACKEND}: {@code containers}. */
    String id();

    /**
     * Empty when this backend can start a set now; otherwise why not, saying what was
     * looked for and how to fix it. May take a few seconds (it asks the Docker engine).
     */
    Optional<String> unavailableReason();

    /**
     * Starts the set, each standby streaming before this returns; on failure whatever was
     * started is removed.
     */
    ReplicaSet start(ReplicaSetSpec spec);
}
