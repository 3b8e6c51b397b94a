package io.repmgr4j.testkit;

import io.repmgr4j.testkit.spi.ReplicaSetSpec;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A primary {@code pg1} and standbys {@code pg2}, {@code pg3}, ... of it, all streaming,
 * for tests that need a replica set. The servers are plain {@link PgServer}s: stop, kill
 * or promote them as a test needs. {@link #primary()} is the server started as primary;
 * after a switchover or failover ask the servers which is primary now.
 *
 * <pre>{@code
 * try (PgReplicaSet set = PgReplicaSet.start(3)) {
 *     set.primary().execute("CREATE TABLE t (i int)");
 * }
 * }</pre>
 *
 * Thread-safe.
 */
public final class PgReplicaSet implements ReplicaSet {
    private static final Logger LOG = LoggerFactory.getLogger(PgReplicaSet.class);

    private final List<PgServer> servers;
    private boolean closed;

    private PgReplicaSet(List<PgServer> servers) {
        this.servers = Collections.unmodifiableList(servers);
    }

    /** Starts {@code nodes} servers: {@code pg1} as primary, the rest as its streaming standbys. */
    public static PgReplicaSet start(int nodes) {
        return start(nodes, b -> { });
    }

    /**
     * Like {@link #start(int)}, with the primary's builder customized first (settings,
     * password, data checksums; the name is always {@code pg1}). Standbys copy the
     * primary's configuration and password.
     */
    public static PgReplicaSet start(int nodes, Consumer<PgServer.Builder> primaryOptions) {
        if (nodes < 1) {
            throw new IllegalArgumentException("a replica set needs at least one node, got " + nodes);
        }
        return builder().nodes(nodes).primary(primaryOptions).start();
    }

    /**
     * A builder for a replica set with cascading standbys, extra settings or servers named
     * after a test: {@code PgReplicaSet.builder().nodes(3).cascade(3, 2).namePrefix("MyTest-").start()}.
     */
    public static Builder builder() {
        return new Builder();
    }

    /** The server started as primary ({@code pg1}). */
    @Override
    public PgServer primary() {
        return servers.get(0);
    }

    /** All servers, {@code pg1} first. */
    public List<PgServer> servers() {
        return servers;
    }

    /** The same as {@link #servers()}. */
    @Override
    public List<PgServer> nodes() {
        return servers;
    }

    /** {@code local}. */
    @Override
    public String backend() {
        return Backend.LOCAL.id();
    }

    /** Starts a set of this shape on local servers. */
    public static PgReplicaSet start(ReplicaSetSpec spec) {
        Builder b = builder().nodes(spec.nodes()).namePrefix(spec.namePrefix());
        spec.cascade().forEach(b::cascade);
        spec.settings().forEach(b::setting);
        return b.start();
    }

    /** The servers started as standbys ({@code pg2}, ...). */
    public List<PgServer> standbys() {
        return servers.subList(1, servers.size());
    }

    /**
     * The server with this name.
     *
     * @throws NoSuchElementException when there is none
     */
    public PgServer server(String name) {
        for (PgServer s : servers) {
            if (s.name().equals(name)) {
                return s;
            }
        }
        // servers named after a test (Builder.namePrefix) are also found by their short name
        for (PgServer s : servers) {
            if (s.name().endsWith("-" + name)) {
                return s;
            }
        }
        throw new NoSuchElementException("no server named " + name + " in this replica set");
    }

    /**
     * Closes every server (standbys first), even when closing one fails; the first failure
     * is thrown afterwards with the others suppressed. Idempotent.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        RuntimeException failure = null;
        for (int i = servers.size() - 1; i >= 0; i--) {
            try {
                servers.get(i).close();
            } catch (RuntimeException e) {
                LOG.warn("could not close {}: {}", servers.get(i).name(), e.getMessage());
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

    /**
     * The server started as node {@code n}: 1 is the primary ({@code pg1}), 2 the first
     * standby ({@code pg2}), and so on.
     *
     * @throws NoSuchElementException when the set has fewer nodes
     */
    @Override
    public PgServer node(int n) {
        if (n < 1 || n > servers.size()) {
            throw new NoSuchElementException("no node " + n + " in this replica set of " + servers.size() + " nodes");
        }
        return servers.get(n - 1);
    }

    @Override
    public String toString() {
        return "PgReplicaSet" + servers;
    }

    /**
     * Collects the shape of a replica set: how many nodes, which standbys cascade from
     * which, extra postgresql.conf settings for every server, and a prefix for the server
     * names (and so their directories and log lines). Not thread-safe.
     */
    public static final class Builder {
        private int nodes = 3;
        private String namePrefix = "";
        private final java.util.Map<Integer, Integer> upstreams = new java.util.HashMap<>();
        private final java.util.Map<String, String> settings = new java.util.LinkedHashMap<>();
        private Consumer<PgServer.Builder> primaryOptions = b -> { };

        private Builder() {
        }

        /** How many servers (default 3): node 1 is the primary, the others standbys. */
        public Builder nodes(int nodes) {
            if (nodes < 1) {
                throw new IllegalArgumentException("a replica set needs at least one node, got " + nodes);
            }
            this.nodes = nodes;
            return this;
        }

        /**
         * Makes standby {@code node} stream from {@code upstream} (another standby, with a
         * lower number) instead of from the primary: {@code cascade(3, 2)} clones pg3 from pg2.
         */
        public Builder cascade(int node, int upstream) {
            if (node < 2 || upstream < 1 || upstream >= node) {
                throw new IllegalArgumentException("cascade(" + node + ", " + upstream + "): a standby (node 2 or"
                        + " higher) can only cascade from a node with a lower number");
            }
            upstreams.put(node, upstream);
            return this;
        }

        /**
         * Reads {@code "pg3=pg2"} (or {@code "3=2"}): standby pg3 streams from pg2.
         *
         * @throws IllegalArgumentException when the text is not of that form
         */
        public Builder cascade(String standbyEqualsUpstream) {
            int[] c = ReplicaSetSpec.cascade(standbyEqualsUpstream);
            return cascade(c[0], c[1]);
        }

        /** One more postgresql.conf setting for every server (see {@link PgServer.Builder#setting}). */
        public Builder setting(String key, String value) {
            PgServer.builder().setting(key, value); // validates
            settings.put(key, value);
            return this;
        }

        /**
         * Reads {@code "name=value"} as {@link #setting(String, String)}.
         *
         * @throws IllegalArgumentException when there is no '='
         */
        public Builder setting(String nameEqualsValue) {
            Map.Entry<String, String> e = ReplicaSetSpec.setting(nameEqualsValue);
            return setting(e.getKey(), e.getValue());
        }

        /**
         * A prefix for the server names: {@code "MyTest-"} names them {@code MyTest-pg1},
         * {@code MyTest-pg2}, ... (their directories and log lines too). Characters a
         * server name cannot hold become '_', and the prefix is shortened to fit the
         * 40-character limit. {@link PgReplicaSet#server(String)} still finds {@code "pg2"}.
         */
        public Builder namePrefix(String prefix) {
            this.namePrefix = ReplicaSetSpec.namePrefix(prefix);
            return this;
        }

        /** Customizes the primary's builder (password, data checksums, ...); the name stays the kit's. */
        public Builder primary(Consumer<PgServer.Builder> options) {
            this.primaryOptions = java.util.Objects.requireNonNull(options, "options");
            return this;
        }

        /**
         * Clones the standbys in waves: every standby whose upstream runs already is cloned
         * at the same time as the others of its wave (pg_basebackup, start and the wait for
         * streaming overlap; a replica set of three from one primary takes one clone's time,
         * not two). Each server is added to {@code started} as soon as it exists, so that a
         * failure closes it too.
         */
        private void cloneInWaves(PgServer[] byNumber, List<PgServer> started) {
            java.util.Set<Integer> pending = new java.util.TreeSet<>();
            for (int i = 2; i <= nodes; i++) {
                pending.add(i);
            }
            while (!pending.isEmpty()) {
                List<Integer> wave = new ArrayList<>();
                for (int n : pending) {
                    if (byNumber[upstreams.getOrDefault(n, 1)] != null) {
                        wave.add(n);
                    }
                }
                pending.removeAll(wave);
                if (wave.size() == 1) {
                    int n = wave.get(0);
                    byNumber[n] = byNumber[upstreams.getOrDefault(n, 1)].createStandby(namePrefix + "pg" + n);
                    started.add(byNumber[n]);
                    continue;
                }
                List<Thread> threads = new ArrayList<>();
                java.util.Map<Integer, RuntimeException> failures = new java.util.concurrent.ConcurrentHashMap<>();
                for (int n : wave) {
                    PgServer upstream = byNumber[upstreams.getOrDefault(n, 1)];
                    Thread t = new Thread(() -> {
                        try {
                            PgServer s = upstream.createStandby(namePrefix + "pg" + n);
                            synchronized (started) {
                                byNumber[n] = s;
                                started.add(s);
                            }
                        } catch (RuntimeException e) {
                            failures.put(n, e);
                        }
                    }, "repmgr4j-testkit-clone-pg" + n);
                    t.setDaemon(true);
                    t.start();
                    threads.add(t);
                }
                for (Thread t : threads) {
                    try {
                        t.join();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new PgTestkitException("interrupted while cloning the standbys", e);
                    }
                }
                if (!failures.isEmpty()) {
                    RuntimeException first = null;
                    for (RuntimeException e : failures.values()) {
                        if (first == null) {
                            first = e;
                        } else {
                            first.addSuppressed(e);
                        }
                    }
                    throw first;
                }
            }
        }

        /**
         * Checks that the options fit together (a cascade names only nodes of the set);
         * {@link #start()} checks the same before starting anything.
         *
         * @throws IllegalArgumentException when they do not
         */
        public void validate() {
            for (int node : upstreams.keySet()) {
                if (node > nodes) {
                    throw new IllegalArgumentException("cascade names node " + node + " but the set has " + nodes + " nodes");
                }
            }
        }

        /**
         * Starts the primary, then each standby cloned from its upstream (the primary
         * unless {@link #cascade} says otherwise), each streaming before this returns. On
         * failure every server started is closed.
         */
        public PgReplicaSet start() {
            validate();
            List<PgServer> started = new ArrayList<>();
            try {
                PgServer.Builder b = PgServer.builder();
                settings.forEach(b::setting);
                primaryOptions.accept(b);
                started.add(b.name(namePrefix + "pg1").start());
                PgServer[] byNumber = new PgServer[nodes + 1];
                byNumber[1] = started.get(0);
                cloneInWaves(byNumber, started);
                return new PgReplicaSet(new ArrayList<>(java.util.Arrays.asList(byNumber).subList(1, nodes + 1)));
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
    }
}
