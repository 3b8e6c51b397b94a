package io.repmgr4j.sql;

import io.repmgr4j.ErrorCode;
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
 * Creates or upgrades schema {@code repmgr4j}, where the failover daemons keep the
 * state that must survive restarts and be replicated ({@code repmgr4j.daemon_state}: the
 * pause flag). It is separate from schema {@code repmgr}, which stays exactly repmgr's.
 *
 * <p>Versioned like {@link SchemaInstaller}: scripts {@code daemon/V<N>__<name>.sql}
 * beside this class, the installed version in the schema's comment
 * ({@code repmgr4j daemon state version N}). Idempotent: an up-to-date schema is left
 * alone. Runs in one transaction under a transaction-level advisory lock, refuses to run
 * on a server in recovery, and refuses a schema newer than it knows.
 *
 * <p>A static utility; thread-safe (a {@code Connection} is not: do not share one between
 * threads while it runs).
 */
public final class DaemonStateInstaller {

    /** The schema's name. */
    public static final String SCHEMA = "repmgr4j";

    /** The advisory lock key: {@code "r4jdaemn"} in ASCII as a bigint. */
    public static final long ADVISORY_LOCK_KEY = 0x72346a6461656d6eL;

    static final String COMMENT_PREFIX = "repmgr4j daemon state version ";

    /** The scripts, in order; version N is at index N-1. Add new ones at the end only. */
    private static final List<String> SCRIPTS = List.of("daemon/V1__daemon_state.sql", "daemon/V2__synchronous.sql");

    /** The version this library creates and understands. */
    public static final int CURRENT_VERSION = SCRIPTS.size();

    /** What {@link #install(Connection)} did. */
    public enum Outcome { CREATED, UP_TO_DATE, MIGRATED }

    private DaemonStateInstaller() {
    }

    /**
     * Makes sure schema {@code repmgr4j} exists at the current version, committing its own
     * transaction (the connection must be in auto-commit mode, and is left so).
     *
     * @throws ReplicationException {@code DB_QUERY} on a server in recovery when there is
     *     something to do, for a newer schema, or when a statement fails; {@code DB_CONN}
     *     when the connection fails. Nothing is changed in these cases.
     */
    public static Outcome install(Connection c) {
        Objects.requireNonNull(c, "connection");
        try {
            if (!c.getAutoCommit()) {
                throw new IllegalStateException("DaemonStateInstaller.install needs a connection in auto-commit mode");
            }
            Optional<Integer> seen = installedVersion(c);
            if (seen.isPresent() && seen.get() == CURRENT_VERSION) {
                return Outcome.UP_TO_DATE; // the common case, without a lock or a write
            }
            c.setAutoCommit(false);
            try {
                try (PreparedStatement ps = c.prepareStatement("SELECT pg_catalog.pg_advisory_xact_lock(?)")) {
                    ps.setLong(1, ADVISORY_LOCK_KEY);
                    ps.execute();
                }
                Optional<Integer> installed = installedVersion(c);
                int from = installed.orElse(0);
                if (from > CURRENT_VERSION) {
                    throw new ReplicationException(ErrorCode.DB_QUERY,
                            "schema \"repmgr4j\" is at version " + from + ", newer than this library supports",
                            "this repmgr4j knows daemon state versions up to " + CURRENT_VERSION + "; nothing was changed",
                            "use a repmgr4j release that supports daemon state version " + from + " or later");
                }
                Outcome outcome = from == 0 ? Outcome.CREATED : from == CURRENT_VERSION ? Outcome.UP_TO_DATE : Outcome.MIGRATED;
                if (outcome != Outcome.UP_TO_DATE) {
                    refuseInRecovery(c);
                    for (int v = from + 1; v <= CURRENT_VERSION; v++) {
                        String script = SCRIPTS.get(v - 1);
                        try (Statement st = c.createStatement()) {
                            st.execute(SchemaInstaller.readScript(DaemonStateInstaller.class, script));
                        }
                    }
                    try (Statement st = c.createStatement()) {
                        st.execute("COMMENT ON SCHEMA repmgr4j IS '" + COMMENT_PREFIX + CURRENT_VERSION + "'");
                    }
                }
                c.commit();
                return outcome;
            } catch (SQLException | RuntimeException e) {
                try {
                    c.rollback();
                } catch (SQLException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw SqlErrors.map("unable to install schema \"repmgr4j\"", e);
        }
    }

    /** The installed version; empty when there is no schema {@code repmgr4j}. */
    public static Optional<Integer> installedVersion(Connection c) {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT pg_catalog.obj_description(n.oid, 'pg_namespace') FROM pg_catalog.pg_namespace n WHERE n.nspname = ?")) {
            ps.setString(1, SCHEMA);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                String comment = rs.getString(1);
                if (comment == null || !comment.startsWith(COMMENT_PREFIX)) {
                    throw new ReplicationException(ErrorCode.DB_QUERY,
                            "schema \"repmgr4j\" exists but was not made by repmgr4j's daemon state installer",
                            "its comment is " + (comment == null ? "empty" : "\"" + comment + "\""),
                            "rename or drop that schema; repmgr4j keeps the daemons' state there");
                }
                try {
                    return Optional.of(Integer.parseInt(comment.substring(COMMENT_PREFIX.length()).strip()));
                } catch (NumberFormatException e) {
                    throw new ReplicationException(ErrorCode.DB_QUERY, "unreadable version in the comment of schema \"repmgr4j\"",
                            "the comment should be \"" + COMMENT_PREFIX + "N\"", null);
                }
            }
        } catch (SQLException e) {
            throw SqlErrors.map("unable to look for schema \"repmgr4j\"", e);
        }
    }

    private static void refuseInRecovery(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_catalog.pg_is_in_recovery()")) {
            rs.next();
            if (rs.getBoolean(1)) {
                throw new ReplicationException(ErrorCode.DB_QUERY,
                        "unable to create schema \"repmgr4j\" on a server in recovery",
                        "the server is a standby and accepts no writes",
                        "install it on the primary; standbys receive it by replication");
            }
        }
    }
}
