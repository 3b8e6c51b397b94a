package io.repmgr4j.sql;

import io.repmgr4j.ReplicationException;
import java.sql.SQLException;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/**
 * Why a connection to a node failed, read from the driver's SQLState and message:
 * authentication (28P01, 28000, or no password to send), network (08001, 08006: refused,
 * unreachable, timed out), a database that does not exist (3D000), TLS, or anything else;
 * and the hint that fits each cause. Used wherever a connection error reaches the user, so
 * a wrong password never reads as "register the primary first". Stateless; thread-safe.
 */
public final class ConnectFailures {
    private ConnectFailures() {
    }

    /** What a failed connection attempt was about. */
    public enum Cause { AUTHENTICATION, NETWORK, MISSING_DATABASE, TLS, OTHER }

    /**
     * One node's failure: where, the SQLState (empty when the driver gave none), the
     * server's or driver's message (passwords masked) and its cause.
     */
    public record Failure(String where, String sqlState, String message, Cause cause) {
        /** {@code 127.0.0.1:5433: [28P01] password authentication failed for user "repmgr"}. */
        public String describe() {
            return where + ": " + (sqlState.isEmpty() ? "" : "[" + sqlState + "] ") + message;
        }
    }

    /** The failure {@code error} (a {@link ReplicationException} from {@link PgConnections}, or an {@link SQLException}) stands for. */
    public static Failure of(String where, Throwable error) {
        SQLException sql = null;
        for (Throwable t = error; t != null && sql == null; t = t.getCause()) {
            if (t instanceof SQLException s) {
                sql = s;
            }
        }
        String state = sql != null && sql.getSQLState() != null ? sql.getSQLState() : "";
        String message = null;
        if (sql instanceof PSQLException p) {
            ServerErrorMessage sem = p.getServerErrorMessage();
            message = sem == null ? null : sem.getMessage();
        }
        if (message == null) {
            message = sql != null && sql.getMessage() != null ? sql.getMessage() : String.valueOf(error.getMessage());
        }
        message = SqlErrors.redact(message.strip());
        return new Failure(where, state, message, cause(state, message, error));
    }

    static Cause cause(String state, String message, Throwable error) {
        String m = message.toLowerCase(Locale.ROOT);
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t instanceof javax.net.ssl.SSLException) {
                return Cause.TLS;
            }
        }
        if (m.contains("ssl") || m.contains("tls") || m.contains("certificate")) {
            return Cause.TLS;
        }
        if (state.equals("28P01") || state.equals("28000") || m.contains("password") || m.contains("authentication")) {
            return Cause.AUTHENTICATION;
        }
        if (state.equals("3D000")) {
            return Cause.MISSING_DATABASE;
        }
        if (state.equals("08001") || state.equals("08006") || state.equals("08004") || state.startsWith("08")) {
            return Cause.NETWORK;
        }
        return Cause.OTHER;
    }

    /** The hint for one cause. */
    public static String hint(Cause cause) {
        return switch (cause) {
            case AUTHENTICATION -> "check the user and password in the conninfo (or the passfile / PGPASSFILE it"
                    + " names) and the server's pg_hba.conf line for this client";
            case NETWORK -> PgConnections.CONNECT_HINT;
            case MISSING_DATABASE -> "check dbname in the conninfo: that database does not exist on the server";
            case TLS -> "check sslmode and the certificates in the conninfo against the server's ssl settings";
            case OTHER -> "see the server's message in the detail";
        };
    }

    /** The hints for several failures, each cause's once, in the order first seen. */
    public static String hint(Collection<Failure> failures) {
        Set<Cause> causes = new LinkedHashSet<>();
        failures.forEach(f -> causes.add(f.cause()));
        return causes.stream().map(ConnectFailures::hint).collect(Collectors.joining("; "));
    }
}
