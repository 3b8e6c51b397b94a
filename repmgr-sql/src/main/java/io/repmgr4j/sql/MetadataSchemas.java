package io.repmgr4j.sql;

import io.repmgr4j.ErrorCode;
import io.repmgr4j.ReplicationException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Objects;
import java.util.Optional;

/**
 * Chooses how the {@code repmgr} metadata schema is made when a primary is registered:
 * with the real repmgr extension ({@code CREATE EXTENSION repmgr}, as repmgr's own
 * {@code primary register} does) when the extension is available on the server
 * ({@code pg_available_extensions}) and the caller did not ask for the extension-free
 * schema, else with {@link SchemaInstaller}'s extension-free scripts. An existing schema
 * of either kind is used as it is ({@link SchemaInstaller#install}).
 *
 * <p>What the extension needs: {@code CREATE EXTENSION repmgr} needs a superuser (the
 * extension is not trusted); its tables and views work at once. Its daemon functions
 * (repmgrd's pid, pause flag, upstream last seen) keep their state in shared memory and
 * answer only when the server was started with {@code shared_preload_libraries =
 * 'repmgr'}; otherwise they return NULL, a real repmgrd cannot run on that server, and
 * repmgr's {@code service status} shows "not running". repmgr4j's own daemons need none
 * of it: they keep their state in schema {@code repmgr4j} and their beacon sessions, and
 * simply find no repmgrd to pause ({@link RepmgrdShared}).
 *
 * <p>A static utility; thread-safe.
 */
public final class MetadataSchemas {
    private MetadataSchemas() {
    }

    /** How {@link #install} made or found the schema. */
    public record Installed(SchemaInstaller.Result result, boolean byExtension, boolean extensionLibraryLoaded) {
        public Installed {
            Objects.requireNonNull(result, "result");
        }

        /** True when this call created the schema (either way). */
        public boolean created() {
            return result.outcome() == SchemaInstaller.Outcome.CREATED;
        }
    }

    /**
     * Makes sure the primary has a {@code repmgr} schema: with {@code CREATE EXTENSION
     * repmgr} when there is none, the extension is available and {@code extensionFree} is
     * false; otherwise through {@link SchemaInstaller#install}. A schema created by the
     * extension is reported as {@link SchemaInstaller.Outcome#CREATED} with no repmgr4j
     * version. Runs in its own transaction under the installer's advisory lock; the
     * connection must be in auto-commit mode.
     *
     * @throws ReplicationException {@code DB_QUERY} when CREATE EXTENSION fails (for example
     *     without superuser rights); nothing is changed then
     */
    public static Installed install(Connection c, boolean extensionFree) {
        Objects.requireNonNull(c, "connection");
        if (extensionFree || schemaExists(c) || !RepmgrdShared.extensionAvailable(c)) {
            SchemaInstaller.Result r = SchemaInstaller.install(c);
            boolean ext = RepmgrdShared.extensionInstalled(c);
            return new Installed(r, ext, ext && libraryLoaded(c));
        }
        try {
            c.setAutoCommit(false);
            try {
                try (PreparedStatement ps = c.prepareStatement("SELECT pg_catalog.pg_advisory_xact_lock(?)")) {
                    ps.setLong(1, SchemaInstaller.ADVISORY_LOCK_KEY);
                    ps.execute();
                }
                boolean exists;
                try (Statement st = c.createStatement();
                     ResultSet rs = st.executeQuery("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = 'repmgr')")) {
                    rs.next();
                    exists = rs.getBoolean(1);
                }
                if (exists) {
                    // another installer won the race: use what it made
                    c.rollback();
                    c.setAutoCommit(true);
                    return install(c, true);
                }
                try (Statement st = c.createStatement()) {
                    st.execute("CREATE EXTENSION repmgr");
                }
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            ReplicationException mapped = SqlErrors.map("unable to create the repmgr extension", e);
            throw new ReplicationException(ErrorCode.DB_QUERY, "unable to create the repmgr metadata with CREATE EXTENSION repmgr",
                    mapped.getMessage() + mapped.detail().map(d -> ": " + d).orElse("") + "; nothing was changed",
                    "register as a superuser (CREATE EXTENSION repmgr needs one), or ask for the extension-free schema"
                            + " (registerPrimary(...).extensionFree(true))", e);
        }
        return new Installed(new SchemaInstaller.Result(SchemaInstaller.Outcome.CREATED, Optional.empty()), true, libraryLoaded(c));
    }

    private static boolean schemaExists(Connection c) {
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = 'repmgr')")) {
            rs.next();
            return rs.getBoolean(1);
        } catch (SQLException e) {
            throw SqlErrors.map("unable to look for schema repmgr", e);
        }
    }

    /** Whether the server was started with the repmgr library preloaded (its daemon functions answer). */
    public static boolean libraryLoaded(Connection c) {
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT pg_catalog.current_setting('shared_preload_libraries')")) {
            rs.next();
            for (String lib : rs.getString(1).split(",")) {
                String l = lib.strip().replace("\"", "");
                if (l.equals("repmgr") || l.endsWith("/repmgr") || l.equals("$libdir/repmgr")) {
                    return true;
                }
            }
            return false;
        } catch (SQLException e) {
            throw SqlErrors.map("unable to read shared_preload_libraries", e);
        }
    }
}
