package io.repmgr4j.core.daemon;

import io.repmgr4j.NodeRecord;
import io.repmgr4j.SynchronousRecord;
import io.repmgr4j.core.sync.SyncGate;
import io.repmgr4j.sql.SyncStateTable;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The synchronous record's part in a failover, between {@link NodeMonitor} and the pure
 * {@link SyncGate}: reads the record from this node and from every visible sibling (the
 * newest generation wins), and tells which participants the election must leave out, or
 * that none may be promoted. Remembers the last blocking reason so that the event is
 * recorded once and the daemon keeps trying. Used by the monitoring thread only; not
 * thread-safe.
 */
final class SyncElection {
    private static final Logger LOG = LoggerFactory.getLogger(SyncElection.class);

    private String blockedReason;

    /** The reason of the last blocked failover, while the daemon keeps trying; null otherwise. */
    String blockedReason() {
        return blockedReason;
    }

    void clear() {
        blockedReason = null;
    }

    /**
     * @param local this node's server
     * @param open opens a connection to a sibling (bounded by the check timeout)
     * @return the verdict; {@code verdict.blocked()} with a new reason means: record the event
     */
    SyncGate.Verdict judge(Connection local, NodeRecord failed, Election.Participant self, List<Election.Participant> siblings,
                           List<NodeRecord> siblingRecords, Function<NodeRecord, Connection> open) {
        List<Optional<SynchronousRecord>> copies = new ArrayList<>();
        try {
            copies.add(SyncStateTable.read(local));
        } catch (RuntimeException e) {
            LOG.debug("could not read the local synchronous record: {}", e.getMessage());
        }
        if (copies.stream().allMatch(Optional::isEmpty)) {
            return new SyncGate.Verdict(false, java.util.Set.of(), "no synchronous record");
        }
        for (Election.Participant p : siblings) {
            if (!p.visible()) {
                continue;
            }
            NodeRecord n = siblingRecords.stream().filter(r -> r.nodeId() == p.nodeId()).findFirst().orElse(null);
            if (n == null) {
                continue;
            }
            try (Connection c = open.apply(n)) {
                copies.add(SyncStateTable.read(c));
            } catch (SQLException | RuntimeException e) {
                LOG.debug("could not read the synchronous record of {}: {}", n.describe(), e.getMessage());
            }
        }
        List<SyncGate.Voter> voters = new ArrayList<>();
        voters.add(new SyncGate.Voter(self.nodeId(), self.nodeName(), true, self.lsn()));
        for (Election.Participant p : siblings) {
            voters.add(new SyncGate.Voter(p.nodeId(), p.nodeName(), p.visible(), p.lsn()));
        }
        return SyncGate.judge(SyncGate.newest(copies), failed.nodeId(), voters);
    }

    /** Marks a blocked failover; true when the reason is new (record the event then). */
    boolean block(String reason) {
        boolean fresh = !reason.equals(blockedReason);
        blockedReason = reason;
        return fresh;
    }
}
