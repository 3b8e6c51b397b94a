package io.repmgr4j.sql;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Session-level advisory locks, which work on a primary and on a hot standby alike:
 * take one without waiting, give it back, and find out who holds it (the holders'
 * application_name, which lock takers set to say what they do). A lock lives as long as
 * the session that took it, so a crashed taker cannot leave it behind. A static utility;
 * thread-safe (a connection is not).
 */
public final class AdvisoryLocks {

    private AdvisoryLocks() {
    }

    /** {@code pg_try_advisory_lock(key)}: true when this session got (or already held) the lock. */
    public static boolean tryLock(Connection c, long key) {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_catalog.pg_try_advisory_lock(?)")) {
            ps.setLong(1, key);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        } catch (SQLException e) {
            throw SqlErrors.map("unable to take an advisory lock", e);
        }
    }

    /** {@code pg_advisory_unlock(key)}: true when this session held the lock. */
    public static boolean unlock(Connection c, long key) {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_catalog.pg_advisory_unlock(?)")) {
            ps.setLong(1, key);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        } catch (SQLException e) {
            throw SqlErrors.map("unable to release an advisory lock", e);
        }
    }

    /**
     * The application_name of every other session that holds the lock (an empty string for
     * one that set none); empty when no other session holds it.
     */
    public static List<String> holders(Connection c, long key) {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT coalesce(a.application_name, '') FROM pg_catalog.pg_locks l"
                        + " LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid"
                        + " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
                        + " AND l.classid::bigint = ? AND l.objid::bigint = ? AND l.pid <> pg_catalog.pg_backend_pid()"
                        + " ORDER BY l.pid")) {
            ps.setLong(1, key >>> 32);
            ps.setLong(2, key & 0xFFFFFFFFL);
            try (ResultSet rs = ps.executeQuery()) {
                List<String> out = new ArrayList<>();
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
                return out;
            }
        } catch (SQLException e) {
            throw SqlErrors.map("unable to read who holds an advisory lock", e);
        }
    }
}
