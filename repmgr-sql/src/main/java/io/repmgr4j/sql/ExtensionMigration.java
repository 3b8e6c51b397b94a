package io.repmgr4j.sql;

import io.repmgr4j.ErrorCode;
import io.repmgr4j.ReplicationException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Moves repmgr4j's extension-free {@code repmgr} schema under the real repmgr extension
 * ({@code CREATE EXTENSION repmgr}) with every row kept, for clusters that are to run a
 * real repmgrd. In one transaction on the primary, under {@link SchemaInstaller}'s
 * advisory lock: the old schema is renamed aside, the extension creates its own schema
 * {@code repmgr}, the rows of {@code nodes}, {@code events}, {@code monitoring_history}
 * and {@code voting_term} are copied, the counts compared, and the old schema's own
 * objects are dropped one by one (never with CASCADE: an object of someone else's in
 * that schema, or depending on it, makes the whole transaction roll back and nothing is
 * changed). Standbys receive the result by replication; each needs the extension's
 * files installed (the postgresql-NN-repmgr package), and a repmgrd beside it needs
 * {@code shared_preload_libraries = 'repmgr'}.
 *
 * <p>A static utility; thread-safe (a {@code Connection} is not: one thread per connection).
 */
public final class ExtensionMigration {
    /** The tables whose rows are moved, in copying order, with their columns. */
    static final Map<String, String> TABLES = new LinkedHashMap<>();

    static {
        TABLES.put("nodes", "node_id, upstream_node_id, active, node_name, type, location, priority, conninfo, repluser,"
                + " slot_name, config_file");
        TABLES.put("events", "node_id, event, successful, event_timestamp, details");
        TABLES.put("monitoring_history", "primary_node_id, standby_node_id, last_monitor_time, last_apply_time,"
                + " last_wal_primary_location, last_wal_standby_location, replication_lag, apply_lag");
        TABLES.put("voting_term", "term");
    }

    /** Where the old schema waits during the transaction. */
    static final String ASIDE = "repmgr_r4j_before_extension";

    private ExtensionMigration() {
    }

    /** What the database looks like before a migration: the checks' findings. Immutable; thread-safe. */
    public record Findings(Optional<Integer> repmgr4jVersion, Optional<String> extensionInstalled,
                           Optional<String> extensionAvailable, boolean superuser, boolean inRecovery,
                           boolean libraryLoaded, Map<String, Long> rows) {
    }

    /** Reads what the checks need; changes nothing. */
    public static Findings inspect(Connection c) {
        try {
            Optional<Integer> version = SchemaInstaller.installedVersion(c);
            Optional<String> installed = RepmgrdShared.installedVersion(c);
            Optional<String> available;
            boolean superuser;
            try (Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT (SELECT default_version FROM pg_catalog.pg_available_extensions"
                         + " WHERE name = 'repmgr'), (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user)")) {
                rs.next();
                available = Optional.ofNullable(rs.getString(1));
                superuser = rs.getBoolean(2);
            }
            Map<String, Long> rows = new LinkedHashMap<>();
            if (SchemaInstaller.schemaPresent(c)) {
                for (String t : TABLES.keySet()) {
                    rows.put(t, count(c, "repmgr." + t));
                }
            }
            return new Findings(version, installed, available, superuser, ServerProbe.isInRecovery(c),
                    MetadataSchemas.libraryLoaded(c), rows);
        } catch (SQLException e) {
            throw SqlErrors.map("unable to inspect schema repmgr", e);
        }
    }

    /**
     * Runs the migration in one transaction and returns the rows copied per table. The
     * connection must be in auto-commit mode; it is again afterwards.
     *
     * @throws ReplicationException {@code DB_QUERY} when the schema is not repmgr4j's
     *     extension-free one, the extension is missing, or any statement fails: the
     *     transaction is rolled back and nothing is changed
     */
    public static Map<String, Long> migrate(Connection c) {
        try {
            c.setAutoCommit(false);
            try {
                try (PreparedStatement ps = c.prepareStatement("SELECT pg_catalog.pg_advisory_xact_lock(?)")) {
                    ps.setLong(1, SchemaInstaller.ADVISORY_LOCK_KEY);
                    ps.execute();
                }
                if (SchemaInstaller.installedVersion(c).isEmpty() || RepmgrdShared.extensionInstalled(c)) {
                    throw new ReplicationException(ErrorCode.DB_QUERY, "schema \"repmgr\" is not repmgr4j's extension-free schema",
                            "it has no repmgr4j version comment, or the repmgr extension is installed already; nothing was changed",
                            "nothing to migrate");
                }
                Map<String, Long> before = new LinkedHashMap<>();
                for (String t : TABLES.keySet()) {
                    before.put(t, count(c, "repmgr." + t));
                }
                List<String> ownObjects = ownObjects(c);
                try (Statement st = c.createStatement()) {
                    st.execute("ALTER SCHEMA repmgr RENAME TO " + ASIDE);
                    st.execute("CREATE EXTENSION repmgr");
                    st.execute("SET CONSTRAINTS ALL DEFERRED");
                    for (Map.Entry<String, String> t : TABLES.entrySet()) {
                        st.execute("INSERT INTO repmgr." + t.getKey() + " (" + t.getValue() + ") SELECT " + t.getValue()
                                + " FROM " + ASIDE + "." + t.getKey());
                    }
                    st.execute("SET CONSTRAINTS ALL IMMEDIATE");
                }
                Map<String, Long> after = new LinkedHashMap<>();
                for (String t : TABLES.keySet()) {
                    after.put(t, count(c, "repmgr." + t));
                }
                if (!after.equals(before)) {
                    throw new ReplicationException(ErrorCode.INTERNAL, "rows were not all copied: before " + before + ", after " + after,
                            "the transaction is rolled back; nothing was changed", "report this as a bug in repmgr4j");
                }
                try (Statement st = c.createStatement()) {
                    for (String drop : ownObjects) {
                        st.execute(drop);
                    }
                    st.execute("DROP SCHEMA " + ASIDE); // RESTRICT: anything left that is not ours stops it here
                }
                c.commit();
                return after;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw SqlErrors.map("unable to move schema repmgr under the repmgr extension (nothing was changed)", e);
        }
    }

    /** DROP statements for what repmgr4j's scripts made in schema repmgr: views, then functions, then tables. */
    private static List<String> ownObjects(Connection c) throws SQLException {
        List<String> drops = new ArrayList<>();
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT 'DROP VIEW " + ASIDE + ".' || pg_catalog.quote_ident(relname)"
                     + " FROM pg_catalog.pg_class WHERE relnamespace = 'repmgr'::regnamespace AND relkind = 'v'"
                     + " AND relname IN ('replication_status', 'show_nodes') ORDER BY relname")) {
            while (rs.next()) {
                drops.add(rs.getString(1));
            }
        }
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT 'DROP FUNCTION " + ASIDE + ".' || pg_catalog.quote_ident(p.proname)"
                     + " || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')'"
                     + " FROM pg_catalog.pg_proc p WHERE p.pronamespace = 'repmgr'::regnamespace ORDER BY p.proname")) {
            while (rs.next()) {
                drops.add(rs.getString(1));
            }
        }
        for (String t : List.of("monitoring_history", "events", "voting_term", "nodes")) {
            drops.add("DROP TABLE " + ASIDE + "." + t);
        }
        return drops;
    }

    private static long count(Connection c, String table) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM " + table)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
