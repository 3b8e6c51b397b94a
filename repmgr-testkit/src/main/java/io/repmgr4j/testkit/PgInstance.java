package io.repmgr4j.testkit;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.ImmutableNodeConfig;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.spi.CommandRunner;
import java.nio.file.Path;

/**
 * Where a throw-away PostgreSQL server lives or will live: its name, loopback address,
 * directories, OS user and the runner for its programs. Shared by {@link PgServer} (a
 * running server) and {@link PgSandbox} (a place a server will be cloned into).
 * Implementations are thread-safe.
 */
public interface PgInstance {
    String name();

    /** Always {@code 127.0.0.1}. */
    String host();

    /** The loopback TCP port (never 5432). */
    int port();

    Path dataDirectory();

    /** The server's own Unix-socket directory. */
    Path socketDirectory();

    /** The directory of the PostgreSQL programs the server uses. */
    Path bindir();

    /** The OS user the server runs as. */
    String osUser();

    /** Runs programs as {@link #osUser()}. */
    CommandRunner runner();

    /** {@code host=127.0.0.1 port=N user=repmgr dbname=repmgr connect_timeout=2} (+ password when set). */
    ConnInfo conninfo();

    /**
     * A node configuration for this server, ready to finish and build: node id, name,
     * conninfo, data directory and pg_bindir filled in (priority, location and the rest
     * keep repmgr's defaults until set).
     */
    default ImmutableNodeConfig.Builder nodeConfig(int nodeId) {
        return NodeConfig.builder()
                .nodeId(nodeId)
                .nodeName(name())
                .conninfo(conninfo())
                .dataDirectory(dataDirectory().toString())
                .pgBindir(bindir().toString());
    }
}
