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
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT pg_catalog.to_regclass('repmgr4j.daemon_state') IS NOT NULL")) {
            rs.next();
            return rs.getBoolean(1);
        } catch (SQLException e) {
            throw SqlErrors.map("unable to look for table repmgr4j.daemon_state", e);
        }
    }

    /** The pause flag of every node that has a row; empty when the table does not exist (nobody paused). */
    public static Map<Integer, Boolean> pausedFlags(Connection c) {
        Map<Integer, Boolean> out = new TreeMap<>();
        if (!present(c)) {
            return out;
        }
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT node_id, paused FROM repmgr4j.daemon_state")) {
            while (rs.next()) {
                out.put(rs.getInt(1), rs.getBoolean(2));
            }
            return out;
        } catch (SQLException e) {
            throw SqlErrors.map("unable to read the daemons' pause flags", e);
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
