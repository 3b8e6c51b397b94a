package io.repmgr4j.spi;

import io.repmgr4j.ErrorCode;
import io.repmgr4j.ReplicationException;

/**
 * A {@link ConsensusStore} call that did not succeed: the store did not answer in time
 * ({@link #unavailable()}: a write's outcome is unknown), a leadership is no longer held
 * ({@link #lost()}), or the store refused the call. Error code {@link ErrorCode#DB_CONN} for
 * an unreachable store, {@link ErrorCode#FAILOVER_FAIL} otherwise. Immutable once thrown.
 */
public class ConsensusException extends ReplicationException {
    private static final long serialVersionUID = 1L;

    /** Why a call failed. */
    public enum Reason {
        /** No answer from a quorum within the timeout. */
        UNAVAILABLE,
        /** The lease or the key is gone, or the key names another leader. */
        LOST,
        /** The store answered with an error (permission, bad request). */
        REFUSED
    }

    private final Reason reason;

    public ConsensusException(Reason reason, String message, String detail, String hint, Throwable cause) {
        super(reason == Reason.UNAVAILABLE ? ErrorCode.DB_CONN : ErrorCode.FAILOVER_FAIL, message, detail, hint, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }

    public boolean unavailable() {
        return reason == Reason.UNAVAILABLE;
    }

    public boolean lost() {
        return reason == Reason.LOST;
    }
}
