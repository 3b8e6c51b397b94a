package io.repmgr4j.core.daemon;

import io.repmgr4j.NodeRecord;
import io.repmgr4j.spi.MetadataStore;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Copies the cluster's metadata from the primary to a witness server (which is outside
 * replication and so holds its own copy): the node records and the voting term, in one
 * transaction on the witness, so a reader never sees half a copy. Events and monitoring
 * history stay on the primary. Internal (used by witness registration and the witness's
 * daemon); stateless; thread-safe.
 */
public final class WitnessCopy {
    private WitnessCopy() {
    }

    /** Makes {@code witness}'s node records and voting term those of {@code primary}; returns the records copied. */
    public static List<NodeRecord> refresh(MetadataStore primary, MetadataStore witness) {
        List<NodeRecord> nodes = primary.nodes();
        int term = primary.votingTerm();
        witness.inTransaction(tx -> {
            Set<Integer> keep = new HashSet<>();
            for (NodeRecord n : nodes) {
                keep.add(n.nodeId());
            }
            List<NodeRecord> there = tx.nodes();
            Set<Integer> present = new HashSet<>();
            for (NodeRecord n : there) {
                if (!keep.contains(n.nodeId())) {
                    tx.deleteNode(n.nodeId());
                } else {
                    present.add(n.nodeId());
                }
            }
            // upstreams first: a record may point at another one (foreign key)
            List<NodeRecord> ordered = new java.util.ArrayList<>(nodes);
            ordered.sort(java.util.Comparator.comparingInt(n -> n.upstreamNodeId().isPresent() ? 1 : 0));
            for (NodeRecord n : ordered) {
                if (present.contains(n.nodeId())) {
                    if (!there.contains(n)) {
                        tx.updateNode(n);
                    }
                } else {
                    tx.insertNode(n);
                }
            }
            if (tx.votingTerm() != term) {
                tx.setVotingTerm(term);
            }
            return null;
        });
        return nodes;
    }
}
