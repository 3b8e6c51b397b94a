package io.repmgr4j.core.daemon;

import io.repmgr4j.NodeConfig;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.NodeType;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.spi.MetadataStore;
import io.repmgr4j.sql.JdbcMetadataStore;
import io.repmgr4j.sql.RecoveryProgress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon's work on a witness node: each cycle it copies the node records and the
 * voting term from the primary to the witness's own server ({@link WitnessCopy}) over a
 * kept connection, and reports whether it reached the primary (published as its
 * upstream last seen, so the standbys' elections can count what the witness sees). When
 * the recorded primary is gone or no longer writable, it looks for the one running
 * primary among the nodes. A witness never fails over and is never fenced. Used by the
 * daemon's monitoring thread only.
 */
final class WitnessSync implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WitnessSync.class);

    private final NodeConfig self;
    private final ClusterAccess access;
    private final Duration timeout;
    private KeptConnection primary;
    private NodeRecord primaryRecord;

    /** What one cycle found: the primary it follows (0: none) and whether it was reached. */
    record Outcome(int primaryId, boolean reached) {
    }

    WitnessSync(NodeConfig self, ClusterAccess access, Duration timeout) {
        this.self = self;
        this.access = access;
        this.timeout = timeout;
    }

    /** Whether this node is registered as a witness in {@code nodes}. */
    static boolean isWitness(List<NodeRecord> nodes, int selfId) {
        return nodes.stream().anyMatch(n -> n.nodeId() == selfId && n.type() == NodeType.WITNESS);
    }

    Outcome cycle(List<NodeRecord> nodes, MetadataStore local, Supplier<Optional<NodeRecord>> runningPrimary) {
        NodeRecord p = nodes.stream().filter(n -> n.type() == NodeType.PRIMARY && n.active()).findFirst().orElse(null);
        if (p != null && (primaryRecord == null || primaryRecord.nodeId() != p.nodeId())) {
            target(p);
        }
        if (primaryRecord != null && copy(local)) {
            return new Outcome(primaryRecord.nodeId(), true);
        }
        Optional<NodeRecord> found = runningPrimary.get();
        if (found.isPresent()) {
            target(found.get());
            if (copy(local)) {
                LOG.info("[{}] witness now copies the metadata from {}", self.nodeName(), found.get().describe());
                return new Outcome(found.get().nodeId(), true);
            }
        }
        return new Outcome(primaryRecord == null ? 0 : primaryRecord.nodeId(), false);
    }

    private void target(NodeRecord p) {
        if (primary != null) {
            primary.close();
        }
        primaryRecord = p;
        primary = new KeptConnection(() -> access.connect(p.conninfo().with("application_name",
                "repmgr4j-daemon-" + self.nodeId()), timeout, timeout));
    }

    private boolean copy(MetadataStore local) {
        try {
            if (RecoveryProgress.read(primary.get()).inRecovery()) {
                return false;
            }
            WitnessCopy.refresh(JdbcMetadataStore.of(primary.asSource()), local);
            return true;
        } catch (ReplicationException e) {
            primary.reset();
            LOG.debug("[{}] could not copy the metadata from {}: {}", self.nodeName(), primaryRecord.describe(), e.getMessage());
            return false;
        }
    }

    @Override
    public void close() {
        if (primary != null) {
            primary.close();
        }
    }

    void abort() {
        if (primary != null) {
            primary.abort();
        }
    }
}
