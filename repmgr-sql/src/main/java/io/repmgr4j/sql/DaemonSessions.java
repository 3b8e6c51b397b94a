package io.repmgr4j.sql;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * The channel through which failover daemons show their live state to each other without
 * writing anything: each daemon keeps one session open on its own server and puts its
 * state in that session's {@code application_name} (allowed on a read-only standby);
 * others read it from the server's {@code pg_stat_activity}. A daemon that died leaves
 * no session. The text's format belongs to the daemon; this class only moves it.
 *
 * <p>Reading {@code state_change} of other users' sessions needs superuser or
 * {@code pg_read_all_stats}. A static utility; thread-safe.
 */
public final class DaemonSessions {
    private DaemonSessions() {
    }

    /** A session whose application_name starts with the prefix asked for. */
    public record Session(int backendPid, String applicationName, OptionalLong millisSinceStateChange) {
        public Session {
            Objects.requireNonNull(applicationName, "applicationName");
            Objects.requireNonNull(millisSinceStateChange, "millisSinceStateChange");
        }
    }

    /**
     * Sets this session's application_name (truncated by the server to 63 bytes). Run it
     * as the only statement of the session that carries the state, so that the session's
     * {@code state_change} tells readers when it was set.
     */
    public static void publish(Connection c, String applicationName) {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_catalog.set_config('application_name', ?, false)")) {
            ps.setString(1, applicationName);
            ps.execute();
        } catch (SQLException e) {
            throw SqlErrors.map("unable to publish the daemon state", e);
        }
    }

    /**
     * The server's sessions whose application_name starts with {@code prefix}, with how long
     * ago (by the server's clock) each last changed state, that is, last ran a statement.
     */
    public static List<Session> list(Connection c, String prefix) {
        try (PreparedStatement ps = c.prepareStatement("SELECT pid, application_name,"
                + " (pg_catalog.date_part('epoch', pg_catalog.clock_timestamp() - state_change) * 1000)::bigint"
                + " FROM pg_catalog.pg_stat_activity WHERE pg_catalog.starts_with(application_name, ?)"
                + " ORDER BY pid")) {
            ps.setString(1, prefix);
            List<Session> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long age = rs.getLong(3);
                    out.add(new Session(rs.getInt(1), rs.getString(2),
                            rs.wasNull() ? OptionalLong.empty() : OptionalLong.of(Math.max(0, age))));
                }
            }
            return out;
        } catch (SQLException e) {
            throw SqlErrors.map("unable to read the daemon sessions", e);
        }
    }
}
