package io.repmgr4j.core;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.EventRecord;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.NodeType;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.spi.MetadataStore;
import io.repmgr4j.sql.ReplicationProtocol;
import io.repmgr4j.sql.ServerProbe;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * What the topology operations (promote, follow, switchover, rejoin) share: node look-ups
 * in the metadata, node configurations, short SQL questions, bounded sleeping, and
 * writing events. Stateless apart from the shared context; thread-safe.
 */
final class Topology {
    /** How often fast waits (shutdown, WAL receipt, promotion) poll. */
    static final Duration FAST_POLL = Duration.ofMillis(10);
    /** How long after {@code pg_ctl start -W} a server not (yet) running is still taken as starting. */
    static final Duration START_GRACE = Duration.ofSeconds(2);
    /** How often waits that run commands on a node's host poll. */
    static final Duration HOST_POLL = Duration.ofMillis(25);
    /** How often waits for a standby to stream poll. */
    static final Duration ATTACH_POLL = Duration.ofMillis(50);
    /** How long {@link #startAndAwait} tries every 10 ms before every {@code ATTACH_POLL / 2}. */
    private static final Duration FAST_START_POLLING = Duration.ofSeconds(2);

    final ClusterContext ctx;

    Topology(ClusterContext ctx) {
        this.ctx = ctx;
    }

    /** The node records, from the primary or, when it is down, any node's replicated copy. */
    List<NodeRecord> nodes() {
        return ctx.readNodes();
    }

    static Optional<NodeRecord> find(List<NodeRecord> nodes, int nodeId) {
        return nodes.stream().filter(n -> n.nodeId() == nodeId).findFirst();
    }

    /** The record of a node, or BAD_CONFIG naming it. */
    static NodeRecord require(List<NodeRecord> nodes, int nodeId) {
        return find(nodes, nodeId).orElseThrow(() -> new ReplicationException(ErrorCode.BAD_CONFIG,
                "node ID " + nodeId + " is not registered",
                "registered node IDs: " + nodes.stream().map(n -> String.valueOf(n.nodeId())).toList(),
                "register the node first (standby register), or name a registered node"));
    }

    /** The active primary records other than {@code exceptId}. */
    static List<NodeRecord> activePrimaries(List<NodeRecord> nodes, int exceptId) {
        return nodes.stream().filter(n -> n.type() == NodeType.PRIMARY && n.active() && n.nodeId() != exceptId).toList();
    }

    /** The registered node whose conninfo names the same first host and port, if any. */
    static Optional<NodeRecord> byAddress(List<NodeRecord> nodes, ConnInfo address) {
        ConnInfo.HostPort want = address.hosts().get(0);
        return nodes.stream().filter(n -> {
            ConnInfo.HostPort hp = n.conninfo().hosts().get(0);
            return hp.port() == want.port() && Attachment.sameHost(hp.host(), want.host());
        }).findFirst();
    }

    /** Active standbys whose upstream is {@code upstreamId}, other than {@code exceptId}. */
    static List<NodeRecord> standbysOf(List<NodeRecord> nodes, int upstreamId, int exceptId) {
        return nodes.stream().filter(n -> n.type() == NodeType.STANDBY && n.active() && n.nodeId() != exceptId
                && n.upstreamNodeId().isPresent() && n.upstreamNodeId().getAsInt() == upstreamId).toList();
    }

    /**
     * The configuration of a node the operation must act on through its host, or
     * BAD_CONFIG naming the node.
     */
    NodeConfig requireConfig(NodeRecord node, String why) {
        return ctx.config(node.nodeId()).orElseThrow(() -> new ReplicationException(ErrorCode.BAD_CONFIG,
                "the configuration of " + node.describe() + " is not known",
                why + ", which needs its data directory, PostgreSQL programs and service commands",
                "pass the node's NodeConfig (and CommandRunner, if it is remote) to ReplicationClusters.builder().node(...)"));
    }

    /** What a node's server says about itself. */
    record ServerState(boolean inRecovery, long systemIdentifier, int versionNum) {
    }

    /** Connects to a node and asks whether it is in recovery and its system identifier; {@code code} on failure. */
    ServerState state(NodeRecord node, ErrorCode code) {
        try (Connection c = ctx.connect(node.conninfo())) {
            return new ServerState(ServerProbe.isInRecovery(c), ServerProbe.systemIdentifier(c), ServerProbe.serverVersionNum(c));
        } catch (ReplicationException e) {
            throw new ReplicationException(code, "unable to connect to " + node.describe(),
                    OperationRun.describe(e), "check that the node is running and reachable at " + node.conninfo().hosts());
        } catch (SQLException e) {
            throw new ReplicationException(code, "unable to query " + node.describe(), e.getMessage(), null, e);
        }
    }

    /** The server's identity and timeline history over a replication connection; {@code code} on failure. */
    ReplicationProtocol.Lineage lineage(ConnInfo server, String who, ErrorCode code) {
        try {
            return ReplicationProtocol.lineage(server, ctx.connectTimeout());
        } catch (ReplicationException e) {
            throw new ReplicationException(code, "unable to read the timeline history of " + who,
                    OperationRun.describe(e), e.hint().orElse(null));
        }
    }

    /** Runs SQL work on a new connection to {@code server}. */
    <T> T withConnection(ConnInfo server, Function<Connection, T> work) {
        try (Connection c = ctx.connect(server)) {
            return work.apply(c);
        } catch (SQLException e) {
            throw new ReplicationException(ErrorCode.DB_QUERY, "unable to close a connection", e.getMessage(), null, e);
        }
    }

    /** Writes an event on {@code store} and tells the listeners; a failure to write is logged, not thrown. */
    void event(MetadataStore store, int nodeId, String event, boolean ok, String details) {
        ctx.recordFailure(store, Registration.event(nodeId, event, ok, details));
    }

    /**
     * Records a failed operation as an event with {@code successful = false} on the
     * primary, when one can be reached; otherwise only logs it.
     */
    void failureEvent(int nodeId, String event, String message) {
        MetadataStore store;
        try {
            store = ctx.storeOn(ctx.locatePrimary());
        } catch (ReplicationException e) {
            org.slf4j.LoggerFactory.getLogger(Topology.class).warn("could not record failed {} of node {}: no primary reachable",
                    event, nodeId);
            return;
        }
        event(store, nodeId, event, false, message);
    }

    /** Tells listeners of an event already written. */
    void notify(EventRecord stored) {
        ctx.notifyListeners(stored);
    }

    /**
     * Starts a node's server and waits until it accepts connections, trying to connect
     * every few milliseconds (pg_ctl's own wait checks every 100 ms).
     *
     * @throws ReplicationException {@code code} when the server stops on its way up, or is not
     *     up within {@code timeout}; with the end of its log
     */
    void startAndAwait(io.repmgr4j.core.host.PgControl control, NodeRecord node, Duration timeout, ErrorCode code) {
        if (!control.startNoWait(timeout)) {
            return;
        }
        long started = System.nanoTime();
        long deadline = started + timeout.toNanos();
        boolean seenRunning = false;
        for (int attempt = 1; ; attempt++) {
            try (Connection c = ctx.connect(node.conninfo(), Duration.ofSeconds(2))) {
                return;
            } catch (ReplicationException | SQLException e) {
                boolean late = System.nanoTime() > deadline;
                boolean stopped = false;
                if (!late && attempt % 10 == 0) {
                    // pg_ctl start -W returns before the postmaster writes postmaster.pid: on a busy
                    // host "not running" means stopped only once it ran, or after a grace period
                    boolean running = control.isRunning();
                    seenRunning |= running;
                    stopped = !running && (seenRunning || System.nanoTime() - started > START_GRACE.toNanos());
                }
                if (late || stopped) {
                    throw new ReplicationException(code, "the server of " + node.describe()
                            + (late ? " does not accept connections " + seconds(timeout) + " after its start" : " stopped while starting"),
                            control.serverLogTail(5).map(t -> "its server log ends with:\n" + t).orElse(e.getMessage()),
                            "see the server log " + control.serverLogFile() + " on " + control.runner().describe());
                }
            }
            // a standby usually accepts connections within tens of milliseconds: poll closely at first
            sleep(System.nanoTime() - started < FAST_START_POLLING.toNanos() ? Duration.ofMillis(10) : ATTACH_POLL.dividedBy(2), code);
        }
    }

    /** Sleeps, turning an interrupt into an error with {@code code}. */
    static void sleep(Duration d, ErrorCode code) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ReplicationException(code, "interrupted");
        }
    }

    static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : String.format("%.1f s", d.toMillis() / 1000.0);
    }
}
