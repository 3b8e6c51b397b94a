package io.repmgr4j.core;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.TopologyNotice;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes a {@link TopologyNotice} ({@code NOTIFY repmgr4j_topology}) on the primary
 * after a role change: one statement, which notifies only when the server is not in
 * recovery, with its timeline and voting term read by the server itself. Best effort:
 * a notice that cannot be sent is logged, never an operation's failure (listeners poll
 * as well). Operations publish with {@link #publishLater}, off their own thread.
 * Stateless; thread-safe.
 */
final class TopologyNotifier {
    private static final Logger LOG = LoggerFactory.getLogger(TopologyNotifier.class);

    /** The payload as {@link TopologyNotice#payload()} writes it, built by the server. */
    private static final String SQL = "SELECT pg_catalog.pg_notify(?, json_build_object('v', " + TopologyNotice.VERSION
            + ", 'event', ?::text,"
            + " 'primary', COALESCE(NULLIF(?::int, 0), (SELECT n.node_id FROM repmgr.nodes n"
            + "     WHERE n.type = 'primary' AND n.active ORDER BY n.node_id LIMIT 1), 0),"
            + " 'timeline', ('x' || substr(pg_catalog.pg_walfile_name(pg_catalog.pg_current_wal_lsn()), 1, 8))::bit(32)::int,"
            + " 'term', COALESCE((SELECT t.term FROM repmgr.voting_term t LIMIT 1), 0))::text)"
            + " WHERE NOT pg_catalog.pg_is_in_recovery()";

    private TopologyNotifier() {
    }

    /**
     * {@link #publish} on the handle's probe threads, so that the operation that changed
     * the topology does not wait for its notice. Never throws.
     */
    static void publishLater(ClusterContext ctx, ConnInfo primary, int primaryNodeId, String event) {
        try {
            ctx.probePool().execute(() -> {
                try (OperationDeadline none = OperationDeadline.outside()) { // sent after the operation, not part of it
                    publish(ctx, primary, primaryNodeId, event);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            LOG.debug("topology notice {} not sent: the cluster handle is closing", event);
        }
    }

    /**
     * Notifies on {@code primary}.
     *
     * @param primaryNodeId the primary's node id, or 0 to take the active primary's record there
     * @param event {@code promote}, {@code follow} or {@code rejoin}
     * @return whether the notice was sent (false: the server is in recovery or did not answer)
     */
    static boolean publish(ClusterContext ctx, ConnInfo primary, int primaryNodeId, String event) {
        try (Connection c = ctx.connect(primary); PreparedStatement ps = c.prepareStatement(SQL)) {
            ps.setString(1, TopologyNotice.CHANNEL);
            ps.setString(2, event);
            ps.setInt(3, primaryNodeId);
            try (ResultSet rs = ps.executeQuery()) {
                boolean sent = rs.next();
                LOG.debug("topology notice {} on {}: {}", event, primary.host() + ":" + primary.port(),
                        sent ? "sent" : "not sent (in recovery)");
                return sent;
            }
        } catch (SQLException | RuntimeException e) {
            LOG.warn("could not publish the topology notice ({}) on {}:{}: {}", event, primary.host(), primary.port(),
                    primary.maskIn(e.getMessage()));
            return false;
        }
    }
}
