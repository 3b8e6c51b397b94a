package io.repmgr4j.sql;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.ConnInfo.HostPort;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.ReplicationException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.stream.Collectors;
import org.postgresql.PGProperty;

/**
 * Opens pgjdbc connections from libpq connection strings: turns a {@link ConnInfo} into a
 * {@code jdbc:postgresql://h1:p1,h2:p2/dbname} URL plus driver properties, and connection
 * failures into {@link ReplicationException}s with {@link ErrorCode#DB_CONN}.
 *
 * <p>How libpq keywords map to pgjdbc:
 * <ul>
 *   <li>{@code host}/{@code port} (or {@code hostaddr} when given): the URL's host list;
 *       a host starting with {@code /} (a Unix-domain socket directory) is refused, since
 *       pgjdbc speaks TCP only. With no host at all, {@code localhost} over TCP is used
 *       (where libpq would use its default socket).</li>
 *   <li>{@code dbname}: the URL's path; libpq's default (the user name) applies.</li>
 *   <li>{@code user}, {@code password}, {@code sslmode}, {@code sslcert}, {@code sslkey},
 *       {@code sslrootcert}, {@code sslpassword}, {@code options}: passed through.</li>
 *   <li>{@code connect_timeout} (seconds; 10 when absent; 0 or less means no limit, as in
 *       libpq; 1 counts as 2, as in libpq) becomes {@code connectTimeout}, capped by the
 *       caller's cap, and {@code loginTimeout} is that times the number of hosts, because
 *       libpq's timeout applies to each host in turn.</li>
 *   <li>{@code application_name} (else {@code fallback_application_name}, else
 *       {@code "repmgr4j"}) becomes {@code ApplicationName}.</li>
 *   <li>{@code target_session_attrs} becomes {@code targetServerType}: any → any,
 *       read-write/primary → primary, read-only/standby → secondary,
 *       prefer-standby → preferSecondary.</li>
 * </ul>
 * With no {@code password}, the password file libpq would read ({@code passfile}, else
 * {@code PGPASSFILE}, else {@code ~/.pgpass}) gives it ({@link PassFile}).
 * Other keywords are ignored. No password ever appears in a message this class produces.
 *
 * <p>Stateless; thread-safe.
 */
public final class PgConnections {

    /** {@code connect_timeout} when the connection string has none, in seconds. */
    public static final int DEFAULT_CONNECT_TIMEOUT_SECONDS = 10;

    /** {@code ApplicationName} when the connection string has none. */
    public static final String DEFAULT_APPLICATION_NAME = "repmgr4j";

    static final String CONNECT_HINT =
            "check that the server is running and accepts TCP connections on that host and port";

    private static final Driver DRIVER = new org.postgresql.Driver();

    /** Keywords handed to pgjdbc under the same name. */
    private static final List<String> PASSED_THROUGH =
            List.of("sslmode", "sslcert", "sslkey", "sslrootcert", "sslpassword", "options");

    private PgConnections() {
    }

    /** Opens a connection with the connection string's own timeouts. */
    public static Connection open(ConnInfo info) {
        return open(info, null, null);
    }

    /**
     * Opens a connection whose connect timeout is at most {@code connectTimeoutCap}
     * ({@code null}: no cap).
     */
    public static Connection open(ConnInfo info, Duration connectTimeoutCap) {
        return open(info, connectTimeoutCap, null);
    }

    /**
     * Opens a connection whose connect timeout is at most {@code connectTimeoutCap} and
     * whose reads time out after {@code socketTimeout} ({@code null} for either: none).
     *
     * @throws ReplicationException {@link ErrorCode#DB_CONN} when no host accepts the
     *     connection; {@link ErrorCode#BAD_CONFIG} when the connection string cannot be used
     */
    public static Connection open(ConnInfo info, Duration connectTimeoutCap, Duration socketTimeout) {
        Objects.requireNonNull(info, "info");
        String url = jdbcUrl(info);
        Properties props = properties(info, connectTimeoutCap, socketTimeout);
        try {
            Connection c = DRIVER.connect(url, props);
            if (c == null) {
                throw new ReplicationException(ErrorCode.INTERNAL, "pgjdbc did not accept the URL it was given",
                        "URL: " + url, null);
            }
            return c;
        } catch (SQLException e) {
            throw connectFailure(info, e);
        }
    }

    /** The pgjdbc URL for a connection string: {@code jdbc:postgresql://h1:p1,h2:p2/dbname}. */
    public static String jdbcUrl(ConnInfo info) {
        Objects.requireNonNull(info, "info");
        String hosts = targets(info).stream().map(HostPort::toString).collect(Collectors.joining(","));
        String db = info.dbname().map(d -> URLEncoder.encode(d, StandardCharsets.UTF_8)).orElse("");
        return "jdbc:postgresql://" + hosts + "/" + db;
    }

    /** The pgjdbc properties for a connection string, without a socket timeout. */
    public static Properties properties(ConnInfo info, Duration connectTimeoutCap) {
        return properties(info, connectTimeoutCap, null);
    }

    /**
     * The pgjdbc properties for a connection string (see the class comment for the mapping).
     * The result holds the password: do not log it.
     *
     * @param connectTimeoutCap upper bound for the connect timeout, or {@code null}
     * @param socketTimeout read timeout, or {@code null} for none
     */
    public static Properties properties(ConnInfo info, Duration connectTimeoutCap, Duration socketTimeout) {
        Objects.requireNonNull(info, "info");
        Properties p = new Properties();
        info.user().ifPresent(u -> PGProperty.USER.set(p, u));
        info.password().or(() -> passFilePassword(info)).ifPresent(pw -> PGProperty.PASSWORD.set(p, pw));
        for (String key : PASSED_THROUGH) {
            info.get(key).ifPresent(v -> p.setProperty(key, v));
        }

        int connectTimeout = connectTimeoutSeconds(info, connectTimeoutCap);
        PGProperty.CONNECT_TIMEOUT.set(p, connectTimeout);
        if (connectTimeout > 0) {
            PGProperty.LOGIN_TIMEOUT.set(p, connectTimeout * targets(info).size());
        }
        if (socketTimeout != null) {
            PGProperty.SOCKET_TIMEOUT.set(p, ceilSeconds(socketTimeout, "socketTimeout"));
        }

        // every supported server is 12 or later: application_name and extra_float_digits then
        // go in the start-up packet, instead of a SET round trip after each connect
        PGProperty.ASSUME_MIN_SERVER_VERSION.set(p, "10");
        PGProperty.APPLICATION_NAME.set(p, info.get("application_name")
                .or(() -> info.get("fallback_application_name"))
                .orElse(DEFAULT_APPLICATION_NAME));
        targetServerType(info).ifPresent(t -> PGProperty.TARGET_SERVER_TYPE.set(p, t));
        return p;
    }

    /**
     * The password libpq would take from the password file ({@code passfile}, else
     * {@code PGPASSFILE}, else {@code ~/.pgpass}; see {@link PassFile}) for the first host.
     */
    private static Optional<String> passFilePassword(ConnInfo info) {
        Optional<java.nio.file.Path> file = PassFile.location(info, System.getenv());
        if (file.isEmpty()) {
            return Optional.empty();
        }
        HostPort first = info.hosts().get(0);
        String user = info.user().orElse(System.getProperty("user.name", ""));
        return PassFile.lookup(file.get(), first.host(), first.port(), info.dbname().orElse(user), user);
    }

    /** The connect timeout in seconds pgjdbc gets; 0 means none. */
    static int connectTimeoutSeconds(ConnInfo info, Duration cap) {
        int t = info.connectTimeoutSeconds().orElse(DEFAULT_CONNECT_TIMEOUT_SECONDS);
        if (t <= 0) {
            t = 0;
        } else if (t == 1) {
            t = 2; // libpq: "the minimum allowed timeout is 2 seconds"
        }
        if (cap != null) {
            int c = Math.max(1, ceilSeconds(cap, "connectTimeoutCap"));
            t = t == 0 ? c : Math.min(t, c);
        }
        return t;
    }

    private static int ceilSeconds(Duration d, String what) {
        if (d.isNegative()) {
            throw new IllegalArgumentException(what + " must not be negative: " + d);
        }
        long s = d.getSeconds() + (d.getNano() > 0 ? 1 : 0);
        return (int) Math.min(Integer.MAX_VALUE, s);
    }

    private static Optional<String> targetServerType(ConnInfo info) {
        Optional<String> attrs = info.get("target_session_attrs");
        if (attrs.isEmpty()) {
            return Optional.empty();
        }
        switch (attrs.get().trim().toLowerCase(Locale.ROOT)) {
            case "any":
                return Optional.of("any");
            case "read-write":
            case "primary":
                return Optional.of("primary");
            case "read-only":
            case "standby":
                return Optional.of("secondary");
            case "prefer-standby":
                return Optional.of("preferSecondary");
            default:
                throw new ReplicationException(ErrorCode.BAD_CONFIG,
                        "invalid target_session_attrs \"" + attrs.get() + "\" in connection string",
                        "allowed: any, read-write, read-only, primary, standby, prefer-standby", null);
        }
    }

    /** The hosts to connect to: {@code hostaddr} when given (libpq connects there), else {@code host}. */
    private static List<HostPort> targets(ConnInfo info) {
        List<HostPort> hosts = info.get("hostaddr").isPresent() ? info.without("host").hosts() : info.hosts();
        for (HostPort hp : hosts) {
            if (hp.host().startsWith("/") || hp.host().startsWith("@")) {
                throw new ReplicationException(ErrorCode.BAD_CONFIG,
                        "host \"" + hp.host() + "\" in connection string is a Unix-domain socket,"
                                + " which pgjdbc cannot use",
                        "repmgr4j connects through pgjdbc, which speaks TCP only",
                        "use host=127.0.0.1 (or the server's address) and a PostgreSQL that listens on TCP"
                                + " (listen_addresses)");
            }
        }
        return hosts;
    }

    /** The exception for a failed connection attempt: what, the driver's why (masked), what to check. */
    static ReplicationException connectFailure(ConnInfo info, SQLException e) {
        String where = targets(info).stream().map(HostPort::toString).collect(Collectors.joining(","));
        String detail = info.maskIn(Objects.requireNonNullElse(e.getMessage(), e.getClass().getName()));
        ConnectFailures.Cause cause = ConnectFailures.cause(Objects.requireNonNullElse(e.getSQLState(), ""), detail, e);
        if (e.getSQLState() != null && !detail.contains(e.getSQLState())) {
            detail = detail + " [SQLSTATE " + e.getSQLState() + "]";
        }
        return new ReplicationException(ErrorCode.DB_CONN, "unable to connect to " + where, detail,
                cause == ConnectFailures.Cause.OTHER ? CONNECT_HINT : ConnectFailures.hint(cause), masked(e, info));
    }

    /**
     * A copy of a driver exception and its causes with any password masked in the messages,
     * so that logging the cause chain cannot leak it. Stack traces and SQLSTATE are kept.
     */
    private static Throwable masked(Throwable t, ConnInfo info) {
        if (t == null) {
            return null;
        }
        Throwable copy;
        if (t instanceof SQLException) {
            SQLException s = (SQLException) t;
            copy = new SQLException(info.maskIn(s.getMessage()), s.getSQLState(), s.getErrorCode());
        } else {
            copy = new MaskedCause(t.getClass().getName() + ": " + info.maskIn(t.getMessage()));
        }
        copy.setStackTrace(t.getStackTrace());
        if (t.getCause() != null && t.getCause() != t) {
            copy.initCause(masked(t.getCause(), info));
        }
        return copy;
    }

    /** Stands in for a driver-internal cause whose message had to be masked. */
    private static final class MaskedCause extends Exception {
        private static final long serialVersionUID = 1L;

        MaskedCause(String message) {
            super(message);
        }
    }
}
