package io.repmgr4j.sql;

import io.repmgr4j.ErrorCode;
import io.repmgr4j.Lsn;
import io.repmgr4j.ReplicationException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Read-only questions about one server's replication state: is it in recovery, which
 * system and timeline is it on, how far is its WAL, whom does it stream from and to.
 * Each method runs one or two queries on the given connection, changes nothing and
 * returns typed values.
 *
 * <p>Works on PostgreSQL 12 and later (column names that changed in 13 are chosen by
 * server version). Some answers need privileges: the WAL receiver's and WAL senders'
 * details are shown in full only to superusers and members of {@code pg_read_all_stats}.
 *
 * <p>Every failure is a {@link ReplicationException}: {@code DB_CONN} when the connection
 * fails (SQLState class 08), {@code DB_QUERY} otherwise. A static utility; thread-safe
 * (a {@code Connection} is not: do not share one between threads while a probe runs).
 */
public final class ServerProbe {

    private ServerProbe() {
    }

    /** True when the server is a standby (or otherwise in recovery): {@code pg_is_in_recovery()}. */
    public static boolean isInRecovery(Connection c) {
        return query(c, "unable to ask the server whether it is in recovery", "SELECT pg_catalog.pg_is_in_recovery()",
                rs -> rs.getBoolean(1));
    }

    /**
     * The database system identifier from {@code pg_control_system()}: equal on a primary
     * and every standby cloned from it, different for an unrelated cluster.
     */
    public static long systemIdentifier(Connection c) {
        return query(c, "unable to read the server's system identifier",
                "SELECT system_identifier FROM pg_catalog.pg_control_system()", rs -> rs.getLong(1));
    }

    /**
     * The timeline a person expects to see for the server, as {@link #timeline(Connection)},
     * except on a standby whose WAL receiver has stopped (its upstream died, say): then the
     * newest timeline of the WAL segments it holds in pg_wal (what its receiver last wrote)
     * rather than the last checkpoint's, which can still be the timeline before a promotion
     * it has followed. Falls back to the checkpoint's timeline when the connected role may
     * not list pg_wal ({@code pg_ls_waldir()} needs superuser or pg_monitor).
     */
    public static int lastKnownTimeline(Connection c) {
        return timeline(c, "CASE WHEN pg_catalog.has_function_privilege('pg_catalog.pg_ls_waldir()', 'EXECUTE') THEN"
                + " (SELECT max(('x' || substr(w.name, 1, 8))::bit(32)::int)"
                + " FROM pg_catalog.pg_ls_waldir() w WHERE w.name ~ '^[0-9A-F]{24}$') END,");
    }

    /**
     * The server's current timeline.
     *
     * <p>On a primary: the first eight hex digits of the name of the WAL file holding the
     * current location ({@code pg_walfile_name(pg_current_wal_lsn())}), which is right
     * even just after a promotion, before any checkpoint. On a standby: the timeline the
     * WAL receiver last received ({@code pg_stat_wal_receiver.received_tli}) while there
     * is a receiver, else the timeline of the last checkpoint or restartpoint
     * ({@code pg_control_checkpoint()}).
     */
    public static int timeline(Connection c) {
        return timeline(c, "");
    }

    /**
     * The timeline query: a primary's from its current WAL file, a standby's from its WAL
     * receiver, else {@code standbyFallback} (SQL ending in a comma, or empty), else the
     * last checkpoint's.
     */
    private static int timeline(Connection c, String standbyFallback) {
        String action = "unable to read the server's timeline";
        String sql = "SELECT CASE WHEN pg_catalog.pg_is_in_recovery() THEN NULL"
                + "             ELSE pg_catalog.pg_walfile_name(pg_catalog.pg_current_wal_lsn()) END,"
                + "        CASE WHEN pg_catalog.pg_is_in_recovery() THEN"
                + "             COALESCE((SELECT NULLIF(r.received_tli, 0) FROM pg_catalog.pg_stat_wal_receiver r),"
                + standbyFallback
                + "                      (SELECT k.timeline_id FROM pg_catalog.pg_control_checkpoint() k)) END";
        // The two columns test recovery separately; a promotion between them leaves both
        // null, and asking again settles it.
        for (int attempt = 0; attempt < 3; attempt++) {
            OptionalInt tli = query(c, action, sql, rs -> {
                String walFile = rs.getString(1);
                if (walFile != null) {
                    return OptionalInt.of(Integer.parseUnsignedInt(walFile.substring(0, 8), 16));
                }
                int standbyTli = rs.getInt(2);
                return rs.wasNull() ? OptionalInt.empty() : OptionalInt.of(standbyTli);
            });
            if (tli.isPresent()) {
                return tli.getAsInt();
            }
        }
        throw new ReplicationException(ErrorCode.DB_QUERY, action, "the server changed role while being asked", "try again");
    }

    /**
     * How far the server's WAL goes: on a primary its current write location
     * ({@code pg_current_wal_lsn()}); on a standby the greater of its receive and replay
     * locations (replay can be ahead of receive when WAL came from an archive).
     */
    public static Lsn currentLsn(Connection c) {
        String action = "unable to read the server's current WAL location";
        String lsn = query(c, action,
                "SELECT CASE WHEN pg_catalog.pg_is_in_recovery()"
                        + "  THEN GREATEST(pg_catalog.pg_last_wal_receive_lsn(), pg_catalog.pg_last_wal_replay_lsn())"
                        + "  ELSE pg_catalog.pg_current_wal_lsn() END",
                rs -> rs.getString(1));
        if (lsn == null) {
            throw new ReplicationException(ErrorCode.DB_QUERY, action,
                    "the standby has neither received nor replayed any WAL yet", "wait for it to start recovery, then try again");
        }
        return Lsn.parse(lsn);
    }

    /** The standby's WAL receiver; empty when the server runs none (a primary, or a standby not streaming). */
    public static Optional<WalReceiverStatus> walReceiver(Connection c) {
        String flushed = serverVersionNum(c) >= 130000 ? "flushed_lsn" : "received_lsn";
        List<WalReceiverStatus> rows = list(c, "unable to read the server's WAL receiver status",
                "SELECT pid, status, sender_host, sender_port, NULLIF(received_tli, 0), " + flushed + ", latest_end_lsn,"
                        + " last_msg_receipt_time, slot_name, conninfo FROM pg_catalog.pg_stat_wal_receiver"
                        + " WHERE pid IS NOT NULL",
                rs -> new WalReceiverStatus(
                        rs.getInt(1),
                        Optional.ofNullable(rs.getString(2)),
                        Optional.ofNullable(rs.getString(3)),
                        optInt(rs, 4),
                        optInt(rs, 5),
                        optLsn(rs, 6),
                        optLsn(rs, 7),
                        Optional.ofNullable(rs.getObject(8, OffsetDateTime.class)),
                        Optional.ofNullable(rs.getString(9)),
                        Optional.ofNullable(SqlErrors.redact(rs.getString(10)))));
        return rows.stream().findFirst();
    }

    /** The server's WAL senders ({@code pg_stat_replication}), by application name then pid. */
    public static List<ReplicationClient> replicationClients(Connection c) {
        return list(c, "unable to read the server's replication clients",
                "SELECT pid, application_name, pg_catalog.host(client_addr), state, sent_lsn, write_lsn, flush_lsn,"
                        + " replay_lsn, sync_state FROM pg_catalog.pg_stat_replication ORDER BY application_name, pid",
                rs -> new ReplicationClient(
                        rs.getInt(1),
                        Objects.requireNonNullElse(rs.getString(2), ""),
                        Optional.ofNullable(rs.getString(3)),
                        Optional.ofNullable(rs.getString(4)),
                        optLsn(rs, 5),
                        optLsn(rs, 6),
                        optLsn(rs, 7),
                        optLsn(rs, 8),
                        Optional.ofNullable(rs.getString(9))));
    }

    /**
     * The current value of a setting ({@code current_setting(name, true)}); empty when the
     * server has no such setting.
     */
    public static Optional<String> setting(Connection c, String name) {
        Objects.requireNonNull(name, "name");
        String action = "unable to read setting \"" + name + "\"";
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_catalog.current_setting(?, true)")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return Optional.ofNullable(rs.getString(1));
            }
        } catch (SQLException e) {
            throw SqlErrors.map(action, e);
        }
    }

    /** The server's version as a number, such as {@code 150018} for 15.18 ({@code server_version_num}). */
    public static int serverVersionNum(Connection c) {
        return query(c, "unable to read the server's version",
                "SELECT pg_catalog.current_setting('server_version_num')::int", rs -> rs.getInt(1));
    }

    /** The server's replication slots ({@code pg_replication_slots}), by name. */
    public static List<ReplicationSlot> replicationSlots(Connection c) {
        String walStatus = serverVersionNum(c) >= 130000 ? "wal_status" : "NULL::text";
        return list(c, "unable to read the server's replication slots",
                "SELECT slot_name, slot_type, temporary, active, active_pid, restart_lsn, " + walStatus
                        + " FROM pg_catalog.pg_replication_slots ORDER BY slot_name",
                rs -> new ReplicationSlot(
                        rs.getString(1),
                        rs.getString(2),
                        rs.getBoolean(3),
                        rs.getBoolean(4),
                        optInt(rs, 5),
                        optLsn(rs, 6),
                        Optional.ofNullable(rs.getString(7))));
    }

    /** True when the cluster was initialised with data checksums ({@code data_checksums}). */
    public static boolean dataChecksumsEnabled(Connection c) {
        return query(c, "unable to ask the server whether data checksums are enabled",
                "SELECT pg_catalog.current_setting('data_checksums') = 'on'", rs -> rs.getBoolean(1));
    }

    // ----------------------------------------------------------------- plumbing

    @FunctionalInterface
    private interface Row<T> {
        T read(ResultSet rs) throws SQLException;
    }

    /** Runs {@code sql}, which returns one row; {@code row} reads it. */
    private static <T> T query(Connection c, String action, String sql, Row<T> row) {
        Objects.requireNonNull(c, "connection");
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            if (!rs.next()) {
                throw new ReplicationException(ErrorCode.DB_QUERY, action, "the query returned no row", null);
            }
            return row.read(rs);
        } catch (SQLException e) {
            throw SqlErrors.map(action, e);
        }
    }

    private static <T> List<T> list(Connection c, String action, String sql, Row<T> row) {
        Objects.requireNonNull(c, "connection");
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            List<T> out = new ArrayList<>();
            while (rs.next()) {
                out.add(row.read(rs));
            }
            return out;
        } catch (SQLException e) {
            throw SqlErrors.map(action, e);
        }
    }

    private static OptionalInt optInt(ResultSet rs, int column) throws SQLException {
        int v = rs.getInt(column);
        return rs.wasNull() ? OptionalInt.empty() : OptionalInt.of(v);
    }

    private static Optional<Lsn> optLsn(ResultSet rs, int column) throws SQLException {
        String v = rs.getString(column);
        return v == null ? Optional.empty() : Optional.of(Lsn.parse(v));
    }
}
