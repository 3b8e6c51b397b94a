package io.repmgr4j.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * A place for a server that does not exist yet: a free loopback port, a base directory
 * owned by the OS user the server will run as, a socket directory and a log directory,
 * but no data directory. Code under test fills {@link #dataDirectory()} (typically with
 * pg_basebackup, as a standby clone does); {@link #adopt()} then starts the server there
 * and hands back a {@link PgServer} that owns the directories.
 *
 * <pre>{@code
 * try (PgSandbox sandbox = PgSandbox.allocate("pg2")) {
 *     // code under test clones into sandbox.dataDirectory() through sandbox.runner(),
 *     // e.g. pg_basebackup -D <dataDirectory> -X stream -R ...
 *     PgServer standby = sandbox.adopt();
 *     ...
 * }   // closing the sandbox closes the adopted server too
 * }</pre>
 *
 * Thread-safe.
 */
public final class PgSandbox extends PlacedInstance implements AutoCloseable {
    private PgServer adopted;
    private boolean closed;

    private PgSandbox(Place place) {
        super(place);
    }

    /** A sandbox for a server running as the default OS user, without a password. */
    public static PgSandbox allocate(String name) {
        return allocate(name, null, null);
    }

    /**
     * A sandbox for a server running as {@code osUser} (null: the default, see
     * {@link PgServer.Builder#osUser(String)}) whose role {@code repmgr} has
     * {@code password} (null: none); the password only goes into {@link #conninfo()} and
     * into the adopted server's connections, since the data directory brings its roles along.
     */
    public static PgSandbox allocate(String name, String osUser, String password) {
        return allocate(name, osUser, password, null);
    }

    static PgSandbox allocate(String name, String osUser, String password, Path bindir) {
        Place place = Place.allocate(name, osUser, password, bindir);
        PgSandbox sandbox = new PgSandbox(place);
        Workspace.register(sandbox);
        return sandbox;
    }

    /** A sandbox on a place allocated already (a server inside a {@link NetLab} namespace). */
    static PgSandbox allocate(Place place) {
        PgSandbox sandbox = new PgSandbox(place);
        Workspace.register(sandbox);
        return sandbox;
    }

    /** The base directory holding data/, sock/ and log/ (exists, owned by {@link #osUser()}). */
    public Path baseDirectory() {
        return place.root;
    }

    /**
     * Starts a server on the data directory something put here, on this sandbox's port and
     * socket directory (written into postgresql.auto.conf, overriding what a copied
     * configuration says), and returns its handle, which from now on owns the directories.
     * The port is not changed even if it was taken meanwhile: it has been handed out.
     * A server that code under test already started on the data directory (a library's
     * {@code pg_ctl start}) is taken over as it runs, not restarted; it should listen on
     * {@link #port()} (its conninfo is {@link #conninfo()}).
     *
     * @throws IllegalStateException when the data directory holds no cluster, or on a second call
     * @throws PgTestkitException when the server does not start (the sandbox keeps the directories)
     */
    public PgServer adopt() {
        return adopt(false);
    }

    synchronized PgServer adopt(boolean mayChangePort) {
        if (closed) {
            throw new IllegalStateException("sandbox " + name() + " is closed");
        }
        if (adopted != null) {
            throw new IllegalStateException("sandbox " + name() + " was adopted already");
        }
        if (!Files.isRegularFile(place.data.resolve("PG_VERSION"))) {
            throw new IllegalStateException("sandbox " + name() + ": " + place.data
                    + " holds no PostgreSQL data directory yet (fill it first, for example with pg_basebackup)");
        }
        try {
            if (place.switchUser) {
                Workspace.chownTree(place.data, place.osUser);
            }
            Files.setPosixFilePermissions(place.data, PosixFilePermissions.fromString("rwx------"));
        } catch (IOException e) {
            throw new PgTestkitException("cannot prepare " + place.data + ": " + e.getMessage(), e);
        }
        PgServer server = new PgServer(place);
        if (!place.serverRunning()) {
            server.startServer(mayChangePort ? 3 : 1);
        }
        adopted = server;
        Workspace.register(server);
        Workspace.unregister(this);
        return server;
    }

    /**
     * Stops a server running in this sandbox (the adopted one, or one started by other
     * means) and deletes the directories. Idempotent.
     */
    @Override
    public void close() {
        PgServer server;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            server = adopted;
        }
        Workspace.unregister(this);
        if (server != null) {
            server.close();
        } else {
            place.destroy();
        }
    }

    @Override
    public String toString() {
        return "PgSandbox[" + place + "]";
    }
}
