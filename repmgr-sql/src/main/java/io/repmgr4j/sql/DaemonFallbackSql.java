package io.repmgr4j.sql;

import io.repmgr4j.ErrorCode;
import io.repmgr4j.ReplicationException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

/**
 * The SQL of the failover daemon's fallback promote and follow
 * ({@code io.repmgr4j.core.daemon.FallbackTopologyActions}): {@code pg_promote}, and
 * {@code ALTER SYSTEM SET primary_conninfo} plus {@code pg_reload_conf()} (PostgreSQL 13
 * and later apply a new primary_conninfo without a restart). To be replaced by the
 * topology operations' own SQL once they are merged. A static utility; thread-safe.
 */
public final class DaemonFallbackSql {
    private DaemonFallbackSql() {
    }

    /**
     * {@code pg_promote(true, seconds)}: asks the standby to leave recovery and waits for it.
     *
     * @throws ReplicationException {@code PROMOTION_FAIL} when the server did not finish
     *     promoting within the timeout
     */
    public static void promote(Connection c, Duration wait) {
        int seconds = (int) Math.max(1, Math.min(Integer.MAX_VALUE, wait.toSeconds()));
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_catalog.pg_promote(true, ?)")) {
            ps.setInt(1, seconds);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                if (!rs.getBoolean(1)) {
                    throw new ReplicationException(ErrorCode.PROMOTION_FAIL,
                            "the server did not finish promotion within " + seconds + " s",
                            "pg_promote(true, " + seconds + ") returned false", "check the server log");
                }
            }
        } catch (SQLException e) {
            throw SqlErrors.map("unable to promote the server", e);
        }
    }

    /**
     * Sets primary_conninfo and primary_slot_name with ALTER SYSTEM (postgresql.auto.conf)
     * and reloads the configuration, so the WAL receiver reconnects to the new upstream.
     * The conninfo may hold a password: it is never put in a message.
     */
    public static void setPrimaryConninfo(Connection c, String primaryConninfo, String slotName) {
        try (Statement st = c.createStatement()) {
            st.execute("ALTER SYSTEM SET primary_conninfo = " + literal(primaryConninfo));
            st.execute("ALTER SYSTEM SET primary_slot_name = " + literal(slotName == null ? "" : slotName));
            st.execute("SELECT pg_catalog.pg_reload_conf()");
        } catch (SQLException e) {
            throw SqlErrors.map("unable to change primary_conninfo", e, null, io.repmgr4j.ConnInfo.parse(primaryConninfo));
        }
    }

    /** Creates a physical replication slot unless one of that name exists; returns true when created. */
    public static boolean ensurePhysicalSlot(Connection c, String slotName) {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_catalog.pg_create_physical_replication_slot(?, true)"
                + " WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_replication_slots WHERE slot_name = ?)")) {
            ps.setString(1, slotName);
            ps.setString(2, slotName);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        } catch (SQLException e) {
            throw SqlErrors.map("unable to create replication slot \"" + slotName + "\"", e);
        }
    }

    /** A string as an escape-string literal, right whatever standard_conforming_strings says. */
    static String literal(String s) {
        return "E'" + s.replace("\\", "\\\\").replace("'", "''") + "'";
    }
}
