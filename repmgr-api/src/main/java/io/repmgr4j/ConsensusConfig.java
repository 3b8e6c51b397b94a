package io.repmgr4j;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import org.immutables.value.Value;

/**
 * Where and how to reach the consensus store that decides who may be primary
 * ({@code consensus = etcd} in repmgr.conf): etcd's client endpoints, the key prefix, the
 * leader lease's length, the timeout of every call, and TLS and login settings. Absent
 * (the default, {@code consensus = peers}), the daemon's built-in peer voting decides.
 * The keys are {@code <prefix>/<cluster>/leader} and {@code <prefix>/<cluster>/paused}.
 * The password never appears in {@link #toString()}. Immutable; thread-safe.
 *
 * <pre>{@code
 * ConsensusConfig etcd = ConsensusConfig.builder()
 *         .addEndpoints(URI.create("http://10.0.0.1:2379"), URI.create("http://10.0.0.2:2379"))
 *         .ttl(Duration.ofSeconds(10))
 *         .build();
 * }</pre>
 */
@Value.Immutable
public abstract class ConsensusConfig {
    private static final Pattern PREFIX = Pattern.compile("(/[A-Za-z0-9_.-]+)+");
    private static final Pattern CLUSTER = Pattern.compile("[A-Za-z0-9_.-]{1,100}");

    public static ImmutableConsensusConfig.Builder builder() {
        return ImmutableConsensusConfig.builder();
    }

    /** etcd's client URLs ({@code http://host:2379} or {@code https://...}), at least one. */
    public abstract List<URI> endpoints();

    /** The key prefix, {@code /a/b} form (default {@code /repmgr4j}). */
    @Value.Default
    public String prefix() {
        return "/repmgr4j";
    }

    /** The replica set's name under the prefix (default {@code default}): one per replica set. */
    @Value.Default
    public String cluster() {
        return "default";
    }

    /** The leader lease's length, whole seconds, at least 2 s (default 10 s); the leader renews every third. */
    @Value.Default
    public Duration ttl() {
        return Duration.ofSeconds(10);
    }

    /** The longest one call to the store may take (default 2 s), at most a third of {@link #ttl()}. */
    @Value.Default
    public Duration timeout() {
        return Duration.ofSeconds(2);
    }

    /** The etcd user to log in as (etcd authentication), with {@link #password()}. */
    public abstract Optional<String> user();

    /** The etcd user's password; never logged. */
    @Value.Redacted
    public abstract Optional<String> password();

    /** The CA certificate file (PEM) that signed the etcd members' certificates; https endpoints. */
    public abstract Optional<Path> caFile();

    /** This client's certificate (PEM) for etcd's client-certificate authentication, with {@link #keyFile()}. */
    public abstract Optional<Path> certFile();

    /** The private key (PKCS#8 PEM) of {@link #certFile()}. */
    public abstract Optional<Path> keyFile();

    /** {@code <prefix>/<cluster>/leader}. */
    public String leaderKey() {
        return prefix() + "/" + cluster() + "/leader";
    }

    /** {@code <prefix>/<cluster>/paused}. */
    public String pausedKey() {
        return prefix() + "/" + cluster() + "/paused";
    }

    /** Whether the endpoints use TLS (all are https). */
    public boolean tls() {
        return endpoints().stream().allMatch(u -> "https".equalsIgnoreCase(u.getScheme()));
    }

    @Value.Check
    protected void check() {
        if (endpoints().isEmpty()) {
            throw bad("no etcd endpoint given", "etcd_endpoints lists the etcd members' client URLs, comma-separated",
                    "set etcd_endpoints, for example http://10.0.0.1:2379,http://10.0.0.2:2379,http://10.0.0.3:2379");
        }
        for (URI u : endpoints()) {
            String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(java.util.Locale.ROOT);
            if (!(scheme.equals("http") || scheme.equals("https")) || u.getHost() == null || u.getPort() < 0
                    || u.getUserInfo() != null || (u.getPath() != null && !u.getPath().isEmpty() && !u.getPath().equals("/"))) {
                throw bad("invalid etcd endpoint \"" + u.getScheme() + "://" + u.getHost() + ":" + u.getPort() + "\"",
                        "an endpoint is http://host:port or https://host:port, with no user or path",
                        "correct etcd_endpoints (user and password go to etcd_user and etcd_password)");
            }
        }
        long https = endpoints().stream().filter(u -> "https".equalsIgnoreCase(u.getScheme())).count();
        if (https != 0 && https != endpoints().size()) {
            throw bad("etcd endpoints mix http and https", "all members are reached the same way",
                    "use https for every endpoint, or http for every one");
        }
        if (!tls() && (caFile().isPresent() || certFile().isPresent() || keyFile().isPresent())) {
            throw bad("TLS files given for http etcd endpoints", "etcd_ca_file, etcd_cert_file and etcd_key_file are for https",
                    "use https:// endpoints, or remove the TLS settings");
        }
        if (certFile().isPresent() != keyFile().isPresent()) {
            throw bad("etcd_cert_file and etcd_key_file go together", "a client certificate needs its private key",
                    "set both, or neither");
        }
        if (password().isPresent() && user().isEmpty()) {
            throw bad("etcd_password given without etcd_user", "etcd logs in a named user", "set etcd_user too");
        }
        if (!PREFIX.matcher(prefix()).matches()) {
            throw bad("invalid etcd_prefix \"" + prefix() + "\"", "a prefix is /name or /name/name..., names of letters,"
                    + " digits, '_', '.', '-', without a trailing /", "correct etcd_prefix (default /repmgr4j)");
        }
        if (!CLUSTER.matcher(cluster()).matches()) {
            throw bad("invalid etcd_cluster \"" + cluster() + "\"", "1 to 100 letters, digits, '_', '.', '-'",
                    "correct etcd_cluster (default \"default\")");
        }
        if (ttl().toMillis() % 1000 != 0 || ttl().getSeconds() < 2) {
            throw bad("invalid etcd_ttl " + ttl().toMillis() + " ms", "etcd leases last whole seconds, at least 2",
                    "set etcd_ttl to a whole number of seconds, 2 or more (default 10)");
        }
        if (timeout().isNegative() || timeout().isZero() || timeout().multipliedBy(3).compareTo(ttl()) > 0) {
            throw bad("invalid etcd timeout " + timeout().toMillis() + " ms for etcd_ttl " + ttl().getSeconds() + " s",
                    "a call must end within a third of the lease so that a leader can renew at least twice before it expires",
                    "set etcd_timeout to at most etcd_ttl / 3");
        }
    }

    private static ReplicationException bad(String what, String why, String hint) {
        return new ReplicationException(ErrorCode.BAD_CONFIG, what, why, hint);
    }
}
