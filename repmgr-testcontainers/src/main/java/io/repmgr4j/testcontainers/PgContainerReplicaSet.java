package io.repmgr4j.testcontainers;

import io.repmgr4j.testkit.ReplicaSet;
import io.repmgr4j.testkit.spi.ReplicaSetSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.IntConsumer;

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
     * Every node's container starts at the same time; then the primary is initialized and
     * the standbys are cloned in waves (all standbys whose upstream runs already at once),
     * each streaming before this returns. On failure every container started is removed.
     */
    public static PgContainerReplicaSet start(ReplicaSetSpec spec) {
        List<PgContainer> started = Collections.synchronizedList(new ArrayList<>());
        PgContainer[] byNumber = new PgContainer[spec.nodes() + 1];
        try {
            List<Integer> all = new ArrayList<>();
            for (int i = 1; i <= spec.nodes(); i++) {
                all.add(i);
            }
            inParallel(all, i -> {
                PgContainer c = PgContainer.empty(spec.nodeName(i));
                started.add(c);
                byNumber[i] = c;
            });
            byNumber[1].initPrimary(new LinkedHashMap<>(spec.settings()));
            Set<Integer> running = new TreeSet<>(List.of(1));
            Set<Integer> pending = new TreeSet<>(all.subList(1, all.size()));
            while (!pending.isEmpty()) {
                List<Integer> wave = new ArrayList<>();
                for (int n : pending) {
                    if (running.contains(spec.upstreamOf(n))) {
                        wave.add(n);
                    }
                }
                inParallel(wave, n -> byNumber[n].cloneFrom(byNumber[spec.upstreamOf(n)]));
                pending.removeAll(wave);
                running.addAll(wave);
            }
            return new PgContainerReplicaSet(new ArrayList<>(Arrays.asList(byNumber).subList(1, spec.nodes() + 1)));
        } catch (RuntimeException e) {
            List<PgContainer> toClose;
            synchronized (started) {
                toClose = new ArrayList<>(started);
            }
            for (int i = toClose.size() - 1; i >= 0; i--) {
                try {
                    toClose.get(i).close();
                } catch (RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    /** Runs {@code work} for each node number, one thread each, and waits for all; the first failure is thrown. */
    private static void inParallel(List<Integer> nodes, IntConsumer work) {
        if (nodes.size() == 1) {
            work.accept(nodes.get(0));
            return;
        }
        List<Thread> threads = new ArrayList<>();
        List<RuntimeException> failures = Collections.synchronizedList(new ArrayList<>());
        for (int n : nodes) {
            Thread t = new Thread(() -> {
                try {
                    work.accept(n);
                } catch (RuntimeException e) {
                    failures.add(e);
                }
            }, "repmgr4j-testcontainers-pg" + n);
            t.setDaemon(true);
            t.start();
            threads.add(t);
        }
        boolean interrupted = false;
        for (Thread t : threads) {
            while (true) {
                try {
                    t.join();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true; // every thread is waited for, so no container escapes the cleanup
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting the containers");
        }
        if (!failures.isEmpty()) {
            RuntimeException first = failures.get(0);
            failures.subList(1, failures.size()).forEach(first::addSuppressed);
            throw first;
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
