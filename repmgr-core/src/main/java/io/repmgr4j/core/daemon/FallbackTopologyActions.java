package io.repmgr4j.core.daemon;

import io.repmgr4j.ErrorCode;
import io.repmgr4j.EventRecord;
import io.repmgr4j.Events;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.NodeType;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.core.host.RecoveryConfig;
import io.repmgr4j.spi.EventListener;
import io.repmgr4j.spi.MetadataStore;
import io.repmgr4j.sql.DaemonFallbackSql;
import io.repmgr4j.sql.ServerProbe;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The daemon's FALLBACK promote and follow, used until the topology operations of the
 * library (standby promote / standby follow) are available to the daemon: the minimum
 * a failover needs and nothing more.
 * <ul>
 *   <li>promote: {@code pg_promote(true, timeout)} on the node, then, on the new
 *       primary, its record becomes the primary's, the failed primary's record is marked
 *       inactive, and {@code standby_promote} is recorded;</li>
 *   <li>follow: the new upstream gets the node's replication slot when the node uses one;
 *       {@code primary_conninfo} (and {@code primary_slot_name}) are set with ALTER SYSTEM
 *       and the configuration reloaded (no restart on PostgreSQL 13+); the daemon waits
 *       until the node streams from the new upstream, then sets the record's upstream and
 *       records {@code standby_follow}.</li>
 * </ul>
 * Thread-safe.
 */
final class FallbackTopologyActions implements TopologyActions {
    private final ClusterAccess access;

    FallbackTopologyActions(ClusterAccess access) {
        this.access = access;
    }

    @Override
    public void promote(NodeConfig self, NodeRecord failedPrimary, Duration timeout, EventListener events) {
        try (Connection c = access.connect(self.conninfo(), Duration.ofSeconds(10), null)) {
            if (ServerProbe.isInRecovery(c)) {
                DaemonFallbackSql.promote(c, timeout);
            }
        } catch (SQLException e) {
            throw new ReplicationException(ErrorCode.PROMOTION_FAIL, "unable to promote node \"" + self.nodeName() + "\"",
                    e.getMessage(), null, e);
        } catch (ReplicationException e) {
            if (e.code() == ErrorCode.PROMOTION_FAIL) {
                throw e;
            }
            throw new ReplicationException(ErrorCode.PROMOTION_FAIL, "unable to promote node \"" + self.nodeName() + "\" (ID: "
                    + self.nodeId() + ")", e.getMessage() + e.detail().map(d -> ": " + d).orElse(""),
                    "check the node's server log", e);
        }
        MetadataStore store = access.storeOn(self.conninfo());
        store.inTransaction(tx -> {
            NodeRecord me = tx.node(self.nodeId()).orElseThrow(() -> new ReplicationException(ErrorCode.PROMOTION_FAIL,
                    "node " + self.nodeId() + " has no record in the metadata", null, "register the node"));
            tx.updateNode(NodeRecord.builder().from(me).type(NodeType.PRIMARY).upstreamNodeId(OptionalInt.empty())
                    .active(true).build());
            tx.node(failedPrimary.nodeId()).filter(NodeRecord::active)
                    .ifPresent(f -> tx.updateNode(NodeRecord.builder().from(f).active(false).build()));
            return null;
        });
        EventRecord e = store.appendEvent(EventRecord.builder().nodeId(self.nodeId()).event(Events.STANDBY_PROMOTE)
                .details("server \"" + self.nodeName() + "\" (ID: " + self.nodeId() + ") was successfully promoted to primary")
                .build());
        events.onEvent(e);
    }

    @Override
    public void follow(NodeConfig self, NodeRecord newUpstream, Duration timeout, EventListener events) {
        MetadataStore store = access.storeOn(newUpstream.conninfo());
        Optional<NodeRecord> me = store.node(self.nodeId());
        Optional<String> slot = me.flatMap(NodeRecord::slotName);
        try {
            if (slot.isPresent()) {
                try (Connection c = access.connect(newUpstream.conninfo(), Duration.ofSeconds(10), null)) {
                    DaemonFallbackSql.ensurePhysicalSlot(c, slot.get());
                }
            }
            String conninfo = RecoveryConfig.primaryConninfo(self, newUpstream.conninfo()).render();
            try (Connection c = access.connect(self.conninfo(), Duration.ofSeconds(10), null)) {
                DaemonFallbackSql.setPrimaryConninfo(c, conninfo, slot.orElse(""));
            }
            access.awaitAttached(self.conninfo(), self.nodeName(), newUpstream.conninfo(), timeout);
        } catch (SQLException | ReplicationException e) {
            String detail = e.getMessage() + (e instanceof ReplicationException r ? r.detail().map(d -> ": " + d).orElse("") : "");
            throw new ReplicationException(ErrorCode.FOLLOW_FAIL, "node \"" + self.nodeName() + "\" (ID: " + self.nodeId()
                    + ") could not follow " + newUpstream.describe(), detail,
                    "check that the new upstream accepts replication connections from this node", e);
        }
        me.ifPresent(r -> store.updateNode(NodeRecord.builder().from(r).upstreamNodeId(newUpstream.nodeId())
                .type(NodeType.STANDBY).active(true).build()));
        EventRecord e = store.appendEvent(EventRecord.builder().nodeId(self.nodeId()).event(Events.STANDBY_FOLLOW)
                .details("standby attached to upstream " + newUpstream.describe()).build());
        events.onEvent(e);
    }
}
