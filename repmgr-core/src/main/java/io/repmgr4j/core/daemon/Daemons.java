package io.repmgr4j.core.daemon;

import io.repmgr4j.ClusterStatus;
import io.repmgr4j.ConnInfo;
import io.repmgr4j.DaemonMode;
import io.repmgr4j.DaemonOptions;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.FailoverDaemon;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.NodeServiceStatus;
import io.repmgr4j.NodeStatus;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.ServiceStatus;
import io.repmgr4j.sql.DaemonSessions;
import io.repmgr4j.sql.DaemonStateInstaller;
import io.repmgr4j.sql.DaemonStateTable;
import io.repmgr4j.sql.JdbcMetadataStore;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon side of a cluster handle: makes {@link FailoverDaemon}s, pauses and unpauses
 * them ({@code service pause}), reports on them ({@code service status}), and closes the
 * ones it made when the handle closes. Internal: the core package wires it into
 * {@code ReplicationCluster}. Thread-safe.
 */
public final class Daemons implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Daemons.class);
    private static final String APP = "repmgr4j-daemon-admin";

    private final ClusterAccess access;
    private final Set<DefaultFailoverDaemon> open = ConcurrentHashMap.newKeySet();

    public Daemons(ClusterAccess access) {
        this.access = Objects.requireNonNull(access, "access");
    }

    /** A new daemon for {@code node}, not started. */
    public FailoverDaemon create(NodeConfig node, DaemonOptions options) {
        Objects.requireNonNull(node, "node");
        Objects.requireNonNull(options, "options");
        DefaultFailoverDaemon d = new DefaultFailoverDaemon(node, options, access, open::remove);
        open.add(d);
        return d;
    }

    /**
     * Sets the pause flag of every registered node on the primary (installing schema
     * {@code repmgr4j} there if needed); with {@code waitApplied}, waits until every
     * running daemon publishes the new state.
     *
     * @throws ReplicationException {@code REPMGRD_PAUSE} when no primary can be reached or a
     *     daemon did not take the change within {@code waitApplied}
     */
    public List<NodeRecord> setPaused(boolean paused, Optional<Duration> waitApplied) {
        String verb = paused ? "pause" : "unpause";
        ConnInfo primary;
        try {
            primary = access.locatePrimary();
        } catch (ReplicationException e) {
            throw new ReplicationException(ErrorCode.REPMGRD_PAUSE, "unable to " + verb + " the daemons: no primary is reachable",
                    "the pause flag is kept in table repmgr4j.daemon_state, written on the primary and replicated to the"
                            + " standbys; " + e.getMessage(),
                    "start the primary (or promote a standby by hand) and try again", e);
        }
        List<NodeRecord> nodes;
        try (Connection c = access.connect(primary.with("application_name", APP), Duration.ofSeconds(10), Duration.ofSeconds(30))) {
            DaemonStateInstaller.install(c);
            nodes = JdbcMetadataStore.of(KeptConnection.nonClosing(c)).nodes();
            DaemonStateTable.setPaused(c, nodes.stream().map(NodeRecord::nodeId).toList(), paused);
        } catch (SQLException | ReplicationException e) {
            String detail = e.getMessage() + (e instanceof ReplicationException r ? r.detail().map(d -> ": " + d).orElse("") : "");
            throw new ReplicationException(ErrorCode.REPMGRD_PAUSE, "unable to " + verb + " the daemons", detail,
                    "check that the primary accepts writes", e);
        }
        for (NodeRecord n : nodes) {
            LOG.info("node {} ({}) {}", n.nodeId(), n.nodeName(), paused ? "paused" : "unpaused");
        }
        RealRepmgrdPause.apply(access, nodes, paused, APP);
        if (waitApplied.isPresent()) {
            awaitApplied(nodes, paused, waitApplied.get());
        }
        return nodes;
    }

    private void awaitApplied(List<NodeRecord> nodes, boolean paused, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<NodeRecord> waiting = new ArrayList<>(nodes);
        while (true) {
            waiting.removeIf(n -> daemonAgrees(n, paused));
            if (waiting.isEmpty()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new ReplicationException(ErrorCode.REPMGRD_PAUSE, "the daemon of " + waiting.get(0).describe()
                        + " did not report being " + (paused ? "paused" : "unpaused") + " within " + timeout.toMillis() + " ms",
                        "the flag is set; a daemon reads it from its own server once per monitor interval",
                        "check the daemon's log, or wait longer");
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ReplicationException(ErrorCode.REPMGRD_PAUSE, "interrupted while waiting for the daemons");
            }
        }
    }

    /** True when the node's daemon publishes the wanted pause state, or no daemon runs there (nothing to wait for). */
    private boolean daemonAgrees(NodeRecord n, boolean paused) {
        try (Connection c = access.connect(n.conninfo().with("application_name", APP), Duration.ofSeconds(2),
                Duration.ofSeconds(5))) {
            Optional<Beacon> b = Beacon.find(DaemonSessions.list(c, Beacon.PREFIX), n.nodeId());
            return b.isEmpty() || b.get().paused() == paused;
        } catch (SQLException | ReplicationException e) {
            return true; // unreachable: its daemon cannot be running a failover either
        }
    }

    /** {@code service status}: cluster show plus each node's daemon, bounded by {@code timeout}. */
    public ServiceStatus serviceStatus(Duration timeout) {
        long t0 = System.nanoTime();
        ClusterStatus cs = access.show(timeout);
        long left = Math.max(1_000_000_000L, timeout.toNanos() - (System.nanoTime() - t0));
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(8, cs.nodes().size())), r -> {
            Thread t = new Thread(r, "repmgr4j-service-status");
            t.setDaemon(true);
            return t;
        });
        try {
            Map<Integer, Future<NodeServiceStatus>> futures = new HashMap<>();
            for (NodeStatus n : cs.nodes()) {
                futures.put(n.nodeId(), pool.submit(() -> daemonOf(n, Duration.ofNanos(left))));
            }
            long deadline = System.nanoTime() + left;
            List<NodeServiceStatus> rows = new ArrayList<>();
            List<String> problems = new ArrayList<>(cs.problems());
            for (NodeStatus n : cs.nodes()) {
                NodeServiceStatus row;
                try {
                    row = futures.get(n.nodeId()).get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (TimeoutException | ExecutionException e) {
                    row = NodeServiceStatus.builder().node(n).build();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new ReplicationException(ErrorCode.INTERNAL, "interrupted while probing the daemons");
                }
                rows.add(row);
                if (row.daemonRunning().equals(Optional.of(false))) {
                    problems.add("no failover daemon is running on node \"" + n.nodeName() + "\" (ID: " + n.nodeId() + ")");
                }
            }
            return ServiceStatus.builder().nodes(rows).problems(problems).probedAt(cs.probedAt()).synchronous(cs.synchronous())
                    .probeDuration(Duration.ofNanos(System.nanoTime() - t0)).build();
        } finally {
            pool.shutdownNow();
        }
    }

    private NodeServiceStatus daemonOf(NodeStatus n, Duration cap) {
        io.repmgr4j.ImmutableNodeServiceStatus.Builder b = NodeServiceStatus.builder().node(n);
        if (!n.state().reachable()) {
            return b.build();
        }
        try (Connection c = access.connect(n.conninfo().with("application_name", APP), cap, cap)) {
            Optional<Beacon> beacon = Beacon.find(DaemonSessions.list(c, Beacon.PREFIX), n.nodeId());
            Optional<Boolean> flag = Optional.of(DaemonStateTable.pausedFlags(c).getOrDefault(n.nodeId(), false));
            b.daemonRunning(beacon.isPresent());
            if (beacon.isPresent()) {
                Beacon d = beacon.get();
                b.daemonPid(d.pid() > 0 ? OptionalLong.of(d.pid()) : OptionalLong.empty());
                b.daemonMode(d.mode());
                b.paused(d.paused());
                if (d.upstreamId() > 0 && d.lastSeenAgoMillis() >= 0 && d.mode() != DaemonMode.LOCAL_DOWN) {
                    b.upstreamLastSeen(Duration.ofMillis(d.lastSeenAgoMillis()));
                }
            } else if (!RealRepmgrdPause.describe(c, b)) {
                b.paused(flag);
            }
            return b.build();
        } catch (SQLException | ReplicationException e) {
            return b.build();
        }
    }

    /** Closes every daemon made here and not closed yet. */
    @Override
    public void close() {
        for (DefaultFailoverDaemon d : List.copyOf(open)) {
            d.close();
        }
    }
}
