package io.repmgr4j.sql;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.Lsn;
import io.repmgr4j.ReplicationException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The statements that change a server's replication role or upstream: CHECKPOINT,
 * pg_promote, primary_conninfo / primary_slot_name by ALTER SYSTEM plus
 * pg_reload_conf, physical replication slots; and the WAL receive position that
 * topology operations poll while they run. Most need a superuser (or, for pg_promote and
 * pg_reload_conf, a role granted EXECUTE on them). Failures are
 * {@link ReplicationException}s ({@code DB_CONN} / {@code DB_QUERY}) whose text never
 * holds a password. A static utility; thread-safe (a connection is not).
 */
public final class ReplicationControl {

    /** Session settings that keep a statement's text out of logs and statistics. */
    private static final List<String> QUIET = List.of("SET log_statement = 'none'", "SET log_min_duration_statement = -1",
            "SET log_min_error_statement = 'panic'", "SET pg_stat_statements.track_utility = off");

    private ReplicationControl() {
    }

    /** {@code CHECKPOINT}: makes the shutdown checkpoint that follows quick. */
    public static void checkpoint(Connection c) {
        execute(c, "unable to run CHECKPOINT", "CHECKPOINT");
    }

    /**
     * The timeline of the server's latest checkpoint ({@code pg_control_checkpoint()}): what
     * tools reading the control file (pg_rewind) take for its timeline. Right after a
     * promotion it is still the old one until the next checkpoint.
     */
    public static int checkpointTimeline(Connection c) {
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT timeline_id FROM pg_catalog.pg_control_checkpoint()")) {
            rs.next();
            return rs.getInt(1);
        } catch (SQLException e) {
            throw SqlErrors.map("unable to read the server's checkpoint timeline", e);
        }
    }

    /**
     * {@code pg_promote(wait => false)}: asks a standby to promote and returns at once;
     * poll {@link ServerProbe#isInRecovery} to see it done.
     *
     * @return true when the request was made (false: the server refused to signal itself)
     */
    public static boolean requestPromotion(Connection c) {
        return bool(c, "unable to promote the server", "SELECT pg_catalog.pg_promote(wait => false)");
    }

    /**
     * {@code pg_promote(wait => true, wait_seconds => n)}: promotes a standby and waits up
     * to {@code waitSeconds} until it is done.
     *
     * @return true when the server left recovery in time
     */
    public static boolean promote(Connection c, int waitSeconds) {
        return bool(c, "unable to promote the server",
                "SELECT pg_catalog.pg_promote(wait => true, wait_seconds => " + Math.max(1, waitSeconds) + ")");
    }

    /** {@code pg_last_wal_receive_lsn()}: how far a standby has received WAL (empty on a primary, or before any). */
    public static Optional<Lsn> receiveLsn(Connection c) {
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT pg_catalog.pg_last_wal_receive_lsn()")) {
            rs.next();
            String v = rs.getString(1);
            return v == null ? Optional.empty() : Optional.of(Lsn.parse(v));
        } catch (SQLException e) {
            throw SqlErrors.map("unable to read the server's WAL receive location", e);
        }
    }

    /**
     * The server's {@code primary_conninfo} as configured now (superusers only). It may hold a
     * password: never log it.
     */
    public static String primaryConninfo(Connection c) {
        return setting(c, "primary_conninfo");
    }

    /** The server's {@code data_directory} (superusers and members of pg_read_all_settings). */
    public static String dataDirectory(Connection c) {
        return setting(c, "data_directory");
    }

    /**
     * A file's text as the server itself reads it ({@code pg_read_file}; superusers and
     * members of pg_read_server_files), empty when it does not exist. It may hold a
     * password: never log it.
     */
    public static Optional<String> serverFile(Connection c, String path) {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_catalog.pg_read_file(?::text, 0, 65536, true)")) {
            ps.setString(1, path);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return Optional.ofNullable(rs.getString(1));
            }
        } catch (SQLException e) {
            throw SqlErrors.map("unable to read a file of the server's data directory", e,
                    "the connection's user must be a superuser or a member of pg_read_server_files");
        }
    }

    /** The server's {@code primary_slot_name}; empty string when none. */
    public static String primarySlotName(Connection c) {
        return setting(c, "primary_slot_name");
    }

    /**
     * {@code ALTER SYSTEM SET primary_conninfo} (and {@code primary_slot_name}, reset when
     * empty): takes effect at the next reload (PostgreSQL 13+) or restart.
     *
     * <p>ALTER SYSTEM takes no parameters, so a password in the value is part of the
     * statement's text. To keep it out of the server log and of pg_stat_statements, the
     * session first turns off statement logging ({@code log_statement},
     * {@code log_min_duration_statement}, {@code log_min_error_statement}) and
     * {@code pg_stat_statements.track_utility} for itself (all superuser settings, as ALTER
     * SYSTEM is superuser-only; a role only granted ALTER SYSTEM goes on without them); errors
     * are scrubbed of the value. The connection should be closed afterwards.
     */
    public static void setUpstream(Connection c, String primaryConninfo, String slotName) {
        Objects.requireNonNull(primaryConninfo, "primaryConninfo");
        Objects.requireNonNull(slotName, "slotName");
        String action = "unable to change primary_conninfo";
        ConnInfo secrets = safeParse(primaryConninfo);
        try (Statement st = c.createStatement()) {
            for (String quiet : QUIET) {
                try {
                    st.execute(quiet);
                } catch (SQLException e) {
                    // a role allowed ALTER SYSTEM on these parameters but no superuser: go on
                }
            }
            st.execute("ALTER SYSTEM SET primary_conninfo = " + dollarQuote(primaryConninfo));
            if (slotName.isEmpty()) {
                st.execute("ALTER SYSTEM RESET primary_slot_name");
            } else {
                st.execute("ALTER SYSTEM SET primary_slot_name = " + dollarQuote(slotName));
            }
        } catch (SQLException e) {
            throw SqlErrors.map(action, e, "the connection's user must be a superuser to use ALTER SYSTEM", secrets);
        }
    }

    /** {@code pg_reload_conf()}: the server re-reads its configuration files. */
    public static void reloadConf(Connection c) {
        if (!bool(c, "unable to reload the server's configuration", "SELECT pg_catalog.pg_reload_conf()")) {
            throw new ReplicationException(ErrorCode.DB_QUERY, "pg_reload_conf() returned false",
                    "the server could not signal its postmaster", "check the server log");
        }
    }

    /**
     * Creates a physical replication slot that reserves WAL at once, unless one with the
     * name exists.
     *
     * @return true when it was created
     */
    public static boolean ensurePhysicalSlot(Connection c, String name) {
        String action = "unable to create replication slot \"" + name + "\"";
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT count(*) FROM pg_catalog.pg_replication_slots WHERE slot_name = ?")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                if (rs.getLong(1) > 0) {
                    return false;
                }
            }
        } catch (SQLException e) {
            throw SqlErrors.map(action, e);
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_catalog.pg_create_physical_replication_slot(?, true)")) {
            ps.setString(1, name);
            ps.execute();
            return true;
        } catch (SQLException e) {
            if ("42710".equals(e.getSQLState())) {
                return false; // created meanwhile
            }
            throw SqlErrors.map(action, e);
        }
    }

    /**
     * Drops a replication slot if it exists and no one uses it. A slot that becomes active
     * between the check and the drop (SQLSTATE 55006) is left alone.
     *
     * @return true when it was dropped; false when it does not exist or is in use
     */
    public static boolean dropInactiveSlot(Connection c, String name) {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_catalog.pg_drop_replication_slot(slot_name)"
                + " FROM pg_catalog.pg_replication_slots WHERE slot_name = ? AND NOT active")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        } catch (SQLException e) {
            if ("55006".equals(e.getSQLState())) { // object_in_use: it became active meanwhile
                return false;
            }
            throw SqlErrors.map("unable to drop replication slot \"" + name + "\"", e);
        }
    }

    /** {@code $tag$value$tag$} with a tag that does not occur in the value. */
    static String dollarQuote(String value) {
        String tag = "$r4j$";
        for (int i = 0; value.contains(tag); i++) {
            tag = "$r4j" + i + "$";
        }
        return tag + value + tag;
    }

    private static ConnInfo safeParse(String conninfo) {
        try {
            return ConnInfo.parse(conninfo);
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static String setting(Connection c, String name) {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_catalog.current_setting(?)")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return Objects.requireNonNullElse(rs.getString(1), "");
            }
        } catch (SQLException e) {
            throw SqlErrors.map("unable to read setting \"" + name + "\"", e);
        }
    }

    private static void execute(Connection c, String action, String sql) {
        try (Statement st = c.createStatement()) {
            st.execute(sql);
        } catch (SQLException e) {
            throw SqlErrors.map(action, e);
        }
    }

    private static boolean bool(Connection c, String action, String sql) {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getBoolean(1);
        } catch (SQLException e) {
            throw SqlErrors.map(action, e);
        }
    }
}
