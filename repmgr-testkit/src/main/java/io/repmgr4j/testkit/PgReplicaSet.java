package io.repmgr4j.testkit;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
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
public final class PgReplicaSet implements AutoCloseable {
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
        List<PgServer> started = new ArrayList<>();
        try {
            PgServer.Builder b = PgServer.builder();
            primaryOptions.accept(b);
            PgServer primary = b.name("pg1").start();
            started.add(primary);
            for (int i = 2; i <= nodes; i++) {
                started.add(primary.createStandby("pg" + i));
            }
            return new PgReplicaSet(started);
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

    /** The server started as primary ({@code pg1}). */
    public PgServer primary() {
        return servers.get(0);
    }

    /** All servers, {@code pg1} first. */
    public List<PgServer> servers() {
        return servers;
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

    @Override
    public String toString() {
        return "PgReplicaSet" + servers;
    }
}
