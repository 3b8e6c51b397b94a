package io.repmgr4j;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A client connection string for applications, made from the registered nodes: every
 * active primary and standby (witnesses left out) as one multi-host string, rendered as a
 * pgjdbc URL ({@link #jdbcUrl()}) or a libpq conninfo ({@link #conninfo()}).
 *
 * <pre>{@code
 * String url = cluster.connectionString(Target.PRIMARY).database("app").user("app").jdbcUrl();
 * // jdbc:postgresql://10.0.0.1:5432,10.0.0.2:5432/app?targetServerType=primary&hostRecheckSeconds=2&connectTimeout=5&user=app
 * String conninfo = cluster.connectionString(Target.STANDBY).conninfo();
 * // host=10.0.0.2,10.0.0.1 port=5432,5432 dbname=repmgr user=repmgr target_session_attrs=standby connect_timeout=5
 * }</pre>
 *
 * <p>Hosts come from the nodes' conninfo, the nodes most likely to match first: for
 * {@link Target#PRIMARY} the recorded primary, for the standby targets the standbys. The
 * database and user default to those of the first node's conninfo. A password is never
 * included unless {@link #includePassword(boolean)} asks for it: an application is
 * better served by a password file or its own secret store.
 *
 * <p>Immutable: every option returns a changed copy. Thread-safe.
 */
public final class ConnectionString {
    /** pgjdbc's {@code hostRecheckSeconds} by default: how long a host's primary/standby status is trusted (pgjdbc's own default is 10). */
    public static final int DEFAULT_HOST_RECHECK_SECONDS = 2;
    /** The connect timeout per host by default. */
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);

    private final List<NodeRecord> nodes;
    private final Target target;
    private final String database;
    private final String user;
    private final boolean includePassword;
    private final Duration connectTimeout;
    private final int hostRecheckSeconds;

    private ConnectionString(List<NodeRecord> nodes, Target target, String database, String user,
                             boolean includePassword, Duration connectTimeout, int hostRecheckSeconds) {
        this.nodes = nodes;
        this.target = target;
        this.database = database;
        this.user = user;
        this.includePassword = includePassword;
        this.connectTimeout = connectTimeout;
        this.hostRecheckSeconds = hostRecheckSeconds;
    }

    /**
     * The connection string for {@code target} over these node records (as
     * {@code repmgr.nodes} holds them).
     *
     * @throws ReplicationException BAD_CONFIG when no active primary or standby is among them
     */
    public static ConnectionString of(List<NodeRecord> nodes, Target target) {
        Objects.requireNonNull(nodes, "nodes");
        Objects.requireNonNull(target, "target");
        List<NodeRecord> usable = nodes.stream()
                .filter(n -> n.active() && (n.type() == NodeType.PRIMARY || n.type() == NodeType.STANDBY))
                .sorted(order(target)).toList();
        if (usable.isEmpty()) {
            throw new ReplicationException(ErrorCode.BAD_CONFIG, "no active primary or standby is registered",
                    nodes.isEmpty() ? "the cluster has no node records" : "registered: " + nodes.stream()
                            .map(NodeRecord::describe).collect(Collectors.joining(", ")),
                    "register the nodes first (registerPrimary, registerStandby)");
        }
        return new ConnectionString(usable, target, null, null, false, DEFAULT_CONNECT_TIMEOUT,
                DEFAULT_HOST_RECHECK_SECONDS);
    }

    private static Comparator<NodeRecord> order(Target target) {
        Comparator<NodeRecord> byId = Comparator.comparingInt(NodeRecord::nodeId);
        return switch (target) {
            case PRIMARY -> Comparator.<NodeRecord>comparingInt(n -> n.type() == NodeType.PRIMARY ? 0 : 1).thenComparing(byId);
            case STANDBY, PREFER_STANDBY -> Comparator.<NodeRecord>comparingInt(n -> n.type() == NodeType.STANDBY ? 0 : 1)
                    .thenComparing(byId);
            case ANY -> byId;
        };
    }

    /** The database to connect to (default: the one in the first node's conninfo). */
    public ConnectionString database(String database) {
        return new ConnectionString(nodes, target, nonBlank(database, "database"), user, includePassword,
                connectTimeout, hostRecheckSeconds);
    }

    /** The user to connect as (default: the one in the first node's conninfo). */
    public ConnectionString user(String user) {
        return new ConnectionString(nodes, target, database, nonBlank(user, "user"), includePassword,
                connectTimeout, hostRecheckSeconds);
    }

    /**
     * Whether to include the password the nodes' conninfo holds (default false: never).
     * The result then holds a secret: do not log it.
     */
    public ConnectionString includePassword(boolean include) {
        return new ConnectionString(nodes, target, database, user, include, connectTimeout, hostRecheckSeconds);
    }

    /** The connect timeout per host, whole seconds, at least 2 (libpq's minimum); default 5 s. */
    public ConnectionString connectTimeout(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.getSeconds() < 2) {
            throw new ReplicationException(ErrorCode.BAD_CONFIG, "connect timeout " + timeout + " is below 2 seconds",
                    "libpq treats anything below 2 seconds as 2, and 0 as no limit at all",
                    "give 2 seconds or more");
        }
        return new ConnectionString(nodes, target, database, user, includePassword, timeout, hostRecheckSeconds);
    }

    /** pgjdbc's {@code hostRecheckSeconds} (default {@value #DEFAULT_HOST_RECHECK_SECONDS}); libpq has no such cache. */
    public ConnectionString hostRecheckSeconds(int seconds) {
        if (seconds < 0) {
            throw new ReplicationException(ErrorCode.BAD_CONFIG, "hostRecheckSeconds " + seconds + " is negative",
                    null, "give 0 (check every time) or more");
        }
        return new ConnectionString(nodes, target, database, user, includePassword, connectTimeout, seconds);
    }

    /** What the string asks for. */
    public Target target() {
        return target;
    }

    /** The hosts, in the order they are tried. */
    public List<ConnInfo.HostPort> hosts() {
        Set<ConnInfo.HostPort> out = new LinkedHashSet<>();
        for (NodeRecord n : nodes) {
            ConnInfo c = n.conninfo();
            out.addAll(c.get("hostaddr").isPresent() ? c.without("host").with("host", c.get("hostaddr").get()).hosts()
                    : c.hosts());
        }
        return new ArrayList<>(out);
    }

    /** The database the string names. */
    public Optional<String> databaseName() {
        return Optional.ofNullable(database).or(() -> nodes.get(0).conninfo().dbname());
    }

    /** The user the string names. */
    public Optional<String> userName() {
        return Optional.ofNullable(user).or(() -> nodes.get(0).conninfo().user());
    }

    private Optional<String> password() {
        if (!includePassword) {
            return Optional.empty();
        }
        return nodes.stream().map(n -> n.conninfo().password()).flatMap(Optional::stream).findFirst();
    }

    /**
     * The pgjdbc URL: {@code jdbc:postgresql://h1:p1,h2:p2/db?targetServerType=...&hostRecheckSeconds=...&connectTimeout=...&user=...}
     * (and {@code password} only when asked for).
     *
     * @throws ReplicationException BAD_CONFIG when a node's host is a Unix-domain socket (pgjdbc speaks TCP only)
     */
    public String jdbcUrl() {
        List<ConnInfo.HostPort> hosts = hosts();
        for (ConnInfo.HostPort hp : hosts) {
            if (hp.host().startsWith("/") || hp.host().startsWith("@")) {
                throw new ReplicationException(ErrorCode.BAD_CONFIG, "host \"" + hp.host()
                        + "\" is a Unix-domain socket, which pgjdbc cannot use", "pgjdbc speaks TCP only",
                        "register the nodes with a TCP address (host=...)");
            }
        }
        StringBuilder sb = new StringBuilder("jdbc:postgresql://");
        sb.append(hosts.stream().map(ConnInfo.HostPort::toString).collect(Collectors.joining(",")));
        sb.append('/').append(databaseName().map(ConnectionString::encode).orElse(""));
        sb.append("?targetServerType=").append(target.targetServerType());
        sb.append("&hostRecheckSeconds=").append(hostRecheckSeconds);
        sb.append("&connectTimeout=").append(connectTimeout.getSeconds());
        userName().ifPresent(u -> sb.append("&user=").append(encode(u)));
        password().ifPresent(p -> sb.append("&password=").append(encode(p)));
        return sb.toString();
    }

    /**
     * The libpq conninfo: {@code host=h1,h2 port=p1,p2 dbname=db user=u target_session_attrs=... connect_timeout=...}
     * (and {@code password} only when asked for). {@code standby} and {@code prefer-standby}
     * need libpq 14 or later.
     */
    public String conninfo() {
        List<ConnInfo.HostPort> hosts = hosts();
        java.util.Map<String, String> p = new java.util.LinkedHashMap<>();
        p.put("host", hosts.stream().map(ConnInfo.HostPort::host).collect(Collectors.joining(",")));
        p.put("port", hosts.stream().map(h -> String.valueOf(h.port())).collect(Collectors.joining(",")));
        databaseName().ifPresent(d -> p.put("dbname", d));
        userName().ifPresent(u -> p.put("user", u));
        password().ifPresent(pw -> p.put("password", pw));
        p.put("target_session_attrs", target.targetSessionAttrs());
        p.put("connect_timeout", String.valueOf(connectTimeout.getSeconds()));
        return ConnInfo.of(p).render();
    }

    /** The libpq form with any password masked. */
    @Override
    public String toString() {
        return ConnInfo.parse(conninfo()).masked();
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static String nonBlank(String value, String what) {
        if (value == null || value.isBlank()) {
            throw new ReplicationException(ErrorCode.BAD_CONFIG, "the " + what + " name is empty", null,
                    "give a " + what + " name, or leave it out to use the nodes' own");
        }
        return value;
    }
}
