package io.repmgr4j.sql;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.ReplicationException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import org.postgresql.PGProperty;

/**
 * The SQL a standby clone needs from the server it copies: what the server can offer
 * (WAL senders, replication slots, WAL settings, size), physical replication connections
 * ({@code IDENTIFY_SYSTEM}, as pg_basebackup opens them), and the standby's replication
 * slot. A static utility; thread-safe (do not share one {@code Connection} between
 * threads). Every failure is a {@link ReplicationException}: {@code DB_CONN} when the
 * connection fails, {@code DB_QUERY} otherwise; no message holds a password.
 */
public final class ReplicationSource {

    /**
     * The application_name of the replication connections {@link #openReplication} opens:
     * {@link #inspect} does not count them as WAL senders in use, so checks that run at the
     * same time do not see each other.
     */
    public static final String PROBE_APPLICATION_NAME = "repmgr4j replication check";

    private static final java.sql.Driver DRIVER = new org.postgresql.Driver();

    private ReplicationSource() {
    }

    /**
     * What a clone's prerequisite checks need to know about the source server, read in one
     * query.
     *
     * @param serverVersionNum {@code server_version_num}, such as 150018
     * @param inRecovery true when the source is a standby (a cascading upstream)
     * @param walLevel {@code wal_level}
     * @param maxWalSenders {@code max_wal_senders}
     * @param walSendersInUse WAL sender processes running now (streaming standbys, base
     *     backups), not counting those of {@link #openReplication}
     * @param walLogHints {@code wal_log_hints}
     * @param dataChecksums whether the cluster has data page checksums
     * @param maxReplicationSlots {@code max_replication_slots}
     * @param replicationSlotsInUse slots that exist now
     * @param slotActive for the slot asked about: empty when it does not exist, else whether a client uses it
     * @param sizeBytes the sum of the sizes of the databases the user may connect to
     * @param dataDirectoryMode {@code data_directory_mode}, such as {@code 0700}
     */
    public record Facts(int serverVersionNum, boolean inRecovery, String walLevel, int maxWalSenders,
                        int walSendersInUse, boolean walLogHints, boolean dataChecksums, int maxReplicationSlots,
                        int replicationSlotsInUse, Optional<Boolean> slotActive, long sizeBytes,
                        String dataDirectoryMode) {
        public Facts {
            Objects.requireNonNull(walLevel, "walLevel");
            Objects.requireNonNull(slotActive, "slotActive");
            Objects.requireNonNull(dataDirectoryMode, "dataDirectoryMode");
        }

        /** The major version: 15 for 150018. */
        public int majorVersion() {
            return serverVersionNum / 10000;
        }

        /** WAL senders not in use now. */
        public int freeWalSenders() {
            return Math.max(0, maxWalSenders - walSendersInUse);
        }

        /** Replication slots that can still be created. */
        public int freeReplicationSlots() {
            return Math.max(0, maxReplicationSlots - replicationSlotsInUse);
        }
    }

    /** What {@code IDENTIFY_SYSTEM} answers on a physical replication connection. */
    public record SystemIdentity(String systemId, int timeline, String walPosition) {
    }

    /**
     * Reads the source's facts; {@code slotName}, when given, is looked up in
     * {@code pg_replication_slots}.
     */
    public static Facts inspect(Connection c, Optional<String> slotName) {
        Objects.requireNonNull(c, "connection");
        String sql = "SELECT pg_catalog.current_setting('server_version_num')::int,"
                + " pg_catalog.pg_is_in_recovery(),"
                + " pg_catalog.current_setting('wal_level'),"
                + " pg_catalog.current_setting('max_wal_senders')::int,"
                + " (SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE backend_type = 'walsender'"
                + "   AND application_name IS DISTINCT FROM ?)::int,"
                + " pg_catalog.current_setting('wal_log_hints') = 'on',"
                + " pg_catalog.current_setting('data_checksums') = 'on',"
                + " pg_catalog.current_setting('max_replication_slots')::int,"
                + " (SELECT count(*) FROM pg_catalog.pg_replication_slots)::int,"
                + " (SELECT s.active FROM pg_catalog.pg_replication_slots s WHERE s.slot_name = ?),"
                + " (SELECT COALESCE(sum(pg_catalog.pg_database_size(d.oid)), 0)::bigint FROM pg_catalog.pg_database d"
                + "   WHERE d.datallowconn AND pg_catalog.has_database_privilege(d.oid, 'CONNECT')),"
                + " pg_catalog.current_setting('data_directory_mode')";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, PROBE_APPLICATION_NAME);
            ps.setString(2, slotName.orElse(null));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                boolean active = rs.getBoolean(10);
                Optional<Boolean> slot = rs.wasNull() ? Optional.empty() : Optional.of(active);
                return new Facts(rs.getInt(1), rs.getBoolean(2), rs.getString(3), rs.getInt(4), rs.getInt(5),
                        rs.getBoolean(6), rs.getBoolean(7), rs.getInt(8), rs.getInt(9), slot, rs.getLong(11),
                        rs.getString(12));
            }
        } catch (SQLException e) {
            throw SqlErrors.map("unable to read the source server's replication settings", e);
        }
    }

    /**
     * Opens a physical replication connection as pg_basebackup does ({@code replication=true},
     * so pg_hba.conf's {@code replication} lines apply and it takes a WAL sender), with
     * application_name {@link #PROBE_APPLICATION_NAME}; the caller closes it. Only
     * replication commands work on it ({@link #identifySystem}).
     *
     * @param info where to connect and as whom (its dbname is ignored)
     * @param connectTimeoutCap upper bound of the connect timeout
     * @throws ReplicationException {@code DB_CONN} when the connection is refused (no free
     *     WAL sender, no replication privilege, pg_hba.conf)
     */
    public static Connection openReplication(ConnInfo info, Duration connectTimeoutCap) {
        Properties props = PgConnections.properties(info, connectTimeoutCap, connectTimeoutCap.plusSeconds(10));
        PGProperty.APPLICATION_NAME.set(props, PROBE_APPLICATION_NAME);
        PGProperty.REPLICATION.set(props, "true");
        PGProperty.ASSUME_MIN_SERVER_VERSION.set(props, "9.4");
        PGProperty.PREFER_QUERY_MODE.set(props, "simple");
        try {
            return DRIVER.connect(PgConnections.jdbcUrl(info), props);
        } catch (SQLException e) {
            throw PgConnections.connectFailure(info, e);
        }
    }

    /** Runs {@code IDENTIFY_SYSTEM} on a connection from {@link #openReplication}. */
    public static SystemIdentity identifySystem(Connection replication) {
        try (Statement st = replication.createStatement(); ResultSet rs = st.executeQuery("IDENTIFY_SYSTEM")) {
            if (!rs.next()) {
                throw new ReplicationException(ErrorCode.DB_QUERY, "IDENTIFY_SYSTEM returned no row");
            }
            return new SystemIdentity(rs.getString(1), rs.getInt(2), rs.getString(3));
        } catch (SQLException e) {
            throw SqlErrors.map("unable to run IDENTIFY_SYSTEM on a replication connection", e);
        }
    }

    /**
     * Creates a physical replication slot that reserves WAL at once
     * ({@code pg_create_physical_replication_slot(name, true)}); works on a primary and on
     * a standby (for a cascading standby).
     */
    public static void createPhysicalSlot(Connection c, String slotName) {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_catalog.pg_create_physical_replication_slot(?, true)")) {
            ps.setString(1, slotName);
            ps.executeQuery().close();
        } catch (SQLException e) {
            throw SqlErrors.map("unable to create replication slot \"" + slotName + "\"", e,
                    "check max_replication_slots on the upstream");
        }
    }

    /** Whether a replication slot of this name exists. */
    public static boolean slotExists(Connection c, String slotName) {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_catalog.pg_replication_slots WHERE slot_name = ?")) {
            ps.setString(1, slotName);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        } catch (SQLException e) {
            throw SqlErrors.map("unable to look for replication slot \"" + slotName + "\"", e);
        }
    }
}
