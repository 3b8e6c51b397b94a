package io.repmgr4j.sql;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The state a real repmgrd keeps in the shared memory of the server it runs beside, read
 * and set through the functions of the repmgr extension ({@code CREATE EXTENSION
 * repmgr}): its pid, whether it runs, its pause flag, and how long ago it last saw its
 * upstream.
 *
 * <p>The extension's functions answer only when its library is loaded at server start
 * ({@code shared_preload_libraries = 'repmgr'}); otherwise they return NULL (repmgr's
 * tools then show "not running"), no repmgrd can run there, and {@link #read} says
 * {@link Presence#EXTENSION_NOT_LOADED}. On a schema without the extension (repmgr4j's
 * own, whose functions of the same names answer for repmgr4j's daemons) it says
 * {@link Presence#NO_EXTENSION} and calls nothing, so a repmgr4j daemon is never taken
 * for a repmgrd. A static utility; thread-safe.
 */
public final class RepmgrdShared {
    private RepmgrdShared() {
    }

    /** Whether a server can have a real repmgrd beside it. */
    public enum Presence {
        /** No repmgr extension in this database. */
        NO_EXTENSION,
        /** The extension is installed but its library is not preloaded: no shared memory, no repmgrd. */
        EXTENSION_NOT_LOADED,
        /** The extension is installed and its shared memory answers. */
        LOADED
    }

    /**
     * What the extension's shared memory says on one server. {@code pid} is empty when no
     * repmgrd ever registered since the server started; {@code upstreamLastSeenSecs} is
     * empty on a primary or when never seen. Immutable; thread-safe.
     */
    public record State(Presence presence, OptionalInt pid, boolean running, boolean paused, OptionalInt upstreamLastSeenSecs,
                        OptionalInt upstreamNodeId) {
        static State of(Presence p) {
            return new State(p, OptionalInt.empty(), false, false, OptionalInt.empty(), OptionalInt.empty());
        }

        /** True when a real repmgrd runs beside this server. */
        public boolean repmgrdRunning() {
            return presence == Presence.LOADED && running;
        }
    }

    /** Whether the repmgr extension is installed in the connection's database. */
    public static boolean extensionInstalled(Connection c) {
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'repmgr')")) {
            rs.next();
            return rs.getBoolean(1);
        } catch (SQLException e) {
            throw SqlErrors.map("unable to look for the repmgr extension", e);
        }
    }

    /** Whether the repmgr extension can be created on this server (its files are installed: pg_available_extensions). */
    public static boolean extensionAvailable(Connection c) {
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_available_extensions WHERE name = 'repmgr')")) {
            rs.next();
            return rs.getBoolean(1);
        } catch (SQLException e) {
            throw SqlErrors.map("unable to look for the repmgr extension", e);
        }
    }

    /** Reads the extension's shared state on this server (two queries when the extension is installed, one otherwise). */
    public static State read(Connection c) {
        if (!extensionInstalled(c)) {
            return State.of(Presence.NO_EXTENSION);
        }
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT repmgr.get_repmgrd_pid(), repmgr.repmgrd_is_running(), repmgr.repmgrd_is_paused(),"
                     + " CASE WHEN pg_catalog.pg_is_in_recovery() THEN repmgr.get_upstream_last_seen() ELSE -1 END,"
                     + " repmgr.get_upstream_node_id()")) {
            rs.next();
            int pid = rs.getInt(1);
            boolean pidNull = rs.wasNull();
            boolean running = rs.getBoolean(2);
            boolean runningNull = rs.wasNull();
            boolean paused = rs.getBoolean(3);
            boolean pausedNull = rs.wasNull();
            if (pidNull && runningNull && pausedNull) {
                return State.of(Presence.EXTENSION_NOT_LOADED);
            }
            int seen = rs.getInt(4);
            boolean seenNull = rs.wasNull();
            int up = rs.getInt(5);
            boolean upNull = rs.wasNull();
            return new State(Presence.LOADED, pid > 0 ? OptionalInt.of(pid) : OptionalInt.empty(), running, paused,
                    !seenNull && seen >= 0 ? OptionalInt.of(seen) : OptionalInt.empty(),
                    !upNull && up > 0 ? OptionalInt.of(up) : OptionalInt.empty());
        } catch (SQLException e) {
            throw SqlErrors.map("unable to read repmgrd's shared state", e);
        }
    }

    /**
     * True when the extension's pause flag is set on this server ({@code repmgr service
     * pause}); false without the extension or its library.
     */
    public static boolean pausedHere(Connection c) {
        State s = read(c);
        return s.presence() == Presence.LOADED && s.paused();
    }

    /**
     * Sets the extension's pause flag on this server, as {@code repmgr service pause} does
     * on each node; a repmgrd reads it on its next check. Returns the presence found: the
     * flag is set only when it is {@link Presence#LOADED}.
     */
    public static Presence pause(Connection c, boolean paused) {
        State s = read(c);
        if (s.presence() != Presence.LOADED) {
            return s.presence();
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT repmgr.repmgrd_pause(?)")) {
            ps.setBoolean(1, paused);
            ps.execute();
            return Presence.LOADED;
        } catch (SQLException e) {
            throw SqlErrors.map("unable to " + (paused ? "pause" : "unpause") + " repmgrd", e);
        }
    }

    /** The extension version installed in this database, if any. */
    public static Optional<String> installedVersion(Connection c) {
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'repmgr'")) {
            return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
        } catch (SQLException e) {
            throw SqlErrors.map("unable to read the repmgr extension's version", e);
        }
    }
}
