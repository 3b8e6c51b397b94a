package io.repmgr4j;

import java.util.Objects;
import java.util.Optional;

/**
 * The one exception type of repmgr4j: what went wrong (the message), why (the detail)
 * and what to do about it (the hint), plus an {@link ErrorCode} with repmgr's exit
 * number. Messages never contain passwords. Immutable once thrown.
 */
public class ReplicationException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final ErrorCode code;
    private final String detail;
    private final String hint;

    public ReplicationException(ErrorCode code, String message) {
        this(code, message, null, null, null);
    }

    public ReplicationException(ErrorCode code, String message, String detail, String hint) {
        this(code, message, detail, hint, null);
    }

    public ReplicationException(ErrorCode code, String message, String detail, String hint, Throwable cause) {
        super(Objects.requireNonNull(message, "message"), cause);
        this.code = Objects.requireNonNull(code, "code");
        this.detail = detail;
        this.hint = hint;
    }

    /** The error's code; {@code code().exitCode()} is repmgr's exit status for it. */
    public ErrorCode code() {
        return code;
    }

    /** Why it happened, when known. */
    public Optional<String> detail() {
        return Optional.ofNullable(detail);
    }

    /** What the caller can do about it, when known. */
    public Optional<String> hint() {
        return Optional.ofNullable(hint);
    }

    /** The error in repmgr's ERROR / DETAIL / HINT form, one item per line. */
    public String toReport() {
        StringBuilder sb = new StringBuilder("ERROR: ").append(getMessage());
        if (detail != null) {
            sb.append("\nDETAIL: ").append(detail);
        }
        if (hint != null) {
            sb.append("\nHINT: ").append(hint);
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + code + "]: " + toReport().replace('\n', ' ');
    }
}
