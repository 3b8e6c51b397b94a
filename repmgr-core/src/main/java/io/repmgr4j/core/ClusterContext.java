package io.repmgr4j.core;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.EventRecord;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.NodeType;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.core.host.NodeHost;
import io.repmgr4j.core.host.PgControl;
import io.repmgr4j.spi.CommandRunner;
import io.repmgr4j.spi.EventListener;
import io.repmgr4j.spi.MetadataStore;
import io.repmgr4j.sql.JdbcMetadataStore;
import io.repmgr4j.sql.PgConnections;
import io.repmgr4j.sql.SchemaInstaller;
import io.repmgr4j.sql.ServerProbe;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every operation of one cluster handle shares: how to reach nodes, where the
 * primary was last seen, the probe thread pool and the event listeners. Thread-safe.
 */
final class ClusterContext implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterContext.class);

    private final List<ConnInfo> seeds;
    private final List<EventListener> listeners;
    private final Duration connectTimeout;
    private final Duration showTimeout;
    private final AtomicReference<ConnInfo> lastPrimary = new AtomicReference<>();
    private final Map<Integer, ConnInfo> knownNodes = new LinkedHashMap<>();
    private final ExecutorService probePool;
    /** How long a connection an operation closed stays open for the next one. */
    static final Duration KEEP_IDLE = Duration.ofSeconds(10);
    /** At most this (or a quarter of the connect timeout) for a kept connection to answer before it is replaced. */
    private static final Duration VALIDATE_TIMEOUT = Duration.ofMillis(500);
    private final IdleConnections connections;
    private final Map<String, NodeHost.ProgramAnswer> programAnswers = new java.util.concurrent.ConcurrentHashMap<>();

    private final Map<Integer, NodeBinding> bindings = new java.util.concurrent.ConcurrentHashMap<>();
    private final CommandRunner defaultRunner;

    ClusterContext(List<ConnInfo> seeds, List<EventListener> listeners, Duration connectTimeout, Duration showTimeout,
                   java.util.Collection<NodeBinding> nodes, CommandRunner defaultRunner) {
        this.defaultRunner = defaultRunner;
        for (NodeBinding b : nodes) {
            bindings.put(b.config().nodeId(), b);
        }
        this.seeds = List.copyOf(seeds);
        this.listeners = List.copyOf(listeners);
        this.connectTimeout = connectTimeout;
        this.showTimeout = showTimeout;
        AtomicInteger n = new AtomicInteger();
        ThreadFactory tf = r -> {
            Thread t = new Thread(r, "repmgr4j-probe-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
        this.probePool = new DeadlineExecutor(Executors.newCachedThreadPool(tf)); // tasks keep their operation's deadline
        this.connections = new IdleConnections(KEEP_IDLE);
    }

    /**
     * Remembers a node configuration an operation was given, keeping a runner bound to
     * the same node id earlier.
     */
    void bind(NodeConfig config) {
        bindings.merge(config.nodeId(), new NodeBinding(config, Optional.empty()),
                (old, fresh) -> new NodeBinding(config, old.runner()));
    }

    /** What the handle holds for a node id, if anything (for {@link TentativeBinding}). */
    Optional<NodeBinding> binding(int nodeId) {
        return Optional.ofNullable(bindings.get(nodeId));
    }

    /** Puts back what {@link #binding} returned earlier: the binding, or none. */
    void restoreBinding(int nodeId, Optional<NodeBinding> earlier) {
        if (earlier.isPresent()) {
            bindings.put(nodeId, earlier.get());
        } else {
            bindings.remove(nodeId);
        }
    }

    /** The configuration of a node the handle was told about. */
    Optional<NodeConfig> config(int nodeId) {
        return Optional.ofNullable(bindings.get(nodeId)).map(NodeBinding::config);
    }

    /** The runner that reaches a node's host. */
    CommandRunner runner(int nodeId) {
        return Optional.ofNullable(bindings.get(nodeId)).flatMap(NodeBinding::runner).orElse(defaultRunner);
    }

    /** Server control for a node, through its runner. */
    PgControl control(NodeConfig config) {
        bind(config);
        return new PgControl(config, runner(config.nodeId()));
    }

    Duration connectTimeout() {
        return connectTimeout;
    }

    Duration showTimeout() {
        return showTimeout;
    }

    /**
     * {@link NodeHost#probe} of a directory and programs on a node's host, reusing the
     * {@code --version} answers this handle has seen while the programs' files are
     * unchanged, and keeping the new ones.
     */
    NodeHost.Probe probe(CommandRunner runner, String directory, List<String> programs) {
        NodeHost.Probe probe = new NodeHost(runner).probe(directory, programs, knownVersions(runner, programs));
        rememberVersions(runner, probe.versions());
        return probe;
    }

    /** The programs' {@code --version} answers this handle has seen, by host and path. */
    private Map<String, NodeHost.ProgramAnswer> knownVersions(CommandRunner runner, List<String> programs) {
        Map<String, NodeHost.ProgramAnswer> known = new java.util.HashMap<>();
        for (String p : programs) {
            NodeHost.ProgramAnswer a = programAnswers.get(runner.describe() + '\0' + p);
            if (a != null) {
                known.put(p, a);
            }
        }
        return known;
    }

    /**
     * The major versions of a node's programs (by name, such as {@code pg_ctl}), asked in one
     * command on its host, reusing this handle's answers while the programs' files are
     * unchanged.
     */
    List<Integer> majorVersions(PgControl control, List<String> programs) {
        List<String> paths = programs.stream().map(control::tool).toList();
        NodeHost.Probe probe = probe(control.runner(), control.node().dataDirectory(), paths);
        List<Integer> majors = new ArrayList<>();
        for (int i = 0; i < programs.size(); i++) {
            majors.add(control.majorVersion(programs.get(i), probe.versions().get(paths.get(i))));
        }
        return majors;
    }

    /** Keeps the successful answers of a probe for {@link #knownVersions}. */
    private void rememberVersions(CommandRunner runner, Map<String, NodeHost.ProgramAnswer> answers) {
        answers.forEach((p, a) -> {
            if (a.exitCode() == 0 && !a.fileIdentity().isEmpty()) {
                programAnswers.put(runner.describe() + '\0' + p, a);
            }
        });
    }

    ExecutorService probePool() {
        return probePool;
    }

    /** Opens a connection to a node, bounded by the handle's connect timeout. */
    Connection connect(ConnInfo node) {
        return connect(node, connectTimeout);
    }

    /**
     * A connection bounded by {@code cap} (never more than the handle's connect timeout):
     * one kept open since an earlier operation closed it, when it still answers, else a new
     * one ({@link IdleConnections}). Closing it gives it back.
     */
    Connection connect(ConnInfo target, Duration cap) {
        ConnInfo node = io.repmgr4j.core.sync.SyncConnections.localCommit(target); // library writes never wait for a sync standby
        Duration capped = cap.compareTo(connectTimeout) < 0 ? cap : connectTimeout;
        Duration left = OperationDeadline.socketTimeout(); // an operation's connect ends by its deadline too (at least 1 s)
        Duration bound = left.compareTo(capped) < 0 ? left : capped;
        Duration quarter = bound.dividedBy(4);
        Connection c = connections.get(node.render(), quarter.compareTo(VALIDATE_TIMEOUT) < 0 ? quarter : VALIDATE_TIMEOUT,
                () -> PgConnections.open(node, bound));
        // every read on it ends by the operation's deadline (IdleConnections clears it when given back)
        try {
            c.setNetworkTimeout(Runnable::run, (int) Math.min(Integer.MAX_VALUE, OperationDeadline.socketTimeout().toMillis()));
        } catch (SQLException e) {
            Connections.closeQuietly(c);
            throw new ReplicationException(ErrorCode.DB_CONN, "unable to set a socket timeout on the connection to "
                    + node.hosts(), e.getMessage(), PgConnections.class.getSimpleName() + " connections must allow it");
        }
        return c;
    }

    /** A metadata store that writes to the given server. */
    MetadataStore storeOn(ConnInfo server) {
        return JdbcMetadataStore.of(() -> connect(server));
    }

    /** A metadata store that always writes to the current primary, found again when it moves. */
    MetadataStore primaryStore() {
        return JdbcMetadataStore.of(() -> connect(locatePrimary()));
    }

    /** Remembers node connection strings, so later look-ups can reach the cluster through any of them. */
    void remember(List<NodeRecord> nodes) {
        synchronized (knownNodes) {
            for (NodeRecord n : nodes) {
                knownNodes.put(n.nodeId(), n.conninfo());
            }
        }
    }

    void rememberPrimary(ConnInfo primary) {
        lastPrimary.set(primary);
    }

    /** Where the primary was last seen, unchecked (callers verify it, or use {@link #locatePrimary}). */
    Optional<ConnInfo> cachedPrimary() {
        return Optional.ofNullable(lastPrimary.get());
    }

    private List<ConnInfo> candidates(List<ConnInfo> extra) {
        List<ConnInfo> out = new ArrayList<>();
        Optional.ofNullable(lastPrimary.get()).ifPresent(out::add);
        out.addAll(extra);
        out.addAll(seeds);
        synchronized (knownNodes) {
            out.addAll(knownNodes.values());
        }
        return out.stream().distinct().toList();
    }

    /**
     * The first reachable node that holds the metadata: the last known primary first,
     * then {@code extra}, the seeds and every node seen so far (a standby's replicated
     * copy serves when the primary is down).
     */
    ConnInfo anyNodeWithMetadata(ConnInfo... extra) {
        List<String> withoutSchema = new ArrayList<>();
        List<io.repmgr4j.sql.ConnectFailures.Failure> failures = new ArrayList<>();
        for (ConnInfo c : candidates(List.of(extra))) {
            String where = c.hosts().stream().map(ConnInfo.HostPort::toString).collect(java.util.stream.Collectors.joining(","));
            try (Connection conn = connect(c)) {
                if (SchemaInstaller.schemaPresent(conn)) {
                    return c;
                }
                withoutSchema.add(where + ": reachable, but it has no repmgr schema");
            } catch (ReplicationException | SQLException e) {
                LOG.debug("could not read metadata from {}: {}", c.hosts(), e.getMessage());
                failures.add(io.repmgr4j.sql.ConnectFailures.of(where, e));
            }
        }
        throw MetadataUnreachable.error(failures, withoutSchema);
    }

    /** The node records, from the first reachable node that holds the metadata. */
    List<NodeRecord> readNodes(ConnInfo... extra) {
        List<NodeRecord> nodes = storeOn(anyNodeWithMetadata(extra)).nodes();
        remember(nodes);
        return nodes;
    }

    /** A store to read from: the primary's, else any node's replicated copy. */
    MetadataStore readableStore() {
        try {
            return storeOn(locatePrimary());
        } catch (ReplicationException e) {
            return storeOn(anyNodeWithMetadata());
        }
    }

    /** The connection string of the running primary, found through the metadata. */
    ConnInfo locatePrimary(ConnInfo... extra) {
        ConnInfo cached = lastPrimary.get();
        if (cached != null && isRunningPrimary(cached)) {
            return cached;
        }
        List<NodeRecord> nodes = readNodes(extra);
        List<String> tried = new ArrayList<>();
        for (NodeRecord n : nodes) {
            if (n.type() != NodeType.PRIMARY || !n.active()) {
                continue;
            }
            tried.add(n.describe() + " at " + n.conninfo().hosts());
            if (isRunningPrimary(n.conninfo())) {
                lastPrimary.set(n.conninfo());
                return n.conninfo();
            }
        }
        throw new ReplicationException(ErrorCode.DB_CONN, "unable to connect to the primary",
                tried.isEmpty() ? "no active primary is registered" : "no registered primary is running and writable: " + String.join(", ", tried),
                "start the primary, or promote a standby");
    }

    /** {@link #isRunningPrimary(ConnInfo)} with the connection attempt bounded by {@code cap}. */
    boolean isRunningPrimary(ConnInfo c, Duration cap) {
        try (Connection conn = connect(c, cap)) {
            return !ServerProbe.isInRecovery(conn);
        } catch (ReplicationException | SQLException e) {
            return false;
        }
    }

    /** True when the server answers and is not in recovery. */
    boolean isRunningPrimary(ConnInfo c) {
        try (Connection conn = connect(c)) {
            return !ServerProbe.isInRecovery(conn);
        } catch (ReplicationException | SQLException e) {
            return false;
        }
    }

    /** Tells every listener of an event; a listener that throws is logged and ignored. */
    void notifyListeners(EventRecord event) {
        for (EventListener l : listeners) {
            try {
                l.onEvent(event);
            } catch (RuntimeException e) {
                LOG.warn("event listener {} threw on event {}: {}", l, event.event(), e.toString());
            }
        }
    }

    /**
     * Records an event that is not part of a change (a failure), on whatever primary can
     * be reached; logs instead of failing when none can.
     */
    void recordFailure(MetadataStore store, EventRecord event) {
        EventRecord stored = event;
        try {
            stored = store.appendEvent(event);
        } catch (ReplicationException e) {
            LOG.warn("could not record event {} for node {}: {}", event.event(), event.nodeId(), e.getMessage());
        }
        notifyListeners(stored);
    }

    @Override
    public void close() {
        probePool.shutdownNow();
        connections.close();
    }
}
