package io.repmgr4j;

import java.nio.file.Path;
import java.util.Optional;
import org.immutables.value.Value;

/**
 * Where a {@link FailoverDaemon} serves its HTTP health endpoints (Patroni-compatible
 * paths such as {@code /primary} and {@code /replica}, for HAProxy, keepalived and
 * monitoring), and how callers are checked. Off unless given, in
 * {@link DaemonOptions#http()} or in repmgr.conf ({@code http_listen_address},
 * {@code http_port}, {@code http_user}, {@code http_password}, {@code http_keystore},
 * {@code http_keystore_password}). Passwords are left out of {@link #toString()}.
 * Immutable; thread-safe.
 *
 * <pre>{@code
 * HttpEndpoint http = HttpEndpoint.builder().listenAddress("10.0.0.5").port(8008).build();
 * }</pre>
 */
@Value.Immutable
public abstract class HttpEndpoint {

    public static ImmutableHttpEndpoint.Builder builder() {
        return ImmutableHttpEndpoint.builder();
    }

    /** The address to bind (an IP address or a host name). Default {@code 127.0.0.1}: loopback only. */
    @Value.Default
    public String listenAddress() {
        return "127.0.0.1";
    }

    /** The TCP port, 1 to 65535 (Patroni's default is 8008). */
    public abstract int port();

    /** With {@link #password()}: every request must carry HTTP basic authentication with this user. */
    public abstract Optional<String> user();

    /** The basic-authentication password; never logged or rendered. */
    @Value.Redacted
    public abstract Optional<String> password();

    /** A PKCS#12 (or JKS) keystore holding the server's key and certificate: with it, the endpoints speak HTTPS only. */
    public abstract Optional<Path> keystore();

    /** The keystore's password (and its key's); never logged or rendered. */
    @Value.Redacted
    public abstract Optional<String> keystorePassword();

    @Value.Check
    protected void check() {
        if (listenAddress().isBlank()) {
            throw bad("http_listen_address is empty", "an address to bind is needed", "give an address such as 127.0.0.1");
        }
        if (port() < 1 || port() > 65535) {
            throw bad("http_port " + port() + " is out of range", "a TCP port is 1 to 65535", "use a free port such as 8008");
        }
        if (user().isPresent() != password().isPresent()) {
            throw bad("http_user and http_password must be given together", "basic authentication needs both",
                    "set both, or neither");
        }
        if (user().isPresent() && (user().get().isEmpty() || user().get().contains(":"))) {
            throw bad("http_user is empty or contains ':'", "basic authentication separates user and password with ':'",
                    "choose a user name without ':'");
        }
        if (keystorePassword().isPresent() && keystore().isEmpty()) {
            throw bad("http_keystore_password is set but http_keystore is not", "a password without a keystore opens nothing",
                    "set http_keystore to the keystore file, or remove the password");
        }
    }

    private static ReplicationException bad(String what, String why, String hint) {
        return new ReplicationException(ErrorCode.BAD_CONFIG, what, why, hint);
    }
}
