package io.repmgr4j.testkit;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.ImmutableNodeConfig;
import io.repmgr4j.spi.CommandRunner;
import java.sql.Connection;
import java.time.Duration;

/**
 * One PostgreSQL server of a test's {@link ReplicaSet}, wherever it runs: a local
 * {@link PgServer}, or a container of the repmgr-testcontainers backend. Write tests
 * against this type to run them on either backend. Implementations are thread-safe.
 */
public interface PgNode {
    /** The node's name ({@code pg1}, or {@code MyTest-pg1} when named after a test); a standby's application_name. */
    String name();

    /** The address the server listens on, reachable from the test JVM and from the other nodes. */
    String host();

    /** The server's TCP port. */
    int port();

    /** {@code host=... port=N user=repmgr dbname=repmgr connect_timeout=2}, the same for the JVM and the other nodes. */
    ConnInfo conninfo();

    /** Runs programs on the node's host (this machine, or inside its container) as the server's OS user. */
    CommandRunner runner();

    /**
     * A node configuration for this server, ready to finish and build: node id, name,
     * conninfo, data directory and pg_bindir as the node's host sees them.
     */
    ImmutableNodeConfig.Builder nodeConfig(int nodeId);

    /** A new connection as {@code repmgr} to database {@code repmgr}; the caller closes it. */
    Connection connect();

    /** Runs one statement as {@code repmgr} in its own connection (autocommit). */
    void execute(String sql);

    /** The first column of the first row of a query, or null. */
    <T> T query(String sql, Class<T> type);

    /** {@code pg_is_in_recovery()}. */
    boolean inRecovery();

    /** Whether a postmaster serves the data directory. */
    boolean isRunning();

    /** Starts the server unless it runs. */
    void start();

    /** Stops the server (fast shutdown); nothing when it is not running. */
    void stop();

    /** SIGKILLs the postmaster and waits until it is gone. */
    void kill9();

    /** The last {@code lines} lines of the server log. */
    String logTail(int lines);

    /** Waits until this server's pg_stat_replication shows {@code applicationName} streaming. */
    void waitForStreaming(String applicationName, Duration timeout);
}
