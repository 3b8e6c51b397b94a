package io.repmgr4j.testcontainers;

import io.repmgr4j.testkit.ReplicaSet;
import io.repmgr4j.testkit.spi.ReplicaSetSpec;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * The container counterpart of the test kit's {@code PgReplicaSet}: a primary {@code pg1}
 * and standbys {@code pg2}, {@code pg3}, ..., each a {@link PgContainer}, all streaming.
 *
 * <pre>{@code
 * try (PgContainerReplicaSet set = PgContainerReplicaSet.start(3)) {
 *     set.primary().execute("CREATE TABLE t (i int)");
 *     ReplicationClusters.builder().seed(set.primary().conninfo())
 *             .node(config1, set.node(1).runner()) ...
 * }
 * }</pre>
 *
 * Needs a Docker engine (Testcontainers finds it as usual, e.g. through DOCKER_HOST) and a
 * PostgreSQL image ({@link PgContainer#image()}). Thread-safe.
 */
public final class PgContainerReplicaSet implements ReplicaSet {
    private final List<PgContainer> nodes;
    private boolean closed;

    private PgContainerReplicaSet(List<PgContainer> nodes) {
        this.nodes = Collections.unmodifiableList(nodes);
    }

    /** Starts {@code nodes} containers: pg1 as primary, the rest as its streaming standbys. */
    public static PgContainerReplicaSet start(int nodes) {
        return start(nodes, Map.of(), Map.of());
    }

    /**
     * Starts {@code nodes} containers with extra postgresql.conf {@code settings};
     * {@code cascade} maps a standby's number to its upstream's (3 → 2: pg3 streams from pg2).
     */
    public static PgContainerReplicaSet start(int nodes, Map<String, String> settings, Map<Integer, Integer> cascade) {
        return start(new ReplicaSetSpec(nodes, cascade, settings, ""));
    }

    /**
     * Starts a set of this shape (the test kit's backend-neutral description: nodes,
     * cascade, settings, name prefix): node {@code n} is named {@code spec.nodeName(n)}.
     */
    public static PgContainerReplicaSet start(ReplicaSetSpec spec) {
        List<PgContainer> started = new ArrayList<>();
        try {
            PgContainer primary = PgContainer.empty(spec.nodeName(1));
            started.add(primary);
            primary.initPrimary(new LinkedHashMap<>(spec.settings()));
            for (int i = 2; i <= spec.nodes(); i++) {
                PgContainer standby = PgContainer.empty(spec.nodeName(i));
                started.add(standby);
                standby.cloneFrom(started.get(spec.upstreamOf(i) - 1));
            }
            return new PgContainerReplicaSet(started);
        } catch (RuntimeException e) {
            for (int i = started.size() - 1; i >= 0; i--) {
                try {
                    started.get(i).close();
                } catch (RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    /** {@code containers}. */
    @Override
    public String backend() {
        return "containers";
    }

    /** The node started as primary (pg1). */
    @Override
    public PgContainer primary() {
        return nodes.get(0);
    }

    /** Node {@code n}: 1 is pg1, the primary. */
    @Override
    public PgContainer node(int n) {
        if (n < 1 || n > nodes.size()) {
            throw new NoSuchElementException("no node " + n + " in this replica set of " + nodes.size());
        }
        return nodes.get(n - 1);
    }

    /** All nodes, pg1 first. */
    @Override
    public List<PgContainer> nodes() {
        return nodes;
    }

    /** Removes every container (standbys first); the first failure is thrown after all were tried. Idempotent. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        RuntimeException failure = null;
        for (int i = nodes.size() - 1; i >= 0; i--) {
            try {
                nodes.get(i).close();
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public String toString() {
        return "PgContainerReplicaSet" + nodes;
    }
}
