package io.repmgr4j.testkit;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.spi.CommandRunner;
import java.nio.file.Path;

/**
 * The accessors {@link PgServer} and {@link PgSandbox} share: everything about a server's
 * {@link Place} (name, address, directories, OS user, runner, conninfo).
 */
abstract class PlacedInstance implements PgInstance {
    final Place place;

    PlacedInstance(Place place) {
        this.place = place;
    }

    /** The name given to the builder (or sandbox); also a standby's application_name. */
    @Override
    public String name() {
        return place.name;
    }

    @Override
    public String host() {
        return place.host;
    }

    /** The loopback TCP port (never 5432); a sandbox's is reserved in this JVM until its server binds it. */
    @Override
    public int port() {
        return place.port();
    }

    /** The data directory; a sandbox's does not exist until something creates it. */
    @Override
    public Path dataDirectory() {
        return place.data;
    }

    @Override
    public Path socketDirectory() {
        return place.sock;
    }

    /** The file the server logs to ({@code pg_ctl -l}). */
    public Path logFile() {
        return place.logFile;
    }

    @Override
    public Path bindir() {
        return place.bindir;
    }

    @Override
    public String osUser() {
        return place.osUser;
    }

    /** Runs programs as {@link #osUser()}; pass it to code under test as the node's runner. */
    @Override
    public CommandRunner runner() {
        return place.runner;
    }

    /**
     * {@code host=127.0.0.1 port=N user=repmgr dbname=repmgr connect_timeout=2}, plus the
     * password when the server has one ({@link ConnInfo#toString()} masks it).
     */
    @Override
    public ConnInfo conninfo() {
        return place.conninfo();
    }

    Place place() {
        return place;
    }

    /** See {@link PgInstance#nodeConfig(int)}. */
    @Override
    public io.repmgr4j.ImmutableNodeConfig.Builder nodeConfig(int nodeId) {
        return PgInstance.super.nodeConfig(nodeId);
    }
}
