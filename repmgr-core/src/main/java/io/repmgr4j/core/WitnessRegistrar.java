package io.repmgr4j.core;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.EventRecord;
import io.repmgr4j.Events;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.NodeType;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.core.daemon.WitnessCopy;
import io.repmgr4j.spi.MetadataStore;
import io.repmgr4j.sql.SchemaInstaller;
import io.repmgr4j.sql.ServerProbe;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code repmgr witness register} / {@code witness unregister}: a witness is a PostgreSQL
 * server outside replication (its own system identifier, not in recovery) that holds a
 * copy of the metadata and counts in every quorum. Registering installs the schema on the
 * witness, writes its record (type witness, upstream the primary) on the primary and
 * copies the node records and voting term to the witness; the witness's daemon keeps the
 * copy fresh. Thread-safe.
 */
final class WitnessRegistrar {
    private static final Logger LOG = LoggerFactory.getLogger(WitnessRegistrar.class);

    private final ClusterContext ctx;

    WitnessRegistrar(ClusterContext ctx) {
        this.ctx = ctx;
    }

    NodeRecord register(NodeConfig config, boolean force) {
        ctx.bind(config);
        ConnInfo target = config.conninfo();
        ConnInfo primary = ctx.locatePrimary();
        MetadataStore store = ctx.storeOn(primary);
        NodeRecord record;
        try {
            long witnessId;
            try (Connection w = ctx.connect(target)) {
                if (ServerProbe.isInRecovery(w)) {
                    throw new ReplicationException(ErrorCode.BAD_CONFIG, "server " + target.hosts() + " is in recovery",
                            "a witness is a server of its own, outside replication",
                            "use a server that is not a standby of this cluster");
                }
                witnessId = ServerProbe.systemIdentifier(w);
                try (Connection p = ctx.connect(primary)) {
                    if (ServerProbe.systemIdentifier(p) == witnessId) {
                        throw new ReplicationException(ErrorCode.BAD_CONFIG, "server " + target.hosts()
                                + " is the cluster's primary (same system identifier)",
                                "a witness must be a separate server outside replication", "give the witness's own server");
                    }
                }
                SchemaInstaller.install(w);
            } catch (SQLException e) {
                throw new ReplicationException(ErrorCode.DB_CONN, "could not reach witness \"" + config.nodeName() + "\"",
                        target.maskIn(e.getMessage()), "check the witness's conninfo and that its server runs", e);
            }
            List<NodeRecord> nodes = store.nodes();
            Registration.checkName(nodes, config);
            Optional<NodeRecord> existing = nodes.stream().filter(n -> n.nodeId() == config.nodeId()).findFirst();
            if (existing.isPresent() && !(force && existing.get().type() == NodeType.WITNESS)) {
                throw new ReplicationException(ErrorCode.BAD_CONFIG, "node ID " + config.nodeId() + " is already registered",
                        "the record belongs to " + existing.get().describe() + ", a " + existing.get().type().sqlName(),
                        existing.get().type() == NodeType.WITNESS ? "use force to overwrite the record"
                                : "give the witness a node id of its own");
            }
            NodeRecord primaryRecord = nodes.stream().filter(n -> n.type() == NodeType.PRIMARY && n.active()).findFirst()
                    .orElseThrow(() -> new ReplicationException(ErrorCode.BAD_CONFIG, "no active primary is registered",
                            null, "register the primary first"));
            record = NodeRecord.builder().from(NodeRecord.from(config, NodeType.WITNESS,
                    OptionalInt.of(primaryRecord.nodeId()))).priority(0).build();
        } catch (ReplicationException e) {
            ctx.recordFailure(store, Registration.event(config.nodeId(), Events.WITNESS_REGISTER, false, e.getMessage()));
            throw e;
        }
        NodeRecord r = record;
        EventRecord stored = store.inTransaction(tx -> {
            if (tx.node(config.nodeId()).isPresent()) {
                tx.updateNode(r);
            } else {
                tx.insertNode(r);
            }
            return tx.appendEvent(Registration.event(config.nodeId(), Events.WITNESS_REGISTER, true,
                    "witness registration succeeded; upstream node ID is " + r.upstreamNodeId().getAsInt()));
        });
        WitnessCopy.refresh(store, ctx.storeOn(target));
        ctx.notifyListeners(stored);
        LOG.info("witness node \"{}\" (ID: {}) registered", config.nodeName(), config.nodeId());
        return record;
    }

    NodeRecord unregister(int nodeId) {
        ConnInfo primary = ctx.locatePrimary();
        MetadataStore store = ctx.storeOn(primary);
        NodeRecord record;
        try {
            record = store.node(nodeId).orElseThrow(() -> new ReplicationException(ErrorCode.BAD_CONFIG,
                    "node ID " + nodeId + " is not registered", null, "list the registered nodes with cluster show"));
            if (record.type() != NodeType.WITNESS) {
                throw new ReplicationException(ErrorCode.BAD_CONFIG, record.describe() + " is a " + record.type().sqlName()
                        + ", not a witness", null, "use the unregister operation for its role");
            }
        } catch (ReplicationException e) {
            ctx.recordFailure(store, Registration.event(nodeId, Events.WITNESS_UNREGISTER, false, e.getMessage()));
            throw e;
        }
        EventRecord stored = store.inTransaction(tx -> {
            tx.deleteNode(nodeId);
            return tx.appendEvent(Registration.event(nodeId, Events.WITNESS_UNREGISTER, true, null));
        });
        try {
            WitnessCopy.refresh(store, ctx.storeOn(record.conninfo()));
        } catch (ReplicationException e) {
            LOG.info("witness {} not reachable; its copy of the metadata was left as it was: {}", record.describe(),
                    e.getMessage());
        }
        ctx.notifyListeners(stored);
        return record;
    }
}
