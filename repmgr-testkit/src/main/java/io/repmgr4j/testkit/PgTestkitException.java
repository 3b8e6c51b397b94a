package io.repmgr4j.testkit;

/**
 * A test server could not be prepared, started, stopped, reached or cleaned up, or a
 * wait ran past its timeout. The message says what failed and, where a server log
 * exists, ends with its last lines. Messages never contain a password. Immutable;
 * thread-safe.
 */
public final class PgTestkitException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public PgTestkitException(String message) {
        super(message);
    }

    public PgTestkitException(String message, Throwable cause) {
        super(message, cause);
    }
}
