package io.repmgr4j.core;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.sql.AdvisoryLocks;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster-wide lock that keeps topology operations (switchover, promote, follow,
 * rejoin, and the daemon's failover) from interleaving.
 *
 * <p>It is a session-level advisory lock with one fixed key ({@link #KEY}) taken on
 * <em>every</em> reachable node, primary and standbys alike (advisory locks work on hot
 * standbys), and held by one open connection per node for as long as the operation runs.
 * A lock on the primary alone would not do: a switchover stops the primary, which drops
 * the lock while the operation is at its most delicate; the standbys' locks stay. Another
 * operation must take the lock on every node it reaches, so it is refused as long as any
 * node still holds ours. Locks live in sessions: an operation whose process dies releases
 * them, so a crash never leaves the cluster locked. Each locking connection sets its
 * application_name to what it does, which is how the refused operation names the one in
 * progress.
 *
 * <p>Nodes are locked in node-id order without waiting: two operations racing for the
 * lock cannot deadlock; at worst both are refused. A node that cannot be reached is
 * skipped (an operation cannot act on it either). Thread-safe.
 */
final class TopologyLock implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TopologyLock.class);

    /** The advisory lock key: "r4j-topo" in ASCII. */
    static final long KEY = 0x72346a2d746f706fL;

    /** How application_name starts on a locking connection. */
    static final String LABEL_PREFIX = "repmgr4j lock: ";

    private final Map<Integer, Connection> held;
    private final String what;

    private TopologyLock(Map<Integer, Connection> held, String what) {
        this.held = held;
        this.what = what;
    }

    /**
     * Takes the lock on every reachable node of {@code nodes}, or on none.
     *
     * @param what what the operation does, shown to operations that are refused meanwhile
     *     (at most ~45 characters survive PostgreSQL's 63-byte application_name)
     * @param code the error code of a refusal (the operation's own)
     * @throws ReplicationException when another operation holds the lock somewhere, or no
     *     node could be reached at all
     */
    static TopologyLock acquire(ClusterContext ctx, List<NodeRecord> nodes, String what, ErrorCode code) {
        return acquire(ctx, nodes, what, code,
                ctx.connectTimeout().compareTo(Duration.ofSeconds(5)) < 0 ? ctx.connectTimeout() : Duration.ofSeconds(5));
    }

    /** {@link #acquire(ClusterContext, List, String, ErrorCode)}, a node that does not connect within {@code cap} skipped. */
    static TopologyLock acquire(ClusterContext ctx, List<NodeRecord> nodes, String what, ErrorCode code, Duration cap) {
        return acquire(ctx, nodes, what, code, cap, Map.of());
    }

    /**
     * {@link #acquire(ClusterContext, List, String, ErrorCode, Duration)}; a node named in
     * {@code capOf} (a failover daemon's silent old primary) is skipped unless it answers a
     * ping within its own cap, which may be shorter than a second (pgjdbc's connect timeout
     * counts whole seconds).
     */
    static TopologyLock acquire(ClusterContext ctx, List<NodeRecord> nodes, String what, ErrorCode code, Duration cap,
                                Map<Integer, Duration> capOf) {
        List<NodeRecord> ordered = nodes.stream().sorted(java.util.Comparator.comparingInt(NodeRecord::nodeId)).toList();
        String label = LABEL_PREFIX + what;
        List<Future<Optional<Connection>>> opening = new ArrayList<>();
        for (NodeRecord n : ordered) {
            ConnInfo c = n.conninfo().with("application_name", label);
            Duration own = capOf.get(n.nodeId());
            opening.add(ctx.probePool().submit(() -> {
                try {
                    if (own != null && io.repmgr4j.sql.PgPing.ping(c, own) == io.repmgr4j.sql.PgPing.Result.NO_RESPONSE) {
                        LOG.debug("lock: {} does not answer a ping within {} ms: skipped", n.describe(), own.toMillis());
                        return Optional.empty();
                    }
                    return Optional.of(ctx.connect(c, cap));
                } catch (ReplicationException e) {
                    LOG.debug("lock: {} unreachable: {}", n.describe(), e.getMessage());
                    return Optional.empty();
                }
            }));
        }
        Map<Integer, Connection> conns = new LinkedHashMap<>();
        for (int i = 0; i < ordered.size(); i++) {
            try {
                Optional<Connection> conn = opening.get(i).get();
                if (conn.isPresent()) {
                    conns.put(ordered.get(i).nodeId(), conn.get());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                closeAll(conns);
                throw new ReplicationException(code, "interrupted while taking the cluster lock");
            } catch (java.util.concurrent.ExecutionException e) {
                LOG.debug("lock: opening a connection failed: {}", e.getCause().toString());
            }
        }
        if (conns.isEmpty()) {
            throw new ReplicationException(code, "unable to take the cluster-wide topology lock: no node is reachable",
                    "tried " + ordered.stream().map(NodeRecord::describe).toList(), "check that the nodes are running");
        }
        Map<Integer, Connection> held = new LinkedHashMap<>();
        for (Map.Entry<Integer, Connection> e : conns.entrySet()) {
            boolean got;
            try {
                got = AdvisoryLocks.tryLock(e.getValue(), KEY);
            } catch (ReplicationException ex) {
                LOG.debug("lock: node {} failed while locking: {}", e.getKey(), ex.getMessage());
                closeQuietly(e.getValue());
                continue;
            }
            if (got) {
                held.put(e.getKey(), e.getValue());
                continue;
            }
            String holder;
            try {
                holder = AdvisoryLocks.holders(e.getValue(), KEY).stream()
                        .map(h -> h.startsWith(LABEL_PREFIX) ? h.substring(LABEL_PREFIX.length()) : h)
                        .filter(h -> !h.isBlank()).findFirst().orElse("an unnamed session");
            } catch (ReplicationException ex) {
                holder = "an operation that could not be named (" + ex.getMessage() + ")";
            }
            int nodeId = e.getKey();
            closeAll(conns);
            String node = ordered.stream().filter(n -> n.nodeId() == nodeId).findFirst().map(NodeRecord::describe)
                    .orElse("node " + nodeId);
            throw new ReplicationException(code,
                    "another topology operation is in progress: " + holder,
                    "the cluster-wide topology lock is held on " + node + "; \"" + what + "\" cannot run at the same time",
                    "wait for that operation to finish, then try again");
        }
        LOG.debug("topology lock taken on nodes {} for {}", held.keySet(), what);
        return new TopologyLock(held, what);
    }

    /** The nodes on which the lock is held (some may have been restarted since, releasing theirs). */
    List<Integer> nodeIds() {
        return List.copyOf(held.keySet());
    }

    /** Releases the lock everywhere it is still held. */
    @Override
    public void close() {
        synchronized (held) {
            for (Map.Entry<Integer, Connection> e : held.entrySet()) {
                try {
                    if (!e.getValue().isClosed() && e.getValue().isValid(1)) {
                        AdvisoryLocks.unlock(e.getValue(), KEY);
                    }
                } catch (SQLException | ReplicationException ex) {
                    LOG.debug("releasing the lock on node {}: {}", e.getKey(), ex.getMessage());
                }
                closeQuietly(e.getValue());
            }
            held.clear();
        }
        LOG.debug("topology lock released ({})", what);
    }

    private static void closeAll(Map<Integer, Connection> conns) {
        conns.values().forEach(TopologyLock::closeQuietly);
        conns.clear();
    }

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException ignored) {
            // the session ends either way, and with it the lock
        }
    }
}
