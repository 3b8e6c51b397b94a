package io.repmgr4j.testcontainers;

import io.repmgr4j.testkit.ReplicaSet;
import io.repmgr4j.testkit.spi.ReplicaSetBackend;
import io.repmgr4j.testkit.spi.ReplicaSetSpec;
import java.util.Optional;
import org.testcontainers.DockerClientFactory;

/**
 * The test kit's {@code containers} backend, registered for {@link java.util.ServiceLoader}:
 * {@code @PgReplicaSetTest} uses it when told to, or in auto mode when no local PostgreSQL
 * binaries are found. Usable when a Docker engine answers and holds the image
 * ({@link PgContainer#image()}). Thread-safe (stateless).
 */
public final class ContainersBackend implements ReplicaSetBackend {
    /** Created by {@link java.util.ServiceLoader}. */
    public ContainersBackend() {
    }

    @Override
    public String id() {
        return "containers";
    }

    @Override
    public Optional<String> unavailableReason() {
        String host = System.getenv("DOCKER_HOST");
        boolean engine;
        try {
            engine = DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException e) {
            engine = false;
        }
        if (!engine) {
            return Optional.of("no Docker engine answers (looked at " + (host == null || host.isBlank()
                    ? "DOCKER_HOST, not set, and Testcontainers' other places such as /var/run/docker.sock"
                    : "DOCKER_HOST=" + host) + "); start one and set DOCKER_HOST (in this repository"
                    + " bin/docker-engine start prints the value to use)");
        }
        String image = PgContainer.image();
        try {
            DockerClientFactory.instance().client().inspectImageCmd(image).exec();
        } catch (RuntimeException e) {
            return Optional.of("the Docker engine has no image " + image + " (" + e.getClass().getSimpleName()
                    + "); build it with bin/pg-image, pull it (docker pull " + image + "), or set REPMGR4J_PG_IMAGE to"
                    + " an image with PostgreSQL 12+ and pg_basebackup, e.g. postgres:15");
        }
        return Optional.empty();
    }

    @Override
    public ReplicaSet start(ReplicaSetSpec spec) {
        return PgContainerReplicaSet.start(spec);
    }
}
