package io.repmgr4j;

/**
 * Why an operation failed, numbered as repmgr's exit codes so that scripts and
 * operators who know repmgr read the same numbers. Immutable; thread-safe.
 */
public enum ErrorCode {
    SUCCESS(0),
    BAD_CONFIG(1),
    BAD_RSYNC(2),
    BAD_PIDFILE(3),
    NO_RESTART(4),
    LOCAL_COMMAND(5),
    DB_CONN(6),
    DB_QUERY(7),
    PROMOTION_FAIL(8),
    MONITORING_TIMEOUT(9),
    STR_OVERFLOW(10),
    FAILOVER_FAIL(11),
    BAD_SSH(12),
    SYS_FAILURE(13),
    BAD_BASEBACKUP(14),
    INTERNAL(15),
    MONITORING_FAIL(16),
    BAD_BACKUP_LABEL(17),
    SWITCHOVER_FAIL(18),
    BARMAN(19),
    REGISTRATION_SYNC(20),
    OUT_OF_MEMORY(21),
    SWITCHOVER_INCOMPLETE(22),
    FOLLOW_FAIL(23),
    REJOIN_FAIL(24),
    NODE_STATUS(25),
    REPMGRD_PAUSE(26),
    REPMGRD_SERVICE(27);

    private final int exitCode;

    ErrorCode(int exitCode) {
        this.exitCode = exitCode;
    }

    /** The number repmgr exits with for this error. */
    public int exitCode() {
        return exitCode;
    }

    /** The code with the given repmgr exit number. */
    public static ErrorCode ofExitCode(int exitCode) {
        for (ErrorCode c : values()) {
            if (c.exitCode == exitCode) {
                return c;
            }
        }
        throw new IllegalArgumentException("no repmgr error code " + exitCode);
    }
}
