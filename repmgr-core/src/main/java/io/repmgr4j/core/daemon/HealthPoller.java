package io.repmgr4j.core.daemon;

import io.repmgr4j.NodeConfig;
import io.repmgr4j.NodeHealth;
import io.repmgr4j.ReplicationException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the local server's role, timeline, lag and metadata primary every
 * {@link #INTERVAL} on a thread of its own ({@code repmgr4j-daemon-<id>-health}), over one
 * kept connection, so that the health endpoints and metrics answer from memory within
 * microseconds and never wait for a monitoring cycle (which may be inside a failover).
 * Started on first use; {@link #close()} ends the thread and the connection. Thread-safe.
 */
final class HealthPoller implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(HealthPoller.class);

    /** How often the server is read. */
    static final Duration INTERVAL = Duration.ofMillis(100);

    private static final String SQL = "SELECT r,"
            + " CASE WHEN r THEN NULL ELSE ('x' || pg_catalog.substr(pg_catalog.pg_walfile_name(pg_catalog.pg_current_wal_lsn()),"
            + " 1, 8))::bit(32)::bigint END,"
            + " w.status, w.received_tli,"
            + " CASE WHEN r THEN pg_catalog.pg_wal_lsn_diff(GREATEST(w.latest_end_lsn, pg_catalog.pg_last_wal_receive_lsn()),"
            + " pg_catalog.pg_last_wal_replay_lsn()) END,"
            + " CASE WHEN r THEN CASE WHEN pg_catalog.pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_catalog.pg_last_wal_replay_lsn()"
            + " THEN 0 ELSE EXTRACT(epoch FROM pg_catalog.now() - pg_catalog.pg_last_xact_replay_timestamp()) END END,"
            + " (SELECT c.timeline_id FROM pg_catalog.pg_control_checkpoint() c),"
            + " (SELECT n.node_id FROM repmgr.nodes n WHERE n.type = 'primary' AND n.active ORDER BY n.node_id LIMIT 1)"
            + " FROM (SELECT pg_catalog.pg_is_in_recovery() AS r) s"
            + " LEFT JOIN pg_catalog.pg_stat_wal_receiver w ON true";

    private final NodeConfig self;
    private final KeptConnection conn;
    private final AtomicBoolean started = new AtomicBoolean();
    private final Thread thread;
    private volatile boolean closed;
    private volatile NodeHealth last;

    HealthPoller(NodeConfig self, ClusterAccess access, Duration checkTimeout) {
        this.self = self;
        this.conn = new KeptConnection(() -> access.connect(
                self.conninfo().with("application_name", "repmgr4j-daemon-" + self.nodeId() + "-health"),
                checkTimeout, checkTimeout));
        this.thread = new Thread(this::loop, "repmgr4j-daemon-" + self.nodeId() + "-health");
        this.thread.setDaemon(true);
    }

    /** The last reading; starts the poller on the first call. Empty before the first reading or once closed. */
    Optional<NodeHealth> current() {
        if (!closed && started.compareAndSet(false, true)) {
            thread.start();
        }
        return closed ? Optional.empty() : Optional.ofNullable(last);
    }

    private void loop() {
        while (!closed) {
            long t0 = System.nanoTime();
            last = read();
            long left = INTERVAL.toNanos() - (System.nanoTime() - t0);
            if (left > 0) {
                try {
                    Thread.sleep(left / 1_000_000, (int) (left % 1_000_000));
                } catch (InterruptedException e) {
                    break;
                }
            }
        }
        conn.close();
    }

    NodeHealth read() {
        try {
            Connection c = conn.get();
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(SQL)) {
                rs.next();
                boolean r = rs.getBoolean(1);
                long tliPrimary = rs.getLong(2);
                boolean hasTliPrimary = !rs.wasNull();
                String walStatus = rs.getString(3);
                long received = rs.getLong(4);
                boolean hasReceived = !rs.wasNull();
                long lag = rs.getLong(5);
                boolean hasLag = !rs.wasNull();
                double lagSecs = rs.getDouble(6);
                boolean hasLagSecs = !rs.wasNull();
                long checkpointTli = rs.getLong(7);
                int primary = rs.getInt(8);
                boolean hasPrimary = !rs.wasNull();
                OptionalLong tli = hasTliPrimary ? OptionalLong.of(tliPrimary)
                        : hasReceived ? OptionalLong.of(received) : OptionalLong.of(checkpointTli);
                return NodeHealth.builder().observedAt(Instant.now()).running(true).inRecovery(r)
                        .streaming(r && "streaming".equals(walStatus)).timeline(tli)
                        .lagBytes(r && hasLag ? OptionalLong.of(Math.max(0, lag)) : OptionalLong.empty())
                        .lagSeconds(r && hasLagSecs ? OptionalDouble.of(Math.max(0, lagSecs)) : OptionalDouble.empty())
                        .metadataPrimaryId(hasPrimary ? OptionalInt.of(primary) : OptionalInt.empty())
                        .build();
            }
        } catch (SQLException | ReplicationException e) {
            conn.reset();
            LOG.debug("[{}] health check of the local server failed: {}", self.nodeName(), e.getMessage());
            NodeHealth prev = last;
            io.repmgr4j.ImmutableNodeHealth.Builder b = NodeHealth.builder().observedAt(Instant.now()).running(false)
                    .inRecovery(true).streaming(false);
            if (prev != null) {
                b.timeline(prev.timeline()).metadataPrimaryId(prev.metadataPrimaryId());
            }
            return b.build();
        }
    }

    @Override
    public void close() {
        closed = true;
        conn.abort();
        if (started.get()) {
            thread.interrupt();
            try {
                thread.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        conn.close();
    }
}
