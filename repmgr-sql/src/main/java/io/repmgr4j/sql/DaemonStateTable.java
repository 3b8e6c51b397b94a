package io.repmgr4j.sql;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Collection;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Reads and writes {@code repmgr4j.daemon_state}, the daemons' replicated, restart-proof
 * state (see {@link DaemonStateInstaller}). Reads work on any node, writes need the
 * primary. A static utility; thread-safe.
 */
public final class DaemonStateTable {
    private DaemonStateTable() {
    }

    /** True when the table exists on this server (installed on the primary and replicated here). */
    public static boolean present(Connection c) {
        return present(c, "daemon_state");
    }

    /** The pause flag of every node that has a row; empty when the table does not exist (nobody paused). */
    public static Map<Integer, Boolean> pausedFlags(Connection c) {
        return nodeFlags(c, "daemon_state", "paused", "the daemons' pause flags");
    }

    /** How the application_name of a session asking this server's daemon to pause or unpause starts (schema version 3). */
    public static final String PAUSE_REQUEST_PREFIX = "r4jp ";

    /**
     * The pause a session on this server (a standby) asks of the daemon of {@code nodeId}:
     * {@code repmgr.repmgrd_pause()} on a standby publishes {@code r4jp n=<id> p=<0|1>} as its
     * application_name while it waits for that node's flag to arrive from the primary. Empty
     * when no session asks; the newest request when several do.
     */
    public static java.util.Optional<Boolean> pauseRequest(Connection c, int nodeId) {
        try (PreparedStatement ps = c.prepareStatement("SELECT substring(a.application_name FROM ' p=([01])') = '1'"
                + " FROM pg_catalog.pg_stat_activity a WHERE pg_catalog.starts_with(a.application_name, ?)"
                + " AND substring(a.application_name FROM ' n=([0-9]+)') = ? AND a.application_name ~ ' p=[01]'"
                + " ORDER BY a.xact_start DESC NULLS LAST LIMIT 1")) {
            ps.setString(1, PAUSE_REQUEST_PREFIX);
            ps.setString(2, Integer.toString(nodeId));
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? java.util.Optional.of(rs.getBoolean(1)) : java.util.Optional.empty();
            }
        } catch (SQLException e) {
            throw SqlErrors.map("unable to look for pause requests", e);
        }
    }

    /** True when table {@code repmgr4j.<table>} exists on this server. */
    static boolean present(Connection c, String table) {
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT pg_catalog.to_regclass('repmgr4j." + table + "') IS NOT NULL")) {
            rs.next();
            return rs.getBoolean(1);
        } catch (SQLException e) {
            throw SqlErrors.map("unable to look for table repmgr4j." + table, e);
        }
    }

    /**
     * A boolean column of a per-node table in schema repmgr4j, by node id; empty when the
     * table does not exist. {@code table} and {@code column} are the library's own names.
     */
    static Map<Integer, Boolean> nodeFlags(Connection c, String table, String column, String what) {
        Map<Integer, Boolean> out = new TreeMap<>();
        if (!present(c, table)) {
            return out;
        }
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT node_id, " + column + " FROM repmgr4j." + table)) {
            while (rs.next()) {
                out.put(rs.getInt(1), rs.getBoolean(2));
            }
            return out;
        } catch (SQLException e) {
            throw SqlErrors.map("unable to read " + what, e);
        }
    }

    /**
     * Sets the pause flag of these nodes on the primary, in one transaction; rows are
     * created as needed. The connection must be in auto-commit mode.
     */
    public static void setPaused(Connection primary, Collection<Integer> nodeIds, boolean paused) {
        Objects.requireNonNull(nodeIds, "nodeIds");
        try {
            primary.setAutoCommit(false);
            try (PreparedStatement ps = primary.prepareStatement("INSERT INTO repmgr4j.daemon_state (node_id, paused, updated_at)"
                    + " VALUES (?, ?, pg_catalog.now()) ON CONFLICT (node_id)"
                    + " DO UPDATE SET paused = EXCLUDED.paused, updated_at = EXCLUDED.updated_at")) {
                for (int id : nodeIds) {
                    ps.setInt(1, id);
                    ps.setBoolean(2, paused);
                    ps.addBatch();
                }
                ps.executeBatch();
                primary.commit();
            } catch (SQLException e) {
                primary.rollback();
                throw e;
            } finally {
                primary.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw SqlErrors.map("unable to " + (paused ? "pause" : "unpause") + " the daemons", e);
        }
    }
}
