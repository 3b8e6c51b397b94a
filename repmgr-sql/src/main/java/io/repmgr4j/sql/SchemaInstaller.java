package io.repmgr4j.sql;

import io.repmgr4j.ErrorCode;
import io.repmgr4j.ReplicationException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Creates, upgrades or adopts the {@code repmgr} metadata schema in the database a
 * connection points at.
 *
 * <p>The schema is kept as versioned SQL scripts ({@code schema/V1__repmgr_schema.sql},
 * {@code V2__...}) beside this class. The installed version is recorded as the schema's
 * comment, {@code repmgr4j schema version N}; there is no version table, so the schema
 * holds exactly repmgr's tables and views. {@link #install(Connection)} decides what to
 * do from what it finds:
 * <ul>
 *   <li>no schema {@code repmgr}: runs every script, sets the comment:
 *       {@link Outcome#CREATED};</li>
 *   <li>our comment with the current version: changes nothing: {@link Outcome#UP_TO_DATE};</li>
 *   <li>our comment with an older version: runs the newer scripts in order and updates
 *       the comment: {@link Outcome#MIGRATED};</li>
 *   <li>our comment with a newer version: refuses ({@code DB_QUERY}), changes nothing;</li>
 *   <li>a schema made by the repmgr extension ({@code CREATE EXTENSION repmgr}), or any
 *       schema {@code repmgr} without our comment that has the four tables
 *       ({@code nodes}, {@code events}, {@code monitoring_history}, {@code voting_term}):
 *       changes nothing at all, not even the comment: {@link Outcome#ADOPTED};</li>
 *   <li>a schema {@code repmgr} that lacks any of the four tables: refuses
 *       ({@code DB_QUERY}, naming what is missing), changes nothing.</li>
 * </ul>
 *
 * <p>Everything happens in one transaction that first takes a transaction-level
 * advisory lock ({@link #ADVISORY_LOCK_KEY}), so two installers racing on the same
 * database run one after the other and the second finds the first one's work.
 *
 * <p>A static utility; thread-safe (it keeps no state; a {@code Connection} is not
 * thread-safe, so do not share one between threads while it runs).
 */
public final class SchemaInstaller {

    /** The schema repmgr uses; not configurable, because repmgr's tools hard-code it. */
    public static final String SCHEMA = "repmgr";

    /** The tables a schema must have to be used (ours, adopted or migrated). */
    public static final List<String> REQUIRED_TABLES = List.of("nodes", "events", "monitoring_history", "voting_term");

    /**
     * The key of the transaction-level advisory lock the installer holds:
     * {@code "repmgr4j"} in ASCII as a bigint.
     */
    public static final long ADVISORY_LOCK_KEY = 0x7265706d6772346aL;

    /** How the schema's comment starts when repmgr4j made the schema. */
    static final String COMMENT_PREFIX = "repmgr4j schema version ";

    /**
     * One versioned script: {@code version} N is a resource named {@code V<N>__<name>.sql},
     * its path relative to this class's package.
     */
    record Migration(int version, String resource) {
        Migration {
            Objects.requireNonNull(resource, "resource");
            String file = resource.substring(resource.lastIndexOf('/') + 1);
            if (!file.startsWith("V" + version + "__") || !file.endsWith(".sql")) {
                throw new IllegalArgumentException("migration " + version + " must be named V" + version + "__<name>.sql: " + resource);
            }
        }

        String sql() {
            return readScript(SchemaInstaller.class, resource);
        }
    }

    /** The scripts, in order; version N is at index N-1. Add new ones at the end only. */
    static final List<Migration> MIGRATIONS = List.of(
            new Migration(1, "schema/V1__repmgr_schema.sql"),
            new Migration(2, "schema/V2__repmgrd_functions.sql"),
            new Migration(3, "schema/V3__standby_pause_request.sql"));

    /** The schema version this library creates and understands. */
    public static final int CURRENT_VERSION = MIGRATIONS.size();

    /** What {@link #install(Connection)} did. */
    public enum Outcome {
        /** There was no schema {@code repmgr}; it has been created at the current version. */
        CREATED,
        /** The schema was repmgr4j's at the current version; nothing was changed. */
        UP_TO_DATE,
        /** The schema was repmgr4j's at an older version; newer scripts have been run. */
        MIGRATED,
        /**
         * The schema was made by repmgr (its extension, or by hand) and has every required
         * table; it is used as it is and nothing was changed.
         */
        ADOPTED
    }

    /**
     * What {@link #install(Connection)} did and at which repmgr4j schema version the
     * schema now is ({@link Optional#empty()} for an {@link Outcome#ADOPTED} schema, which
     * carries no repmgr4j version). Immutable; thread-safe.
     */
    public record Result(Outcome outcome, Optional<Integer> version) {
        public Result {
            Objects.requireNonNull(outcome, "outcome");
            Objects.requireNonNull(version, "version");
        }
    }

    private SchemaInstaller() {
    }

    /**
     * Makes sure the database has a usable {@code repmgr} schema (see the class comment
     * for the cases).
     *
     * <p>With auto-commit on, the installer runs its own transaction and commits it (or
     * rolls it back on failure) and restores auto-commit. With auto-commit off, it works
     * inside the caller's transaction under a savepoint: on failure it rolls back to the
     * savepoint; on success the caller's commit makes the schema visible and releases the
     * lock.
     *
     * @throws ReplicationException {@code DB_QUERY} when the schema is newer than this
     *     library, lacks required tables, is absent on a server in recovery, or a
     *     statement fails; {@code DB_CONN} when the connection fails. Nothing is
     *     changed in either case.
     */
    public static Result install(Connection c) {
        return install(c, MIGRATIONS);
    }

    /** {@link #install(Connection)} with a given list of scripts (tests use this). */
    static Result install(Connection c, List<Migration> migrations) {
        Objects.requireNonNull(c, "connection");
        checkMigrations(migrations);
        boolean ownTransaction;
        try {
            ownTransaction = c.getAutoCommit();
        } catch (SQLException e) {
            throw SqlErrors.map("unable to install the repmgr schema", e);
        }
        Savepoint savepoint = null;
        try {
            if (ownTransaction) {
                c.setAutoCommit(false);
            } else {
                savepoint = c.setSavepoint();
            }
            Result result = installLocked(c, migrations);
            if (ownTransaction) {
                c.commit();
            } else {
                c.releaseSavepoint(savepoint);
            }
            return result;
        } catch (SQLException e) {
            undo(c, ownTransaction, savepoint, e);
            throw SqlErrors.map("unable to install the repmgr schema", e);
        } catch (RuntimeException | Error e) {
            undo(c, ownTransaction, savepoint, e);
            throw e;
        } finally {
            if (ownTransaction) {
                try {
                    c.setAutoCommit(true);
                } catch (SQLException ignored) {
                    // the connection is broken; the caller will find out on its next use
                }
            }
        }
    }

    private static void undo(Connection c, boolean ownTransaction, Savepoint savepoint, Throwable cause) {
        try {
            if (ownTransaction) {
                c.rollback();
            } else if (savepoint != null) {
                c.rollback(savepoint);
            }
        } catch (SQLException e) {
            cause.addSuppressed(SqlErrors.map("unable to roll back the schema installation", e));
        }
    }

    private static Result installLocked(Connection c, List<Migration> migrations) throws SQLException {
        int current = migrations.size();
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_catalog.pg_advisory_xact_lock(?)")) {
            ps.setLong(1, ADVISORY_LOCK_KEY);
            ps.execute();
        }
        State state = inspect(c);
        if (!state.schemaExists) {
            refuseInRecovery(c, "create");
            runMigrations(c, migrations, 1, current);
            setVersionComment(c, current);
            requireTables(inspect(c), "after creating it");
            return new Result(Outcome.CREATED, Optional.of(current));
        }
        Optional<Integer> ours = parseVersion(state.comment);
        if (ours.isPresent()) {
            int installed = ours.get();
            if (installed > current) {
                throw newer(installed, current);
            }
            requireTables(state, null);
            if (installed == current) {
                return new Result(Outcome.UP_TO_DATE, Optional.of(current));
            }
            refuseInRecovery(c, "upgrade");
            runMigrations(c, migrations, installed + 1, current);
            setVersionComment(c, current);
            requireTables(inspect(c), "after upgrading it");
            return new Result(Outcome.MIGRATED, Optional.of(current));
        }
        requireTables(state, null);
        return new Result(Outcome.ADOPTED, Optional.empty());
    }

    /**
     * The repmgr4j schema version recorded in the schema's comment; empty when there is
     * no schema {@code repmgr} or it was not made by repmgr4j (the repmgr extension's, for
     * example).
     *
     * @throws ReplicationException {@code DB_QUERY} when the comment says repmgr4j but
     *     its version cannot be read
     */
    public static Optional<Integer> installedVersion(Connection c) {
        try {
            State state = inspect(c);
            return state.schemaExists ? parseVersion(state.comment) : Optional.empty();
        } catch (SQLException e) {
            throw SqlErrors.map("unable to read the repmgr schema version", e);
        }
    }

    /**
     * True when the database has a usable {@code repmgr} schema: the schema exists and has
     * all of {@link #REQUIRED_TABLES}, whoever made it.
     */
    public static boolean schemaPresent(Connection c) {
        try {
            State state = inspect(c);
            return state.schemaExists && state.tables.containsAll(REQUIRED_TABLES);
        } catch (SQLException e) {
            throw SqlErrors.map("unable to look for the repmgr schema", e);
        }
    }

    /** What the catalog says about schema repmgr. */
    private record State(boolean schemaExists, String comment, Set<String> tables, Optional<String> extensionVersion) {
    }

    private static State inspect(Connection c) throws SQLException {
        boolean exists = false;
        String comment = null;
        Set<String> tables = new TreeSet<>();
        Optional<String> ext = Optional.empty();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT pg_catalog.obj_description(n.oid, 'pg_namespace'),"
                        + " (SELECT e.extversion FROM pg_catalog.pg_extension e WHERE e.extname = 'repmgr'),"
                        + " ARRAY(SELECT r.relname::text FROM pg_catalog.pg_class r"
                        + "        WHERE r.relnamespace = n.oid AND r.relkind IN ('r', 'p') ORDER BY 1)"
                        + " FROM pg_catalog.pg_namespace n WHERE n.nspname = ?")) {
            ps.setString(1, SCHEMA);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    exists = true;
                    comment = rs.getString(1);
                    ext = Optional.ofNullable(rs.getString(2));
                    for (Object t : (Object[]) rs.getArray(3).getArray()) {
                        tables.add((String) t);
                    }
                }
            }
        }
        return new State(exists, comment, tables, ext);
    }

    /** Our version from the schema comment; empty when the comment is not ours. */
    static Optional<Integer> parseVersion(String comment) {
        if (comment == null || !comment.startsWith(COMMENT_PREFIX)) {
            return Optional.empty();
        }
        String number = comment.substring(COMMENT_PREFIX.length()).strip();
        try {
            int v = Integer.parseInt(number);
            if (v < 1) {
                throw new NumberFormatException();
            }
            return Optional.of(v);
        } catch (NumberFormatException e) {
            throw new ReplicationException(ErrorCode.DB_QUERY,
                    "unreadable repmgr4j schema version \"" + number + "\" in the comment of schema \"repmgr\"",
                    "the comment should be \"" + COMMENT_PREFIX + "N\" with N a whole number of 1 or more",
                    "set it back with COMMENT ON SCHEMA repmgr IS '" + COMMENT_PREFIX + "N' using the version the schema is at");
        }
    }

    private static ReplicationException newer(int installed, int supported) {
        return new ReplicationException(ErrorCode.DB_QUERY,
                "schema version " + installed + " is newer than this library supports",
                "schema \"repmgr\" was made or upgraded by a newer repmgr4j; this one knows versions up to " + supported
                        + "; nothing was changed",
                "use a repmgr4j release that supports schema version " + installed + " or later");
    }

    private static void requireTables(State state, String when) {
        List<String> missing = new ArrayList<>();
        for (String t : REQUIRED_TABLES) {
            if (!state.tables.contains(t)) {
                missing.add(SCHEMA + "." + t);
            }
        }
        if (missing.isEmpty()) {
            return;
        }
        String madeBy = state.extensionVersion.map(v -> "the repmgr extension (version " + v + ")")
                .orElse(parseVersion(state.comment).map(v -> "repmgr4j (schema version " + v + ")")
                        .orElse("neither repmgr4j nor the repmgr extension"));
        if (when != null) {
            throw new ReplicationException(ErrorCode.INTERNAL,
                    "schema \"repmgr\" lacks " + String.join(", ", missing) + " " + when,
                    "the schema scripts of this repmgr4j build are incomplete", "report this as a bug in repmgr4j");
        }
        throw new ReplicationException(ErrorCode.DB_QUERY,
                "schema \"repmgr\" exists but lacks " + (missing.size() == 1 ? "table " : "tables ") + String.join(", ", missing),
                "the schema was made by " + madeBy + "; nothing was changed",
                "restore the missing tables, or drop the schema (DROP SCHEMA repmgr CASCADE) if it holds nothing you need"
                        + " and install again");
    }

    private static void refuseInRecovery(Connection c, String what) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_catalog.pg_is_in_recovery()")) {
            rs.next();
            if (rs.getBoolean(1)) {
                throw new ReplicationException(ErrorCode.DB_QUERY,
                        "unable to " + what + " schema \"repmgr\" on a server in recovery",
                        "the server is a standby and accepts no writes",
                        "install the schema on the primary; standbys receive it by replication");
            }
        }
    }

    private static void runMigrations(Connection c, List<Migration> migrations, int from, int to) throws SQLException {
        for (int v = from; v <= to; v++) {
            Migration m = migrations.get(v - 1);
            try (Statement st = c.createStatement()) {
                st.execute(m.sql());
            } catch (SQLException e) {
                throw SqlErrors.map("unable to run repmgr schema script " + m.resource(), e);
            }
        }
    }

    private static void setVersionComment(Connection c, int version) throws SQLException {
        try (Statement st = c.createStatement()) {
            // version is an int: nothing to quote
            st.execute("COMMENT ON SCHEMA repmgr IS '" + COMMENT_PREFIX + version + "'");
        }
    }

    private static void checkMigrations(List<Migration> migrations) {
        if (migrations.isEmpty()) {
            throw new IllegalArgumentException("no schema scripts");
        }
        for (int i = 0; i < migrations.size(); i++) {
            if (migrations.get(i).version() != i + 1) {
                throw new IllegalArgumentException("schema script " + migrations.get(i).resource() + " is out of order");
            }
        }
    }

    /** The text of a script resource, relative to {@code base}'s package. */
    static String readScript(Class<?> base, String resource) {
        try (InputStream in = base.getResourceAsStream(resource)) {
            if (in == null) {
                throw new ReplicationException(ErrorCode.INTERNAL, "schema script " + resource + " is missing from the classpath",
                        null, "the repmgr-sql jar is incomplete; rebuild or reinstall it");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
