package io.repmgr4j.core;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.EventRecord;
import io.repmgr4j.Events;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.NodeType;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.spi.MetadataStore;
import io.repmgr4j.sql.MetadataSchemas;
import io.repmgr4j.sql.ServerProbe;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * primary register / unregister and standby register / unregister: each checks first,
 * then writes the node record and its event in one transaction on the primary, so a
 * refused or failed registration changes nothing. Thread-safe (stateless apart from the
 * shared context).
 */
final class Registration {
    private static final Logger LOG = LoggerFactory.getLogger(Registration.class);

    /** The longest a registration waits for the standbys to confirm a new synchronous setting. */
    private static final Duration SYNC_BUDGET = Duration.ofSeconds(5);

    private final ClusterContext ctx;

    Registration(ClusterContext ctx) {
        this.ctx = ctx;
    }

    NodeRecord registerPrimary(NodeConfig config, boolean force) {
        return registerPrimary(config, force, false);
    }

    NodeRecord registerPrimary(NodeConfig config, boolean force, boolean extensionFree) {
        // bound to the handle only once registered: a refusal leaves the handle as it was
        ConnInfo target = config.conninfo();
        LOG.info("connecting to primary database {}", target.hosts());
        try (Connection conn = ctx.connect(target)) {
            if (ServerProbe.isInRecovery(conn)) {
                throw new ReplicationException(ErrorCode.BAD_CONFIG,
                        "server " + target.hosts() + " is in recovery (a standby) and cannot be registered as a primary",
                        "only a server that accepts writes can be the primary",
                        "register it as a standby, or promote it first");
            }
            MetadataSchemas.Installed schema = MetadataSchemas.install(conn, extensionFree);
            boolean created = schema.created();
            if (schema.byExtension() && !schema.extensionLibraryLoaded()) {
                LOG.info("the metadata is the repmgr extension's; shared_preload_libraries lacks 'repmgr', so a real repmgrd"
                        + " cannot run on this server (repmgr4j's daemons do not need it)");
            }
            MetadataStore store = ctx.storeOn(target);
            NodeRecord record = NodeRecord.from(config, NodeType.PRIMARY, OptionalInt.empty());
            NodeRecord stored;
            try {
                stored = store.inTransaction(tx -> {
                    checkName(tx, config);
                    Optional<NodeRecord> existing = tx.node(config.nodeId());
                    if (existing.isPresent() && !force) {
                        throw new ReplicationException(ErrorCode.BAD_CONFIG,
                                "node ID " + config.nodeId() + " is already registered",
                                "the record belongs to " + existing.get().describe() + ", a " + existing.get().type().sqlName(),
                                "use force to overwrite the record");
                    }
                    for (NodeRecord other : tx.nodes()) {
                        if (other.nodeId() != config.nodeId() && other.type() == NodeType.PRIMARY && other.active()) {
                            if (!force) {
                                throw new ReplicationException(ErrorCode.BAD_CONFIG,
                                        "there is already an active registered primary, " + other.describe(),
                                        "a cluster has one primary",
                                        "unregister it first, or use force to mark it inactive");
                            }
                            tx.updateNode(NodeRecord.builder().from(other).active(false).build());
                        }
                    }
                    if (existing.isPresent()) {
                        tx.updateNode(record);
                    } else {
                        tx.insertNode(record);
                    }
                    if (tx.votingTerm() < 1) {
                        tx.setVotingTerm(1);
                    }
                    return record;
                });
            } catch (ReplicationException e) {
                ctx.recordFailure(store, event(config.nodeId(), Events.PRIMARY_REGISTER, false, e.getMessage()));
                throw e;
            }
            ctx.bind(config);
            if (created) {
                ctx.notifyListeners(store.appendEvent(event(config.nodeId(), Events.CLUSTER_CREATED, true, null)));
            }
            ctx.notifyListeners(store.appendEvent(event(config.nodeId(), Events.PRIMARY_REGISTER, true,
                    force ? "existing primary record updated (force was used)" : null)));
            ctx.rememberPrimary(target);
            LOG.info("primary node record (ID: {}) registered", config.nodeId());
            return stored;
        } catch (SQLException e) {
            throw new ReplicationException(ErrorCode.DB_QUERY, "could not register the primary", e.getMessage(), null, e);
        }
    }

    /**
     * Registers a standby.
     *
     * @param configureSync whether to configure the primary's synchronous standbys afterwards
     *                      when the library manages them (false: the caller runs that as a step of its own)
     */
    NodeRecord registerStandby(NodeConfig config, OptionalInt upstreamId, boolean force, Optional<Duration> waitAttached,
                               boolean configureSync) {
        // bound to the handle only once registered: a refusal leaves the handle as it was
        ConnInfo target = config.conninfo();
        LOG.info("connecting to local node \"{}\" (ID: {})", config.nodeName(), config.nodeId());
        try (Connection conn = ctx.connect(target)) {
            if (!ServerProbe.isInRecovery(conn)) {
                throw new ReplicationException(ErrorCode.BAD_CONFIG,
                        "server " + target.hosts() + " is not in recovery and cannot be registered as a standby",
                        "the server accepts writes, so it is a primary",
                        "register it as the primary, or clone a standby into a new data directory");
            }
        } catch (SQLException e) {
            throw new ReplicationException(ErrorCode.DB_QUERY, "could not check node \"" + config.nodeName() + "\"", e.getMessage(), null, e);
        }
        ConnInfo primary = ctx.locatePrimary(target);
        MetadataStore store = ctx.storeOn(primary);
        List<NodeRecord> nodes = store.nodes();
        NodeRecord upstream;
        try {
            upstream = resolveUpstream(nodes, config, upstreamId);
            checkName(nodes, config);
            Optional<NodeRecord> existing = nodes.stream().filter(n -> n.nodeId() == config.nodeId()).findFirst();
            if (existing.isPresent() && !force) {
                throw new ReplicationException(ErrorCode.BAD_CONFIG,
                        "node ID " + config.nodeId() + " is already registered",
                        "the record belongs to " + existing.get().describe() + ", a " + existing.get().type().sqlName(),
                        "use force to overwrite the record");
            }
            if (existing.isPresent() && existing.get().type() == NodeType.PRIMARY && existing.get().active()) {
                throw new ReplicationException(ErrorCode.BAD_CONFIG,
                        "node ID " + config.nodeId() + " is registered as the active primary",
                        "overwriting it would leave the cluster without a primary record",
                        "promote another node or unregister the primary first");
            }
            if (waitAttached.isPresent()) {
                Attachment.await(ctx, target, config.nodeName(), upstream.conninfo(), waitAttached.get());
            }
        } catch (ReplicationException e) {
            ctx.recordFailure(store, event(config.nodeId(), Events.STANDBY_REGISTER, false, e.getMessage()));
            throw e;
        }
        NodeRecord record = NodeRecord.from(config, NodeType.STANDBY, OptionalInt.of(upstream.nodeId()));
        String details = "standby registration succeeded; upstream node ID is " + upstream.nodeId()
                + (force ? " (-F/--force option was used)" : "");
        EventRecord stored = store.inTransaction(tx -> {
            if (tx.node(config.nodeId()).isPresent()) {
                tx.updateNode(record);
            } else {
                tx.insertNode(record);
            }
            return tx.appendEvent(event(config.nodeId(), Events.STANDBY_REGISTER, true, details));
        });
        ctx.bind(config);
        ctx.notifyListeners(stored);
        LOG.info("standby node \"{}\" (ID: {}) successfully registered", config.nodeName(), config.nodeId());
        if (configureSync) {
            SyncStep.afterMembershipChange(ctx, primary, SYNC_BUDGET);
        }
        return record;
    }

    static NodeRecord resolveUpstream(List<NodeRecord> nodes, NodeConfig config, OptionalInt upstreamId) {
        if (upstreamId.isPresent()) {
            int id = upstreamId.getAsInt();
            if (id == config.nodeId()) {
                throw new ReplicationException(ErrorCode.BAD_CONFIG, "a node cannot be its own upstream",
                        "upstream node ID " + id + " is the node being registered", "name the primary or another standby");
            }
            NodeRecord up = nodes.stream().filter(n -> n.nodeId() == id).findFirst().orElseThrow(() ->
                    new ReplicationException(ErrorCode.BAD_CONFIG, "upstream node ID " + id + " is not registered",
                            "registered node IDs: " + nodes.stream().map(n -> String.valueOf(n.nodeId())).toList(),
                            "register the upstream node first, or name a registered one"));
            if (!up.active()) {
                throw new ReplicationException(ErrorCode.BAD_CONFIG, "upstream " + up.describe() + " is inactive",
                        "an inactive node is one whose failure was recorded", "name an active upstream node");
            }
            if (up.type() == NodeType.WITNESS) {
                throw new ReplicationException(ErrorCode.BAD_CONFIG, "upstream " + up.describe() + " is a witness",
                        "a witness server does not stream WAL to standbys", "name the primary or a standby");
            }
            return up;
        }
        return nodes.stream().filter(n -> n.type() == NodeType.PRIMARY && n.active()).findFirst().orElseThrow(() ->
                new ReplicationException(ErrorCode.BAD_CONFIG, "no active primary is registered",
                        null, "register the primary first"));
    }

    private static void checkName(MetadataStore tx, NodeConfig config) {
        checkName(tx.nodes(), config);
    }

    static void checkName(List<NodeRecord> nodes, NodeConfig config) {
        for (NodeRecord n : nodes) {
            if (n.nodeName().equals(config.nodeName()) && n.nodeId() != config.nodeId()) {
                throw new ReplicationException(ErrorCode.BAD_CONFIG,
                        "node name \"" + config.nodeName() + "\" is already registered with node ID " + n.nodeId(),
                        "node names must be unique in a cluster",
                        "choose another node_name, or unregister node " + n.nodeId() + " first");
            }
        }
        DuplicateServerCheck.check(nodes, config);
    }

    NodeRecord unregister(int nodeId, NodeType expected, boolean force) {
        ConnInfo primary = ctx.locatePrimary();
        MetadataStore store = ctx.storeOn(primary);
        String eventName = expected == NodeType.PRIMARY ? Events.PRIMARY_UNREGISTER : Events.STANDBY_UNREGISTER;
        NodeRecord record;
        try {
            record = store.node(nodeId).orElseThrow(() -> new ReplicationException(ErrorCode.BAD_CONFIG,
                    "node ID " + nodeId + " is not registered", null, "list the registered nodes with cluster show"));
            if (record.type() != expected) {
                throw new ReplicationException(ErrorCode.BAD_CONFIG,
                        record.describe() + " is a " + record.type().sqlName() + ", not a " + expected.sqlName(),
                        null, "use the unregister operation for its role");
            }
            List<NodeRecord> children = store.nodes().stream()
                    .filter(n -> n.upstreamNodeId().isPresent() && n.upstreamNodeId().getAsInt() == nodeId).toList();
            if (!children.isEmpty()) {
                throw new ReplicationException(ErrorCode.BAD_CONFIG,
                        record.describe() + " is the upstream of " + children.stream().map(NodeRecord::describe).toList(),
                        "removing it would leave their records pointing at nothing",
                        "unregister those nodes, or make them follow another node, first");
            }
            if (expected == NodeType.PRIMARY && record.active() && !force && ctx.isRunningPrimary(record.conninfo())) {
                throw new ReplicationException(ErrorCode.BAD_CONFIG,
                        record.describe() + " is an active primary and is running",
                        "unregistering the running primary would leave the cluster without one",
                        "stop it or promote another node first, or use force");
            }
        } catch (ReplicationException e) {
            ctx.recordFailure(store, event(nodeId, eventName, false, e.getMessage()));
            throw e;
        }
        EventRecord stored = store.inTransaction(tx -> {
            if (!tx.deleteNode(nodeId)) {
                throw new ReplicationException(ErrorCode.BAD_CONFIG, "node ID " + nodeId + " was unregistered meanwhile", null, null);
            }
            return tx.appendEvent(event(nodeId, eventName, true, null));
        });
        ctx.notifyListeners(stored);
        LOG.info("node {} unregistered", nodeId);
        if (expected == NodeType.STANDBY) {
            SyncStep.afterMembershipChange(ctx, primary, SYNC_BUDGET);
        }
        return record;
    }

    static EventRecord event(int nodeId, String name, boolean ok, String details) {
        return EventRecord.builder().nodeId(nodeId).event(name).successful(ok).details(Optional.ofNullable(details)).build();
    }
}
