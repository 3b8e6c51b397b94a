package io.repmgr4j.testkit;

import io.repmgr4j.spi.Command;
import io.repmgr4j.spi.CommandResult;
import io.repmgr4j.spi.LocalCommandRunner;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real OpenSSH server ({@code sshd}) of its own on a free loopback port, for testing
 * code that reaches a node's host over SSH. It has its own configuration, host key
 * (ed25519) and authorized_keys under the test kit's root directory, listens on
 * 127.0.0.1 only, accepts public-key logins only, and lets exactly one OS user in: the
 * one the test servers run as ({@code postgres} when the JVM runs as root, else the
 * JVM's user). The daemon runs as that same user, so it needs no privilege, does not
 * consult PAM and leaves the system's own sshd and its configuration alone.
 *
 * <pre>{@code
 * try (SshServer ssh = SshServer.start()) {
 *     Path key = ssh.clientKey().privateKey();      // authorized already
 *     String knownHosts = ssh.knownHostsLine();     // [127.0.0.1]:port ssh-ed25519 AAAA...
 *     // connect to ssh.host():ssh.port() as ssh.osUser()
 * }
 * }</pre>
 *
 * <p>Needs OpenSSH's {@code sshd} ({@code /usr/sbin/sshd}, or the program named by
 * {@code REPMGR4J_SSHD}) and {@code ssh-keygen}; Debian/Ubuntu: {@code apt-get install
 * openssh-server openssh-client} ({@code bin/prereqs} does it when run as root).
 * {@link #close()} stops the daemon and its sessions and deletes its directory; a JVM
 * shutdown hook closes servers a test left open, and the next JVM removes what a killed
 * JVM left behind. Thread-safe.
 */
public final class SshServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SshServer.class);
    /** System property or environment variable naming the sshd program to run. */
    public static final String SSHD_PROPERTY = "REPMGR4J_SSHD";
    /** The pid file's name in the server's directory (the stale-directory sweep looks for it). */
    static final String PID_FILE = "sshd.pid";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(20);
    private static final int PORT_ATTEMPTS = 3;

    private final Path dir;
    private final String osUser;
    private final LocalCommandRunner runner;
    private final KeyFiles clientKey;
    private final String hostPublicKey;
    private final Object lifecycle = new Object();
    private volatile int port;
    private volatile long pid;
    private volatile boolean closed;

    private SshServer(Path dir, String osUser, LocalCommandRunner runner, KeyFiles clientKey, String hostPublicKey) {
        this.dir = dir;
        this.osUser = osUser;
        this.runner = runner;
        this.clientKey = clientKey;
        this.hostPublicKey = hostPublicKey;
    }

    /** A key pair in OpenSSH's files: the private key and its {@code .pub}. */
    public record KeyFiles(Path privateKey, Path publicKey) {
        /** The public key's line ({@code ssh-ed25519 AAAA... comment}), as authorized_keys takes it. */
        public String publicKeyLine() {
            try {
                return Files.readString(publicKey, StandardCharsets.UTF_8).strip();
            } catch (IOException e) {
                throw new PgTestkitException("cannot read " + publicKey + ": " + e.getMessage(), e);
            }
        }

        /** The private key file's bytes (for an SSH client that takes the key in memory). */
        public byte[] privateKeyBytes() {
            try {
                return Files.readAllBytes(privateKey);
            } catch (IOException e) {
                throw new PgTestkitException("cannot read " + privateKey + ": " + e.getMessage(), e);
            }
        }
    }

    /** Starts a server that authorizes its own {@link #clientKey()} only. */
    public static SshServer start() {
        return start(List.of());
    }

    /**
     * Starts a server that authorizes its own {@link #clientKey()} and the given public
     * keys (authorized_keys lines such as {@code ssh-ed25519 AAAA... comment}).
     *
     * @throws PgTestkitException when sshd or ssh-keygen is missing or the daemon does not start
     */
    public static SshServer start(List<String> authorizedPublicKeys) {
        Objects.requireNonNull(authorizedPublicKeys, "authorizedPublicKeys");
        Path sshd = locateSshd();
        String user = Place.defaultOsUser();
        checkLoginShell(user);
        LocalCommandRunner runner = LocalCommandRunner.asUser(user);
        boolean switchUser = runner.switchesTo().isPresent();
        Path dir = Workspace.createServerRoot("sshd", user, switchUser);
        SshServer server = null;
        try {
            // the host key is made by the daemon's user: sshd refuses a key others can read
            runOk(runner, Command.of("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "repmgr4j-test-host",
                    "-f", dir.resolve("ssh_host_ed25519_key").toString()), "generating the host key");
            String hostKey = Files.readString(dir.resolve("ssh_host_ed25519_key.pub"), StandardCharsets.UTF_8).strip();
            String[] parts = hostKey.split("\\s+");
            KeyFiles client = generateKey(dir.resolve("client"), "id_ed25519", null);
            List<String> authorized = new ArrayList<>();
            authorized.add(client.publicKeyLine());
            for (String k : authorizedPublicKeys) {
                if (k.contains("\n")) {
                    throw new IllegalArgumentException("one authorized key per entry, without newlines");
                }
                authorized.add(k.strip());
            }
            Path authorizedKeys = dir.resolve("authorized_keys");
            Files.writeString(authorizedKeys, String.join("\n", authorized) + "\n", StandardCharsets.UTF_8);
            Files.setPosixFilePermissions(authorizedKeys, PosixFilePermissions.fromString("rw-r--r--"));
            server = new SshServer(dir, user, runner, client, parts[0] + " " + parts[1]);
            Workspace.register(server);
            server.launch(sshd);
            LOG.info("sshd on 127.0.0.1:{} (pid {}) lets {} in; directory {}", server.port, server.pid, user, dir);
            return server;
        } catch (IOException | RuntimeException e) {
            try {
                if (server != null) {
                    server.close();
                } else {
                    Workspace.deleteTree(dir);
                }
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            if (e instanceof RuntimeException r) {
                throw r;
            }
            throw new PgTestkitException("cannot prepare sshd in " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * Generates an ed25519 key pair with {@code ssh-keygen} as {@code <directory>/<name>}
     * and {@code <name>.pub}, readable by the JVM's user only; {@code passphrase} may be
     * null for none. The directory is created when missing.
     */
    public static KeyFiles generateKey(Path directory, String name, String passphrase) {
        try {
            Files.createDirectories(directory);
        } catch (IOException e) {
            throw new PgTestkitException("cannot create " + directory + ": " + e.getMessage(), e);
        }
        Path key = directory.resolve(name);
        runOk(LocalCommandRunner.asCurrentUser(), Command.of("ssh-keygen", "-q", "-t", "ed25519", "-N",
                passphrase == null ? "" : passphrase, "-C", "repmgr4j-test-" + name, "-f", key.toString()),
                "generating key " + key);
        return new KeyFiles(key, directory.resolve(name + ".pub"));
    }

    private void launch(Path sshd) throws IOException {
        for (int attempt = 1; ; attempt++) {
            port = Workspace.allocatePort();
            Path config = writeConfig();
            Path log = logFile();
            long offset = Workspace.size(log);
            // without -D sshd puts itself in the background once it listens; the runner returns then
            CommandResult r = runner.run(Command.of(sshd.toString(), "-f", config.toString(), "-E", log.toString())
                    .withTimeout(START_TIMEOUT));
            String tail = Workspace.tailFrom(log, offset, 20);
            if (r.succeeded()) {
                awaitListening(tail);
                return;
            }
            Workspace.releasePort(port);
            if (attempt < PORT_ATTEMPTS && tail.contains("Address already in use")) {
                LOG.warn("sshd: port {} was taken meanwhile; retrying on another", port);
                continue;
            }
            throw new PgTestkitException("sshd did not start on 127.0.0.1:" + port + (r.timedOut() ? " (timed out)" : "")
                    + ": " + r.lastErrorLine() + "\n--- " + log + " ---\n" + tail);
        }
    }

    private Path writeConfig() throws IOException {
        String conf = "# written by the repmgr4j test kit: a private sshd for tests\n"
                + "Port " + port + "\n"
                + "ListenAddress 127.0.0.1\n"
                + "HostKey " + quote(dir.resolve("ssh_host_ed25519_key")) + "\n"
                + "AuthorizedKeysFile " + quote(dir.resolve("authorized_keys")) + "\n"
                + "PidFile " + quote(dir.resolve(PID_FILE)) + "\n"
                + "AllowUsers " + osUser + "\n"
                + "StrictModes no\n"
                + "UsePAM no\n"
                + "PubkeyAuthentication yes\n"
                + "PasswordAuthentication no\n"
                + "KbdInteractiveAuthentication no\n"
                + "PermitRootLogin no\n"
                + "PermitUserEnvironment no\n"
                + "AllowTcpForwarding no\n"
                + "X11Forwarding no\n"
                + "UseDNS no\n"
                + "PrintMotd no\n"
                + "MaxStartups 100\n"
                + "MaxSessions 20\n"
                + "LogLevel VERBOSE\n";
        Path file = dir.resolve("sshd_config");
        Files.writeString(file, conf, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        return file;
    }

    private static String quote(Path p) {
        return "\"" + p + "\"";
    }

    private void awaitListening(String logSoFar) {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (true) {
            Optional<Long> p = Workspace.pidFromLockFile(dir.resolve(PID_FILE));
            if (p.isPresent() && Workspace.isAlive(p.get()) && accepts()) {
                pid = p.get();
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new PgTestkitException("sshd on 127.0.0.1:" + port + " did not come up within "
                        + START_TIMEOUT.toSeconds() + " s\n--- " + logFile() + " ---\n" + logTail(20));
            }
            Workspace.sleep(20);
        }
    }

    private boolean accepts() {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static Path locateSshd() {
        String configured = System.getProperty(SSHD_PROPERTY);
        if (configured == null || configured.isBlank()) {
            configured = System.getenv(SSHD_PROPERTY);
        }
        Path sshd = configured != null && !configured.isBlank() ? Paths.get(configured.strip()) : Paths.get("/usr/sbin/sshd");
        if (!Files.isExecutable(sshd)) {
            throw new PgTestkitException("OpenSSH's sshd is needed for this test and was not found at " + sshd
                    + ". Install it (Debian/Ubuntu: apt-get install openssh-server openssh-client; bin/prereqs does"
                    + " this when run as root) or set " + SSHD_PROPERTY + " to the sshd program");
        }
        if (!sshd.isAbsolute()) {
            throw new PgTestkitException(SSHD_PROPERTY + " must be an absolute path (sshd re-executes itself): " + sshd);
        }
        return sshd;
    }

    /** sshd runs commands with the user's login shell: it must be a real one, not nologin or false. */
    private static void checkLoginShell(String user) {
        CommandResult r = LocalCommandRunner.asCurrentUser().run(Command.of("getent", "passwd", user)
                .withTimeout(Duration.ofSeconds(10)));
        String[] fields = r.stdout().strip().split(":");
        if (!r.succeeded() || fields.length < 7) {
            return; // cannot tell: a failed login will say more
        }
        String shell = fields[6];
        if (shell.endsWith("/nologin") || shell.endsWith("/false") || !Files.isExecutable(Paths.get(shell))) {
            throw new PgTestkitException("OS user " + user + " has the login shell \"" + shell + "\", so sshd cannot run"
                    + " commands for it; give it a POSIX shell (usermod -s /bin/bash " + user + ")");
        }
    }

    private static void runOk(LocalCommandRunner runner, Command command, String what) {
        CommandResult r;
        try {
            r = runner.run(command.withTimeout(Duration.ofSeconds(30)));
        } catch (RuntimeException e) {
            throw new PgTestkitException(what + " failed: " + e.getMessage()
                    + " (is ssh-keygen installed? Debian/Ubuntu: apt-get install openssh-client)", e);
        }
        if (!r.succeeded()) {
            throw new PgTestkitException(what + " failed" + (r.timedOut() ? " (timed out)" : "") + ": " + r.lastErrorLine());
        }
    }

    // ------------------------------------------------------------------ accessors

    /** Always {@code 127.0.0.1}. */
    public String host() {
        return "127.0.0.1";
    }

    public int port() {
        return port;
    }

    /** The one OS user this server lets in (and runs as). */
    public String osUser() {
        return osUser;
    }

    /** The daemon's process id. */
    public long pid() {
        return pid;
    }

    /** A key pair authorized on this server, made for it (its private key is readable by the JVM's user only). */
    public KeyFiles clientKey() {
        return clientKey;
    }

    /** The host's public key, {@code ssh-ed25519 AAAA...}. */
    public String hostPublicKey() {
        return hostPublicKey;
    }

    /** The host key's SHA-256 fingerprint as OpenSSH shows it: {@code SHA256:...}. */
    public String hostKeyFingerprint() {
        byte[] blob = Base64.getDecoder().decode(hostPublicKey.split(" ")[1]);
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(blob);
            return "SHA256:" + Base64.getEncoder().withoutPadding().encodeToString(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** This server's line for a known_hosts file: {@code [127.0.0.1]:port ssh-ed25519 AAAA...}. */
    public String knownHostsLine() {
        return "[127.0.0.1]:" + port + " " + hostPublicKey;
    }

    /** The directory holding the server's configuration, keys and log. */
    public Path directory() {
        return dir;
    }

    /** The daemon's log ({@code sshd -E}, level VERBOSE: logins, keys accepted, sessions). */
    public Path logFile() {
        return dir.resolve("log").resolve("sshd.log");
    }

    /** The last {@code lines} lines of the daemon's log. */
    public String logTail(int lines) {
        return Workspace.tail(logFile(), lines);
    }

    // ------------------------------------------------------------------ lifecycle

    /**
     * Stops the daemon and the sessions it serves (SIGKILL; every one is waited for) and
     * deletes the server's directory. Idempotent.
     */
    @Override
    public void close() {
        synchronized (lifecycle) {
            if (closed) {
                return;
            }
            closed = true;
            Workspace.unregister(this);
            killDaemon(dir);
            Workspace.releasePort(port);
            Workspace.deleteTree(dir);
            LOG.debug("closed sshd in {}", dir);
        }
    }

    /**
     * Kills the sshd whose pid file is in {@code dir}, with its sessions, if it runs and
     * its command line names that directory (a recycled pid is left alone). Returns
     * whether one was killed.
     */
    static boolean killDaemon(Path dir) {
        Optional<Long> p = Workspace.pidFromLockFile(dir.resolve(PID_FILE));
        if (p.isEmpty() || !Workspace.isAlive(p.get()) || !Workspace.cmdline(p.get()).contains(dir.toString())) {
            return false;
        }
        // sessions outlive their listener: kill them (and what they run) with it
        List<ProcessHandle> all = new ArrayList<>();
        ProcessHandle.of(p.get()).ifPresent(h -> {
            h.descendants().forEach(all::add);
            all.add(h);
        });
        all.forEach(ProcessHandle::destroyForcibly);
        for (ProcessHandle h : all) {
            Workspace.waitUntilDead(h.pid(), Duration.ofSeconds(30), "sshd process " + h.pid());
        }
        return true;
    }

    @Override
    public String toString() {
        return "SshServer[127.0.0.1:" + port + ", user " + osUser + ", " + dir + "]";
    }
}
