package io.repmgr4j.sql;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.ReplicationException;
import java.sql.SQLException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/**
 * Turns {@link SQLException}s into {@link ReplicationException}s in repmgr's
 * ERROR/DETAIL/HINT form, and scrubs passwords from any text that came from the server.
 * Stateless; thread-safe.
 */
final class SqlErrors {
    private SqlErrors() {
    }

    /** {@code password=secret}, {@code password = 'se cret'}, in conninfo strings and row dumps. */
    private static final Pattern KEYWORD_PASSWORD =
            Pattern.compile("(password\\s*=\\s*)('(?:[^'\\\\]|\\\\.)*'|[^\\s,)]+)", Pattern.CASE_INSENSITIVE);

    /** {@code postgresql://user:secret@host}. */
    private static final Pattern URI_PASSWORD =
            Pattern.compile("(postgres(?:ql)?://[^:/@\\s]*:)([^@\\s]*)(@)", Pattern.CASE_INSENSITIVE);

    /** Replaces every password-looking value in {@code text} by {@link ConnInfo#MASK}. */
    static String redact(String text) {
        if (text == null) {
            return null;
        }
        String s = KEYWORD_PASSWORD.matcher(text).replaceAll(m -> Matcher.quoteReplacement(m.group(1) + ConnInfo.MASK));
        return URI_PASSWORD.matcher(s).replaceAll(m -> Matcher.quoteReplacement(m.group(1) + ConnInfo.MASK + m.group(3)));
    }

    /** {@link #redact(String)}, after masking the password of {@code secrets} wherever it occurs. */
    static String redact(String text, ConnInfo secrets) {
        return redact(secrets == null ? text : secrets.maskIn(text));
    }

    /** True when the SQLState says the connection failed or was lost (class 08). */
    static boolean isConnectionFailure(SQLException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException) {
                String state = ((SQLException) t).getSQLState();
                if (state != null && state.startsWith("08")) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * The exception for a failed database action.
     *
     * @param action what we were doing, as a message: "unable to read node records"
     * @param e what the driver said
     */
    static ReplicationException map(String action, SQLException e) {
        return map(action, e, null);
    }

    /**
     * As {@link #map(String, SQLException)}, with a hint of our own used when the server
     * gave none.
     */
    static ReplicationException map(String action, SQLException e, String ourHint) {
        return map(action, e, ourHint, null);
    }

    /**
     * As {@link #map(String, SQLException, String)}; also masks every occurrence of the
     * password of {@code secrets} (the conninfo of a record being written), which the
     * server may quote in a "failing row" detail.
     */
    static ReplicationException map(String action, SQLException e, String ourHint, ConnInfo secrets) {
        boolean conn = isConnectionFailure(e);
        ErrorCode code = conn ? ErrorCode.DB_CONN : ErrorCode.DB_QUERY;
        String serverMessage = null;
        String serverDetail = null;
        String serverHint = null;
        if (e instanceof PSQLException) {
            ServerErrorMessage sem = ((PSQLException) e).getServerErrorMessage();
            if (sem != null) {
                serverMessage = sem.getMessage();
                serverDetail = sem.getDetail();
                serverHint = sem.getHint();
            }
        }
        if (serverMessage == null) {
            serverMessage = e.getMessage();
        }
        StringBuilder detail = new StringBuilder();
        if (serverMessage != null) {
            detail.append(serverMessage.strip());
        }
        if (serverDetail != null) {
            detail.append(detail.length() > 0 ? " (" : "(").append(serverDetail.strip()).append(')');
        }
        if (e.getSQLState() != null) {
            detail.append(" [SQLSTATE ").append(e.getSQLState()).append(']');
        }
        String hint = serverHint != null ? serverHint : ourHint;
        if (hint == null && ("42P01".equals(e.getSQLState()) || "3F000".equals(e.getSQLState()))) {
            hint = "the repmgr metadata schema is missing or incomplete in this database;"
                    + " install it on the primary (SchemaInstaller.install)";
        }
        if (hint == null && conn) {
            hint = "check that the server is running and accepts connections at the address in the conninfo";
        }
        // The driver's exception may quote a failing row, conninfo column included: keep
        // only a scrubbed copy of its text in the chain, never the original.
        SQLException scrubbed = new SQLException(redact(e.getMessage(), secrets), e.getSQLState(), e.getErrorCode());
        scrubbed.setStackTrace(e.getStackTrace());
        return new ReplicationException(code, redact(action, secrets),
                detail.length() == 0 ? null : redact(detail.toString(), secrets), redact(hint, secrets), scrubbed);
    }
}
