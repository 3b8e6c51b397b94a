package io.repmgr4j.core;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.sql.DaemonStateTable;
import io.repmgr4j.sql.RepmgrdShared;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pauses every failover daemon a topology operation (switchover, promote) knows of, of
 * both kinds, for the operation's duration, as repmgr's own switchover pauses repmgrd:
 * <ul>
 *   <li>a real repmgrd: on each reachable node whose server has the repmgr extension
 *       loaded and a repmgrd running that is not paused already, the extension's pause
 *       flag ({@code repmgr.repmgrd_pause(true)}, in the node's shared memory, so it works
 *       on a standby and with the primary gone);</li>
 *   <li>repmgr4j's daemons: the pause flag of every node not paused already, in
 *       {@code repmgr4j.daemon_state} on the primary, when a primary is reachable and the
 *       table exists (a daemon has run). With no primary (a promote after a failure) the
 *       flag cannot be written; repmgr4j's daemons then stand aside because the
 *       operation holds the cluster-wide topology lock, which they check before any
 *       failover.</li>
 * </ul>
 * {@link #close()} unpauses exactly those it paused (never a daemon that was paused
 * before), also after a failure; the repmgr4j flags are cleared on whichever node is the
 * primary by then. Failures to pause or unpause are logged and named in
 * {@link #problems()}, never thrown: the operation's own checks decide. Not thread-safe;
 * one per operation run.
 */
final class OperationPause implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(OperationPause.class);
    private static final String APP = "repmgr4j-operation-pause";

    private final ClusterContext ctx;
    private final String operation;
    private final List<NodeRecord> realPaused = new ArrayList<>();
    private final List<Integer> flagsPaused = new ArrayList<>();
    private final List<String> problems = new ArrayList<>();
    private boolean closed;

    private OperationPause(ClusterContext ctx, String operation) {
        this.ctx = ctx;
        this.operation = operation;
    }

    /** Pauses the daemons of {@code nodes} for {@code operation} (a name for the log). */
    static OperationPause pause(ClusterContext ctx, List<NodeRecord> nodes, String operation) {
        OperationPause p = new OperationPause(ctx, operation);
        for (NodeRecord n : nodes) {
            try (Connection c = ctx.connect(n.conninfo().with("application_name", APP))) {
                RepmgrdShared.State s = RepmgrdShared.read(c);
                if (s.repmgrdRunning() && !s.paused()) {
                    RepmgrdShared.pause(c, true);
                    p.realPaused.add(n);
                    LOG.info("{}: repmgrd on {} paused", operation, n.describe());
                }
            } catch (SQLException | ReplicationException e) {
                p.problems.add("could not check repmgrd on " + n.describe() + ": " + e.getMessage());
            }
        }
        try {
            ConnInfo primary = ctx.locatePrimary();
            try (Connection c = ctx.connect(primary.with("application_name", APP))) {
                if (DaemonStateTable.present(c)) {
                    Map<Integer, Boolean> flags = DaemonStateTable.pausedFlags(c);
                    List<Integer> ids = nodes.stream().map(NodeRecord::nodeId).filter(id -> !flags.getOrDefault(id, false)).toList();
                    if (!ids.isEmpty()) {
                        DaemonStateTable.setPaused(c, ids, true);
                        p.flagsPaused.addAll(ids);
                        LOG.info("{}: repmgr4j daemons of nodes {} paused", operation, ids);
                    }
                }
            }
        } catch (SQLException | ReplicationException e) {
            p.problems.add("repmgr4j's pause flags not set (the topology lock still holds the daemons back): " + e.getMessage());
        }
        p.problems.forEach(m -> LOG.warn("{}: {}", operation, m));
        return p;
    }

    /** Nodes whose real repmgrd this pause paused. */
    List<NodeRecord> repmgrdPaused() {
        return List.copyOf(realPaused);
    }

    /** Nodes whose repmgr4j pause flag this pause set. */
    List<Integer> flagsPaused() {
        return List.copyOf(flagsPaused);
    }

    /** What could not be paused or unpaused. */
    List<String> problems() {
        return List.copyOf(problems);
    }

    /** Unpauses what {@link #pause} paused; idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (NodeRecord n : realPaused) {
            try (Connection c = ctx.connect(n.conninfo().with("application_name", APP))) {
                RepmgrdShared.pause(c, false);
                LOG.info("{}: repmgrd on {} unpaused", operation, n.describe());
            } catch (SQLException | ReplicationException e) {
                problems.add("could not unpause repmgrd on " + n.describe() + ": " + e.getMessage()
                        + "; run repmgr service unpause");
                LOG.warn("{}: {}", operation, problems.get(problems.size() - 1));
            }
        }
        if (!flagsPaused.isEmpty()) {
            try {
                ConnInfo primary = ctx.locatePrimary();
                try (Connection c = ctx.connect(primary.with("application_name", APP))) {
                    DaemonStateTable.setPaused(c, flagsPaused, false);
                    LOG.info("{}: repmgr4j daemons of nodes {} unpaused", operation, flagsPaused);
                }
            } catch (SQLException | ReplicationException e) {
                problems.add("could not unpause the repmgr4j daemons of nodes " + flagsPaused + ": " + e.getMessage()
                        + "; run cluster.unpauseDaemons()");
                LOG.warn("{}: {}", operation, problems.get(problems.size() - 1));
            }
        }
    }
}
