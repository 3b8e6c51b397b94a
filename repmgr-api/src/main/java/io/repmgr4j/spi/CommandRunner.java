package io.repmgr4j.spi;

/**
 * Runs programs on one node's host: locally ({@code LocalCommandRunner}) or over SSH.
 * Every operation that touches a node's host (start, stop, pg_basebackup, pg_rewind,
 * pg_controldata, files in the data directory) goes through the node's runner, so no
 * code assumes the node is on the machine running the library. Implementations are
 * thread-safe.
 */
public interface CommandRunner {

    /**
     * Runs a command to its end or its timeout; a command that ran past its timeout is
     * killed (with everything it started) and reported with {@code timedOut() == true}.
     *
     * @throws io.repmgr4j.ReplicationException ({@code LOCAL_COMMAND} or {@code BAD_SSH})
     *     when the command could not be started at all
     */
    CommandResult run(Command command);

    /** Where commands run, for messages: {@code local}, {@code ssh postgres@pg1:22}. */
    String describe();
}
