package io.repmgr4j.testkit;

import io.repmgr4j.testkit.spi.ReplicaSetBackend;
import io.repmgr4j.testkit.spi.ReplicaSetSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.function.Function;

/**
 * Chooses the backend of a test's replica set and starts it there: local PostgreSQL
 * servers when their binaries are present ({@link PgBinaries}), containers otherwise (the
 * backend repmgr-testcontainers registers as a {@link ReplicaSetBackend}), or what the test
 * or the environment says ({@link #BACKEND_PROPERTY}). Stateless; thread-safe.
 */
public final class ReplicaSets {
    /**
     * System property (or JUnit configuration parameter), else environment variable, saying
     * where sets whose test asks for {@link Backend#AUTO} run: {@code local}, {@code containers}
     * or {@code auto}.
     */
    public static final String BACKEND_PROPERTY = "REPMGR4J_TESTKIT_BACKEND";

    private ReplicaSets() {
    }

    /** The backend chosen for a set, and why (for the log and for messages). */
    public record Choice(String backend, String reason, ReplicaSetBackend starter) {
        /** Starts a set of this shape on the chosen backend. */
        public ReplicaSet start(ReplicaSetSpec spec) {
            return starter.start(spec);
        }
    }

    /** {@link #choose(Backend, Function, ClassLoader)} with system properties and this class's loader. */
    public static Choice choose(Backend requested) {
        return choose(requested, System::getProperty, ReplicaSets.class.getClassLoader());
    }

    /**
     * Chooses where a set runs. A test's explicit {@code LOCAL} or {@code CONTAINERS} wins;
     * for {@code AUTO}, {@link #BACKEND_PROPERTY} (looked up with {@code property}, then in
     * the environment) decides when set; otherwise local binaries are taken when
     * {@link PgBinaries#locate()} finds them, else containers when that backend is on the
     * class path and a Docker engine answers.
     *
     * @param property reads {@link #BACKEND_PROPERTY} before the environment is asked (the
     *     JUnit extension passes its configuration parameters, which include system properties)
     * @throws IllegalStateException when the chosen backend cannot be used, or in auto mode
     *     neither can; the message says what was looked for and how to fix it
     * @throws IllegalArgumentException when {@link #BACKEND_PROPERTY} holds an unknown value
     */
    public static Choice choose(Backend requested, Function<String, String> property, ClassLoader loader) {
        Backend wanted = requested;
        String why;
        if (requested != Backend.AUTO) {
            why = "the test asks for " + requested.id();
        } else {
            Optional<Backend> told = told(property);
            wanted = told.orElse(Backend.AUTO);
            why = told.isPresent() ? BACKEND_PROPERTY + "=" + wanted.id() : "auto";
        }
        Optional<ReplicaSetBackend> containers = containersBackend(loader);
        switch (wanted) {
            case LOCAL -> {
                Optional<String> localProblem = localProblem();
                if (localProblem.isPresent()) {
                    throw new IllegalStateException("cannot start the replica set on local servers (" + why + "): "
                            + localProblem.get());
                }
                return new Choice(Backend.LOCAL.id(), why, LocalBackend.INSTANCE);
            }
            case CONTAINERS -> {
                if (containers.isEmpty()) {
                    throw new IllegalStateException("cannot start the replica set in containers (" + why + "): "
                            + NO_PROVIDER);
                }
                Optional<String> problem = containers.get().unavailableReason();
                if (problem.isPresent()) {
                    throw new IllegalStateException("cannot start the replica set in containers (" + why + "): "
                            + problem.get());
                }
                return new Choice(Backend.CONTAINERS.id(), why, containers.get());
            }
            default -> {
                Optional<String> localProblem = localProblem();
                if (localProblem.isEmpty()) {
                    return new Choice(Backend.LOCAL.id(), "auto: local PostgreSQL binaries found", LocalBackend.INSTANCE);
                }
                List<String> problems = new ArrayList<>();
                problems.add("local: " + localProblem.get());
                if (containers.isPresent()) {
                    Optional<String> problem = containers.get().unavailableReason();
                    if (problem.isEmpty()) {
                        return new Choice(Backend.CONTAINERS.id(), "auto: no local PostgreSQL binaries ("
                                + localProblem.get() + ")", containers.get());
                    }
                    problems.add("containers: " + problem.get());
                } else {
                    problems.add("containers: " + NO_PROVIDER);
                }
                throw new IllegalStateException("no backend can start the replica set (auto: local binaries first,"
                        + " else containers). " + String.join(" | ", problems) + " | Either is enough; or set "
                        + BACKEND_PROPERTY + "=local|containers to say which one you mean");
            }
        }
    }

    private static final String NO_PROVIDER = "no containers backend on the class path; add the test dependency"
            + " io.repmgr4j:repmgr-testcontainers (it registers one for java.util.ServiceLoader)";

    private static Optional<Backend> told(Function<String, String> property) {
        String value = property.apply(BACKEND_PROPERTY);
        String source = "system property or configuration parameter " + BACKEND_PROPERTY;
        if (value == null || value.isBlank()) {
            value = System.getenv(BACKEND_PROPERTY);
            source = "environment variable " + BACKEND_PROPERTY;
        }
        if (value == null || value.isBlank()) {
            return Optional.empty();
        }
        String v = value.strip().toLowerCase(Locale.ROOT);
        for (Backend b : Backend.values()) {
            if (b.id().equals(v)) {
                return b == Backend.AUTO ? Optional.empty() : Optional.of(b);
            }
        }
        throw new IllegalArgumentException(source + " is \"" + value.strip() + "\"; it takes local, containers or auto");
    }

    private static Optional<String> localProblem() {
        try {
            PgBinaries.locate();
            return Optional.empty();
        } catch (IllegalStateException e) {
            return Optional.of(e.getMessage());
        }
    }

    private static Optional<ReplicaSetBackend> containersBackend(ClassLoader loader) {
        for (ReplicaSetBackend b : ServiceLoader.load(ReplicaSetBackend.class, loader)) {
            if (Backend.CONTAINERS.id().equals(b.id())) {
                return Optional.of(b);
            }
        }
        return Optional.empty();
    }

    /** Local servers: {@link PgReplicaSet#start(ReplicaSetSpec)}. */
    private enum LocalBackend implements ReplicaSetBackend {
        INSTANCE;

        @Override
        public String id() {
            return Backend.LOCAL.id();
        }

        @Override
        public Optional<String> unavailableReason() {
            return localProblem();
        }

        @Override
        public ReplicaSet start(ReplicaSetSpec spec) {
            return PgReplicaSet.start(spec);
        }
    }
}
