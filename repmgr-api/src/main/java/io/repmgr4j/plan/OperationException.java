package io.repmgr4j.plan;

import io.repmgr4j.ErrorCode;
import io.repmgr4j.ReplicationException;
import java.util.Objects;

/**
 * A {@link ReplicationException} from an operation that ran checks and steps: besides
 * what, why and what to do, it carries the {@link OperationReport} up to the failure,
 * which says which steps ran, which failed, and what was done to leave the cluster in a
 * usable state. Immutable once thrown.
 */
public class OperationException extends ReplicationException {
    private static final long serialVersionUID = 1L;

    private final transient OperationReport report;

    public OperationException(ErrorCode code, String message, String detail, String hint, OperationReport report,
                              Throwable cause) {
        super(code, message, detail, hint, cause);
        this.report = Objects.requireNonNull(report, "report");
    }

    /** The report up to the failure. */
    public OperationReport report() {
        return report;
    }
}
