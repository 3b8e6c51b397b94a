package io.repmgr4j.core.daemon;

import io.repmgr4j.DaemonMode;
import io.repmgr4j.sql.RepmgrdShared;
import java.sql.Connection;
import java.util.Optional;

/**
 * A real repmgrd seen as a sibling in an election: where a node's server has no repmgr4j
 * daemon session but the repmgr extension's shared memory shows a running repmgrd, that
 * repmgrd is taken as a daemon with failover=automatic (repmgrd's own election ranks nodes
 * by the same rule: receive LSN, priority, node id), its pause flag, its upstream and how
 * long ago it saw it. So a repmgr4j daemon waits for a better-ranked node whose repmgrd
 * will promote it instead of promoting itself, and both kinds promote the same node. If
 * that repmgrd does not promote (failover=manual, say), the election's usual wait for a
 * winner runs out and the node is excluded. A static utility; thread-safe.
 */
final class RepmgrdBeacon {
    private RepmgrdBeacon() {
    }

    /** The beacon standing for the repmgrd beside this server, if one runs there. */
    static Optional<Beacon> read(Connection c, int nodeId) {
        try {
            RepmgrdShared.State s = RepmgrdShared.read(c);
            if (!s.repmgrdRunning()) {
                return Optional.empty();
            }
            long seen = s.upstreamLastSeenSecs().isPresent() ? s.upstreamLastSeenSecs().getAsInt() * 1000L : -1;
            return Optional.of(new Beacon(nodeId, s.upstreamNodeId().orElse(0), s.paused(), true, seen, DaemonMode.MONITORING,
                    0, s.pid().orElse(-1)));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }
}
