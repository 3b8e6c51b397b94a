package io.repmgr4j.core.daemon;

import io.repmgr4j.ErrorCode;
import io.repmgr4j.ImmutableNodeServiceStatus;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.sql.RepmgrdShared;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The real repmgrd's side of {@code service pause} and {@code service status}: sets and
 * reads the repmgr extension's pause flag and daemon state on each node where the
 * extension's library is loaded, so that one pause covers both kinds of daemon. Nodes
 * without the extension (or without its library) have no repmgrd and are left alone.
 * A static utility; thread-safe.
 */
final class RealRepmgrdPause {
    private static final Logger LOG = LoggerFactory.getLogger(RealRepmgrdPause.class);

    private RealRepmgrdPause() {
    }

    /**
     * Sets repmgrd's pause flag on every node whose server has the extension loaded.
     *
     * @return the nodes whose repmgrd flag was set
     * @throws ReplicationException {@code REPMGRD_PAUSE} when the extension is installed and
     *     some node could not be reached or refused: a repmgrd there may still fail over
     *     (repmgr4j's own flag is set already; the message names the nodes)
     */
    static List<NodeRecord> apply(ClusterAccess access, List<NodeRecord> nodes, boolean paused, String appName) {
        List<NodeRecord> done = new ArrayList<>();
        List<String> failed = new ArrayList<>();
        boolean anyExtension = false;
        for (NodeRecord n : nodes) {
            try (Connection c = access.connect(n.conninfo().with("application_name", appName), Duration.ofSeconds(2),
                    Duration.ofSeconds(5))) {
                RepmgrdShared.Presence p = RepmgrdShared.pause(c, paused);
                if (p != RepmgrdShared.Presence.NO_EXTENSION) {
                    anyExtension = true;
                }
                if (p == RepmgrdShared.Presence.LOADED) {
                    done.add(n);
                    LOG.info("repmgrd on node {} ({}) {}", n.nodeId(), n.nodeName(), paused ? "paused" : "unpaused");
                }
            } catch (SQLException | ReplicationException e) {
                failed.add(n.describe() + " (" + e.getMessage() + ")");
            }
        }
        if (anyExtension && !failed.isEmpty()) {
            String verb = paused ? "pause" : "unpause";
            throw new ReplicationException(ErrorCode.REPMGRD_PAUSE, "unable to " + verb + " repmgrd on " + failed.size()
                    + " node(s): " + String.join(", ", failed),
                    "the cluster has the repmgr extension, so a real repmgrd may run on those nodes; repmgr4j's own daemons are "
                            + (paused ? "paused" : "unpaused") + (done.isEmpty() ? "" : ", and so is repmgrd on "
                            + done.stream().map(NodeRecord::describe).toList()),
                    "make the nodes reachable and " + verb + " again, or stop repmgrd there");
        }
        return done;
    }

    /**
     * Fills a service-status row from repmgrd's shared state when the extension is loaded
     * on the node's server (pid, running, paused, upstream last seen); false, leaving the
     * row alone, when it is not.
     */
    static boolean describe(Connection c, ImmutableNodeServiceStatus.Builder b) {
        RepmgrdShared.State s = RepmgrdShared.read(c);
        if (s.presence() != RepmgrdShared.Presence.LOADED) {
            return false;
        }
        b.daemonRunning(s.running());
        s.pid().ifPresent(pid -> b.daemonPid(OptionalLong.of(pid)));
        b.paused(s.paused());
        if (s.running()) {
            s.upstreamLastSeenSecs().ifPresent(secs -> b.upstreamLastSeen(Duration.ofSeconds(secs)));
        }
        return true;
    }
}
