package io.repmgr4j.core.ssh;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How {@link SshCommandRunner} reaches one host: host and port, the OS user to log in as,
 * the key (a file, or the key's text in memory, with an optional passphrase) and/or a
 * password, the known_hosts file the host key is checked against, and timeouts.
 *
 * <p>Defaults follow OpenSSH's client: port 22, the JVM's OS user, identity
 * {@code ~/.ssh/id_ed25519}, {@code ~/.ssh/id_ecdsa} and {@code ~/.ssh/id_rsa} (those that
 * exist) when no key is given, known_hosts {@code ~/.ssh/known_hosts}, and strict host-key
 * checking: a host whose key is not in known_hosts, or whose key differs, is refused.
 * Turning checking off is an explicit choice ({@link Builder#strictHostKeyChecking(boolean)})
 * and is logged as a warning.
 *
 * <p>Immutable and thread-safe. {@link #toString()} never shows the passphrase, the
 * password or an in-memory key.
 */
public final class SshOptions {
    private static final Logger LOG = LoggerFactory.getLogger(SshOptions.class);
    /** OpenSSH's default port. */
    public static final int DEFAULT_PORT = 22;
    /** Default connect timeout (TCP connect and each step of the SSH handshake). */
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);

    private final String host;
    private final int port;
    private final String user;
    private final Path identityFile;
    private final byte[] privateKey;
    private final byte[] passphrase;
    private final byte[] password;
    private final Path knownHosts;
    private final boolean strictHostKeyChecking;
    private final Duration connectTimeout;
    private final Duration serverAliveInterval;
    private final int maxCommandsPerSession;
    private final Duration idleTimeout;

    private SshOptions(Builder b) {
        this.host = b.host;
        this.port = b.port;
        this.user = b.user;
        this.identityFile = b.identityFile;
        this.privateKey = copy(b.privateKey);
        this.passphrase = copy(b.passphrase);
        this.password = copy(b.password);
        this.knownHosts = b.knownHosts;
        this.strictHostKeyChecking = b.strictHostKeyChecking;
        this.connectTimeout = b.connectTimeout;
        this.serverAliveInterval = b.serverAliveInterval;
        this.maxCommandsPerSession = b.maxCommandsPerSession;
        this.idleTimeout = b.idleTimeout;
    }

    /** A builder with every default. */
    public static Builder builder() {
        return new Builder();
    }

    /** The defaults: no host yet (a node's conninfo host is used), port 22, the JVM's user, strict checking. */
    public static SshOptions defaults() {
        return builder().build();
    }

    /** A builder holding this object's values. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.host = host;
        b.port = port;
        b.user = user;
        b.identityFile = identityFile;
        b.privateKey = copy(privateKey);
        b.passphrase = copy(passphrase);
        b.password = copy(password);
        b.knownHosts = knownHosts;
        b.strictHostKeyChecking = strictHostKeyChecking;
        b.connectTimeout = connectTimeout;
        b.serverAliveInterval = serverAliveInterval;
        b.maxCommandsPerSession = maxCommandsPerSession;
        b.idleTimeout = idleTimeout;
        return b;
    }

    /** The host to connect to; empty when a node's conninfo host is to be used. */
    public Optional<String> host() {
        return Optional.ofNullable(host);
    }

    public int port() {
        return port;
    }

    /** The OS user to log in as. */
    public String user() {
        return user;
    }

    /** The private key file, when one was named. */
    public Optional<Path> identityFile() {
        return Optional.ofNullable(identityFile);
    }

    /** True when a private key was given in memory. */
    public boolean hasInMemoryKey() {
        return privateKey != null;
    }

    /** True when a password was given (it is never shown). */
    public boolean hasPassword() {
        return password != null;
    }

    /** True when a key passphrase was given (it is never shown). */
    public boolean hasPassphrase() {
        return passphrase != null;
    }

    /** The known_hosts file host keys are checked against. */
    public Path knownHosts() {
        return knownHosts;
    }

    /** Whether a host whose key is unknown or changed is refused (the default) or accepted. */
    public boolean strictHostKeyChecking() {
        return strictHostKeyChecking;
    }

    public Duration connectTimeout() {
        return connectTimeout;
    }

    /** How often an idle connection is probed; a connection that stops answering is replaced. */
    public Duration serverAliveInterval() {
        return serverAliveInterval;
    }

    /**
     * How many commands may run at once over one SSH connection before another connection
     * is opened (OpenSSH's sshd allows 10 channels per connection by default; one is kept
     * for killing a command that ran past its timeout).
     */
    public int maxCommandsPerSession() {
        return maxCommandsPerSession;
    }

    /** How long an unused connection is kept open for the next command. */
    public Duration idleTimeout() {
        return idleTimeout;
    }

    // secrets, for the runner only

    byte[] privateKeyBytes() {
        return copy(privateKey);
    }

    byte[] passphraseBytes() {
        return copy(passphrase);
    }

    byte[] passwordBytes() {
        return copy(password);
    }

    /** {@code user@host:port}, for messages; {@code ?} stands for a host not known yet. */
    public String target() {
        return user + "@" + (host == null ? "?" : host) + ":" + port;
    }

    @Override
    public String toString() {
        return "SshOptions[" + target()
                + identityFile().map(p -> ", identity " + p).orElse("")
                + (privateKey != null ? ", key in memory" : "")
                + (passphrase != null ? ", passphrase set" : "")
                + (password != null ? ", password set" : "")
                + ", known_hosts " + knownHosts
                + ", strict host key checking " + (strictHostKeyChecking ? "on" : "OFF")
                + ", connect timeout " + connectTimeout.toMillis() + " ms]";
    }

    private static byte[] copy(byte[] b) {
        return b == null ? null : Arrays.copyOf(b, b.length);
    }

    private static Path home() {
        return Paths.get(System.getProperty("user.home"));
    }

    /** The private keys OpenSSH's client tries when none is named, in its order. */
    static List<Path> defaultIdentityFiles() {
        Path ssh = home().resolve(".ssh");
        return List.of(ssh.resolve("id_ed25519"), ssh.resolve("id_ecdsa"), ssh.resolve("id_rsa"));
    }

    /**
     * Collects options; every setter validates its value. Not thread-safe; the
     * {@link SshOptions} it builds are.
     */
    public static final class Builder {
        private String host;
        private int port = DEFAULT_PORT;
        private String user = System.getProperty("user.name");
        private Path identityFile;
        private byte[] privateKey;
        private byte[] passphrase;
        private byte[] password;
        private Path knownHosts = home().resolve(".ssh").resolve("known_hosts");
        private boolean strictHostKeyChecking = true;
        private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
        private Duration serverAliveInterval = Duration.ofSeconds(15);
        private int maxCommandsPerSession = 8;
        private Duration idleTimeout = Duration.ofMinutes(5);

        private Builder() {
        }

        /** The host name or address to connect to. */
        public Builder host(String host) {
            if (host != null && (host.isBlank() || host.chars().anyMatch(Character::isWhitespace))) {
                throw new IllegalArgumentException("not a host name: \"" + host + "\"");
            }
            this.host = host;
            return this;
        }

        public Builder port(int port) {
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("an SSH port is 1 to 65535, got " + port);
            }
            this.port = port;
            return this;
        }

        /** The OS user to log in as (default: the JVM's user, as OpenSSH's client does). */
        public Builder user(String user) {
            if (user == null || user.isBlank()) {
                throw new IllegalArgumentException("an SSH user must not be empty");
            }
            this.user = user;
            return this;
        }

        /** A private key file (OpenSSH or PEM format); replaces an in-memory key. */
        public Builder identityFile(Path file) {
            this.identityFile = Objects.requireNonNull(file, "file");
            this.privateKey = null;
            return this;
        }

        /** A private key's text (OpenSSH or PEM format) held in memory; replaces a key file. */
        public Builder privateKey(String keyText) {
            return privateKey(Objects.requireNonNull(keyText, "keyText").getBytes(StandardCharsets.UTF_8));
        }

        /** A private key's bytes (OpenSSH or PEM format) held in memory; replaces a key file. */
        public Builder privateKey(byte[] key) {
            Objects.requireNonNull(key, "key");
            this.privateKey = copy(key);
            this.identityFile = null;
            return this;
        }

        /** The private key's passphrase; null for none. */
        public Builder passphrase(String passphrase) {
            this.passphrase = passphrase == null ? null : passphrase.getBytes(StandardCharsets.UTF_8);
            return this;
        }

        /** A password, tried when public-key authentication fails or is not offered; null for none. */
        public Builder password(String password) {
            this.password = password == null ? null : password.getBytes(StandardCharsets.UTF_8);
            return this;
        }

        /** The known_hosts file (OpenSSH's format; hashed names are understood). */
        public Builder knownHosts(Path file) {
            this.knownHosts = Objects.requireNonNull(file, "file");
            return this;
        }

        /**
         * Whether host keys are checked against known_hosts (default true). Turning it off
         * accepts any host key, so a man in the middle goes unnoticed; the runner logs a
         * warning for every host reached that way.
         */
        public Builder strictHostKeyChecking(boolean strict) {
            this.strictHostKeyChecking = strict;
            return this;
        }

        /** The longest a TCP connect, and each step of the SSH handshake, may take (default 10 s). */
        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = positive(timeout, "connect timeout");
            return this;
        }

        /** How often an idle connection is probed (default 15 s); three unanswered probes end it. */
        public Builder serverAliveInterval(Duration interval) {
            this.serverAliveInterval = positive(interval, "server alive interval");
            return this;
        }

        /** Commands run at once over one connection before another is opened (1 to 9, default 8). */
        public Builder maxCommandsPerSession(int n) {
            if (n < 1 || n > 9) {
                throw new IllegalArgumentException("commands per SSH connection must be 1 to 9 (sshd allows 10"
                        + " channels by default and one is kept for killing a timed-out command), got " + n);
            }
            this.maxCommandsPerSession = n;
            return this;
        }

        /** How long an unused connection stays open for the next command (default 5 minutes). */
        public Builder idleTimeout(Duration timeout) {
            this.idleTimeout = positive(timeout, "idle timeout");
            return this;
        }

        /**
         * Applies the options of repmgr.conf's {@code ssh_options} that have an equivalent
         * here (see {@link SshConfigOptions}); the others are logged as warnings and ignored.
         */
        public Builder sshOptions(String sshOptions) {
            SshConfigOptions.Result r = SshConfigOptions.apply(sshOptions, this);
            r.warnings().forEach(w -> LOG.warn("ssh_options: {}", w));
            return this;
        }

        public SshOptions build() {
            return new SshOptions(this);
        }

        private static Duration positive(Duration d, String what) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException("the " + what + " must be positive");
            }
            if (d.toMillis() > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("the " + what + " is too long: " + d);
            }
            return d;
        }
    }
}
