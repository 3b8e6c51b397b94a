package io.repmgr4j.core;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.sql.ServerProbe;
import io.repmgr4j.sql.WalReceiverStatus;
import io.repmgr4j.sql.ReplicationClient;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Optional;

/**
 * Decides whether a standby streams from a given upstream: from the standby's own WAL
 * receiver (sender host and port), else from the upstream's pg_stat_replication (the
 * standby's application_name). Stateless; thread-safe.
 */
final class Attachment {
    private Attachment() {
    }

    /** Checks on the standby's connection whether its WAL receiver streams from {@code upstream}. */
    static boolean streamsFrom(Connection standby, ConnInfo upstream) throws SQLException {
        return ServerProbe.walReceiver(standby).map(wr -> matches(wr, upstream)).orElse(false);
    }

    /** True when a WAL receiver is streaming from the upstream's first host and port. */
    static boolean matches(WalReceiverStatus wr, ConnInfo upstream) {
        if (!wr.status().map("streaming"::equals).orElse(false)) {
            return false;
        }
        ConnInfo.HostPort up = upstream.hosts().get(0);
        return wr.senderPort().isPresent() && wr.senderPort().getAsInt() == up.port()
                && wr.senderHost().map(h -> io.repmgr4j.core.host.Hosts.sameHost(h, up.host())).orElse(false);
    }

    /** Checks on the upstream's connection whether it streams to a client with this application_name. */
    static boolean servesTo(Connection upstream, String applicationName) throws SQLException {
        return ServerProbe.replicationClients(upstream).stream()
                .anyMatch(c -> applicationName.equals(c.applicationName()) && c.state().map("streaming"::equals).orElse(false));
    }

    /** Whether the standby streams from the upstream, asking the standby first and the upstream second. */
    static boolean isAttached(ClusterContext ctx, ConnInfo standby, String nodeName, ConnInfo upstream) {
        try (Connection c = ctx.connect(standby)) {
            if (streamsFrom(c, upstream)) {
                return true;
            }
        } catch (ReplicationException | SQLException e) {
            return false;
        }
        try (Connection c = ctx.connect(upstream)) {
            return servesTo(c, nodeName);
        } catch (ReplicationException | SQLException e) {
            return false;
        }
    }

    /** Waits until the standby streams from the upstream, polling; fails after {@code timeout}. */
    static void await(ClusterContext ctx, ConnInfo standby, String nodeName, ConnInfo upstream, Duration timeout) {
        await(ctx, standby, nodeName, upstream, timeout, Duration.ofMillis(200));
    }

    /** Waits until the standby streams from the upstream, polling every {@code poll}; fails after {@code timeout}. */
    static void await(ClusterContext ctx, ConnInfo standby, String nodeName, ConnInfo upstream, Duration timeout,
                      Duration poll) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (isAttached(ctx, standby, nodeName, upstream)) {
                return;
            }
            if (System.nanoTime() >= deadline) {
                throw new ReplicationException(ErrorCode.NODE_STATUS,
                        "node \"" + nodeName + "\" is not streaming from its upstream " + upstream.hosts()
                                + " after " + timeout.toSeconds() + " s",
                        "neither the standby's WAL receiver nor the upstream's pg_stat_replication shows the connection",
                        "check primary_conninfo on the standby and the upstream's pg_hba.conf, or wait longer");
            }
            try {
                Thread.sleep(poll.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ReplicationException(ErrorCode.NODE_STATUS, "interrupted while waiting for node \"" + nodeName + "\" to attach");
            }
        }
    }
}
