package io.repmgr4j.sql;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.Lsn;
import io.repmgr4j.ReplicationException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Properties;
import org.postgresql.PGProperty;

/**
 * Commands of PostgreSQL's streaming replication protocol, over a physical replication
 * connection (what a standby's WAL receiver opens): {@code IDENTIFY_SYSTEM} and
 * {@code TIMELINE_HISTORY}. They need no superuser, only what a standby needs to stream:
 * a role with REPLICATION (or a superuser) and a {@code replication} line in the server's
 * pg_hba.conf. A static utility; thread-safe (a connection is not: use one per thread).
 */
public final class ReplicationProtocol {
    private static final org.postgresql.Driver DRIVER = new org.postgresql.Driver();

    private ReplicationProtocol() {
    }

    /**
     * Opens a physical replication connection with the connection string's host, port,
     * user and password (its dbname is ignored by the server).
     *
     * @throws ReplicationException {@code DB_CONN} when the server refuses or cannot be reached
     */
    public static Connection open(ConnInfo info, Duration connectTimeoutCap) {
        Objects.requireNonNull(info, "info");
        Properties props = PgConnections.properties(info, connectTimeoutCap);
        PGProperty.REPLICATION.set(props, "true");
        PGProperty.ASSUME_MIN_SERVER_VERSION.set(props, "9.4");
        PGProperty.PREFER_QUERY_MODE.set(props, "simple");
        try {
            Connection c = DRIVER.connect(PgConnections.jdbcUrl(info), props);
            if (c == null) {
                throw new ReplicationException(ErrorCode.INTERNAL, "pgjdbc did not accept the URL it was given", null, null);
            }
            return c;
        } catch (SQLException e) {
            ReplicationException f = PgConnections.connectFailure(info, e);
            throw new ReplicationException(f.code(), "unable to open a replication connection to "
                    + info.hosts().get(0), f.detail().orElse(null),
                    "the user of the connection string needs the REPLICATION attribute (or superuser) and the server"
                            + " a \"replication\" line for it in pg_hba.conf", f.getCause());
        }
    }

    /** {@code IDENTIFY_SYSTEM}: system identifier, current timeline, WAL position. */
    public static SystemIdentity identifySystem(Connection replication) {
        try (Statement st = replication.createStatement(); ResultSet rs = st.executeQuery("IDENTIFY_SYSTEM")) {
            if (!rs.next()) {
                throw new ReplicationException(ErrorCode.DB_QUERY, "IDENTIFY_SYSTEM returned no row", null, null);
            }
            return new SystemIdentity(Long.parseUnsignedLong(rs.getString(1)), rs.getInt(2), Lsn.parse(rs.getString(3)));
        } catch (SQLException e) {
            throw SqlErrors.map("unable to identify the system over the replication connection", e);
        }
    }

    /**
     * The history of {@code timeline} ({@code TIMELINE_HISTORY}); timeline 1 has none and
     * gets an empty one without asking.
     */
    public static TimelineHistory timelineHistory(Connection replication, int timeline) {
        if (timeline <= 1) {
            return new TimelineHistory(timeline, List.of());
        }
        try (Statement st = replication.createStatement();
             ResultSet rs = st.executeQuery("TIMELINE_HISTORY " + timeline)) {
            if (!rs.next()) {
                throw new ReplicationException(ErrorCode.DB_QUERY, "TIMELINE_HISTORY returned no row", null, null);
            }
            return TimelineHistory.parse(timeline, rs.getString(2));
        } catch (SQLException e) {
            throw SqlErrors.map("unable to read the history of timeline " + timeline, e);
        } catch (IllegalArgumentException e) {
            throw new ReplicationException(ErrorCode.DB_QUERY, "unable to read the history of timeline " + timeline,
                    e.getMessage(), null, e);
        }
    }

    /**
     * A server's identity and the history of its current timeline, read together.
     *
     * @param system what IDENTIFY_SYSTEM said
     * @param history the history of {@code system.timeline()}
     */
    public record Lineage(SystemIdentity system, TimelineHistory history) {
    }

    /** {@code IDENTIFY_SYSTEM} and the history of the current timeline, on a new replication connection. */
    public static Lineage lineage(ConnInfo info, Duration connectTimeoutCap) {
        try (Connection c = open(info, connectTimeoutCap)) {
            SystemIdentity id = identifySystem(c);
            return new Lineage(id, timelineHistory(c, id.timeline()));
        } catch (SQLException e) {
            throw SqlErrors.map("unable to close the replication connection", e);
        }
    }
}
