package io.repmgr4j.core.ssh;

import com.jcraft.jsch.HostKey;
import com.jcraft.jsch.HostKeyRepository;
import com.jcraft.jsch.Identity;
import com.jcraft.jsch.JSch;
import com.jcraft.jsch.JSchChangedHostKeyException;
import com.jcraft.jsch.JSchException;
import com.jcraft.jsch.JSchRevokedHostKeyException;
import com.jcraft.jsch.JSchUnknownHostKeyException;
import com.jcraft.jsch.Session;
import com.jcraft.jsch.UserInfo;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.ReplicationException;
import java.io.FileNotFoundException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SSH connections ({@link Session}s) of one runner to its one host: reused across
 * commands, several commands at once per connection (up to
 * {@link SshOptions#maxCommandsPerSession()}), a new connection when all are busy, a
 * broken one dropped and replaced, idle ones closed after
 * {@link SshOptions#idleTimeout()}. Internal; thread-safe.
 */
final class SessionPool implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SessionPool.class);
    private static final Logger JSCH_LOG = LoggerFactory.getLogger("io.repmgr4j.core.ssh.jsch");

    private final SshOptions options;
    private final String target;
    private final List<Pooled> sessions = new ArrayList<>();
    private final AtomicLong opened = new AtomicLong();
    private JSch jsch;
    private boolean closed;

    /** One connection and how many commands use it now. Guarded by the pool. */
    static final class Pooled {
        final Session session;
        int active;
        long idleSince;
        boolean broken;

        Pooled(Session session) {
            this.session = session;
        }
    }

    SessionPool(SshOptions options) {
        this.options = options;
        this.target = options.target();
        if (!options.strictHostKeyChecking()) {
            LOG.warn("SSH host key checking is OFF for {}: any host key is accepted, so a man in the middle would go"
                    + " unnoticed; add the host to {} and leave checking on", target, options.knownHosts());
        }
    }

    /** A connection with room for one more command; opens one when none has room. */
    Pooled acquire() {
        List<Session> stale = new ArrayList<>();
        try {
            synchronized (this) {
                if (closed) {
                    throw new IllegalStateException("this SSH runner for " + target + " is closed");
                }
                long now = System.nanoTime();
                for (Iterator<Pooled> it = sessions.iterator(); it.hasNext(); ) {
                    Pooled p = it.next();
                    boolean dead = p.broken || !p.session.isConnected();
                    boolean idle = p.active == 0 && now - p.idleSince > options.idleTimeout().toNanos();
                    if ((dead || idle) && p.active == 0) {
                        it.remove();
                        stale.add(p.session);
                    } else if (dead) {
                        p.broken = true;
                    }
                }
                for (Pooled p : sessions) {
                    if (!p.broken && p.active < options.maxCommandsPerSession()) {
                        p.active++;
                        return p;
                    }
                }
            }
        } finally {
            stale.forEach(Session::disconnect);
        }
        Session s = connect();
        synchronized (this) {
            if (closed) {
                s.disconnect();
                throw new IllegalStateException("this SSH runner for " + target + " is closed");
            }
            Pooled p = new Pooled(s);
            p.active = 1;
            sessions.add(p);
            return p;
        }
    }

    /** Gives a connection back; a broken one is closed once no command uses it. */
    void release(Pooled p, boolean broken) {
        boolean disconnect = false;
        synchronized (this) {
            p.active--;
            p.idleSince = System.nanoTime();
            if (broken || !p.session.isConnected()) {
                p.broken = true;
            }
            if ((p.broken || closed) && p.active == 0) {
                sessions.remove(p);
                disconnect = true;
            }
        }
        if (disconnect) {
            p.session.disconnect();
        }
    }

    /** How many connections were opened since the pool was made. */
    long opened() {
        return opened.get();
    }

    /** How many connections are open now. */
    synchronized int open() {
        return (int) sessions.stream().filter(p -> p.session.isConnected()).count();
    }

    @Override
    public void close() {
        List<Pooled> all;
        synchronized (this) {
            closed = true;
            all = new ArrayList<>(sessions);
            sessions.clear();
        }
        all.forEach(p -> p.session.disconnect());
    }

    // ------------------------------------------------------------------ connecting

    private Session connect() {
        JSch j = jsch();
        Session s;
        try {
            s = j.getSession(options.user(), options.host().orElseThrow(), options.port());
        } catch (JSchException e) {
            throw failure("cannot connect over SSH to " + target, e.getMessage(), null, e);
        }
        s.setConfig("StrictHostKeyChecking", options.strictHostKeyChecking() ? "yes" : "no");
        if (options.strictHostKeyChecking()) {
            try {
                // read anew for every connection, so a key added meanwhile counts
                j.setKnownHosts(options.knownHosts().toString());
            } catch (JSchException e) {
                throw failure("cannot read the known_hosts file " + options.knownHosts(), e.getMessage(),
                        "check the file named by SshOptions.knownHosts (or UserKnownHostsFile in ssh_options)", e);
            }
            s.setHostKeyRepository(j.getHostKeyRepository());
        } else {
            s.setHostKeyRepository(AcceptAnyHostKey.INSTANCE);
        }
        byte[] password = options.passwordBytes();
        if (password != null) {
            s.setPassword(password);
            Arrays.fill(password, (byte) 0);
            s.setConfig("PreferredAuthentications", "publickey,password");
        } else {
            s.setConfig("PreferredAuthentications", "publickey");
        }
        s.setUserInfo(NoPrompts.INSTANCE);
        s.setDaemonThread(true);
        try {
            s.setServerAliveInterval((int) options.serverAliveInterval().toMillis());
            s.setServerAliveCountMax(3);
            s.connect((int) options.connectTimeout().toMillis());
        } catch (JSchException e) {
            s.disconnect();
            throw translate(e);
        }
        long n = opened.incrementAndGet();
        LOG.debug("opened SSH connection #{} to {}", n, target);
        return s;
    }

    /** The JSch instance with this runner's identities, made on first use. */
    private synchronized JSch jsch() {
        if (jsch != null) {
            return jsch;
        }
        JSch j = new JSch();
        j.setInstanceLogger(new JschLogger());
        byte[] passphrase = options.passphraseBytes();
        try {
            if (options.hasInMemoryKey()) {
                addIdentity(j, "the in-memory private key", () -> j.addIdentity("in-memory key", options.privateKeyBytes(),
                        null, passphrase));
            } else if (options.identityFile().isPresent()) {
                Path file = options.identityFile().get();
                if (!Files.isReadable(file)) {
                    throw new ReplicationException(ErrorCode.BAD_SSH, "cannot read the private key file " + file
                            + " for " + target, Files.exists(file) ? "the file is not readable by this JVM's user"
                            : "the file does not exist", "check SshOptions.identityFile (or -i in ssh_options)");
                }
                addIdentity(j, "the private key " + file, () -> j.addIdentity(file.toString(), passphrase));
            } else {
                for (Path file : SshOptions.defaultIdentityFiles()) {
                    if (Files.isReadable(file)) {
                        addIdentity(j, "the private key " + file, () -> j.addIdentity(file.toString(), passphrase));
                    }
                }
            }
        } finally {
            if (passphrase != null) {
                Arrays.fill(passphrase, (byte) 0);
            }
        }
        jsch = j;
        return j;
    }

    @FunctionalInterface
    private interface IdentityAdder {
        void add() throws JSchException;
    }

    private void addIdentity(JSch j, String what, IdentityAdder adder) {
        int before = identities(j).size();
        try {
            adder.add();
        } catch (JSchException e) {
            String detail;
            if (e.getMessage() != null && e.getMessage().startsWith("Incorrect passphrase")) {
                detail = "the passphrase is wrong";
            } else if (e.getCause() instanceof FileNotFoundException) {
                detail = "the file does not exist or cannot be read";
            } else {
                detail = "it is not a private key this client can read (" + e.getMessage() + ")";
            }
            throw new ReplicationException(ErrorCode.BAD_SSH, "cannot use " + what + " for " + target, detail,
                    "give an unencrypted key or its passphrase, in OpenSSH or PEM format", e);
        }
        List<Identity> now = identities(j);
        for (int i = before; i < now.size(); i++) {
            if (now.get(i).isEncrypted()) {
                throw new ReplicationException(ErrorCode.BAD_SSH, "cannot use " + what + " for " + target,
                        "the key is encrypted and no passphrase was given", "set SshOptions.passphrase");
            }
        }
    }

    private static List<Identity> identities(JSch j) {
        try {
            return new ArrayList<>(j.getIdentityRepository().getIdentities());
        } catch (RuntimeException e) {
            return List.of();
        }
    }

    /** A JSch connect failure as BAD_SSH with what, why and what to do; no secret is ever in it. */
    ReplicationException translate(JSchException e) {
        String msg = String.valueOf(e.getMessage());
        Throwable cause = e.getCause();
        String what = "cannot connect over SSH to " + target;
        if (e instanceof JSchChangedHostKeyException || msg.startsWith("HostKey has been changed")) {
            return failure("the host key of " + target + " does not match known_hosts",
                    "the key the server offered differs from the one recorded for it in " + options.knownHosts()
                            + "; someone may be intercepting the connection, or the host was reinstalled",
                    "if the host key was changed on purpose, replace its line in " + options.knownHosts()
                            + " (ssh-keygen -R, then ssh-keyscan)", e);
        }
        if (e instanceof JSchUnknownHostKeyException || msg.startsWith("UnknownHostKey") || msg.startsWith("reject HostKey")) {
            boolean fileMissing = !Files.exists(options.knownHosts());
            return failure("the host key of " + target + " is unknown",
                    (fileMissing ? "the known_hosts file " + options.knownHosts() + " does not exist"
                            : "no key for this host and port is in " + options.knownHosts())
                            + " and strict host key checking is on",
                    "add the host's key to " + options.knownHosts() + " (for example: ssh-keyscan -p " + options.port()
                            + " " + options.host().orElse("HOST") + " >> " + options.knownHosts()
                            + ", after checking its fingerprint)", e);
        }
        if (e instanceof JSchRevokedHostKeyException) {
            return failure("the host key of " + target + " is marked as revoked in " + options.knownHosts(), msg,
                    "do not connect until the host's key has been replaced", e);
        }
        if (msg.startsWith("Auth fail") || msg.startsWith("Auth cancel")) {
            return failure("authentication failed for " + target,
                    "the server refused " + (options.hasPassword() ? "the key(s) and the password" : "the key(s)")
                            + " offered for user \"" + options.user() + "\"",
                    "check that the public key is in ~" + options.user() + "/.ssh/authorized_keys on the host and that"
                            + " the private key given (SshOptions.identityFile / privateKey, or -i in ssh_options) is"
                            + " its pair", e);
        }
        if (cause instanceof ConnectException) {
            return failure(what, "connection refused: nothing listens on port " + options.port(),
                    "check that sshd runs on the host and the SSH port (SshOptions.port, or -p in ssh_options)", e);
        }
        if (cause instanceof UnknownHostException) {
            return failure(what, "unknown host name \"" + options.host().orElse("") + "\"",
                    "check the host name (SshOptions.host, or the node's conninfo host)", e);
        }
        if (cause instanceof NoRouteToHostException) {
            return failure(what, "no route to host", "check the network between this machine and the host", e);
        }
        if (cause instanceof SocketTimeoutException || msg.contains("timeout") || msg.contains("timed out")) {
            return failure(what, "no answer within the connect timeout of " + options.connectTimeout().toMillis() + " ms",
                    "check that the host is up and reachable, or raise the connect timeout (ConnectTimeout in"
                            + " ssh_options)", e);
        }
        if (msg.contains("connection is closed by foreign host") || msg.contains("Connection reset")) {
            return failure(what, "the server closed the connection during the handshake",
                    "check that an SSH server listens on port " + options.port() + " and accepts this client", e);
        }
        return failure(what, msg, null, e);
    }

    private static ReplicationException failure(String message, String detail, String hint, Throwable cause) {
        return new ReplicationException(ErrorCode.BAD_SSH, message, detail, hint, cause);
    }

    /** Host key checking turned off: every key is taken, none is recorded. */
    private enum AcceptAnyHostKey implements HostKeyRepository {
        INSTANCE;

        @Override
        public int check(String host, byte[] key) {
            return OK;
        }

        @Override
        public void add(HostKey hostkey, UserInfo ui) {
        }

        @Override
        public void remove(String host, String type) {
        }

        @Override
        public void remove(String host, String type, byte[] key) {
        }

        @Override
        public String getKnownHostsRepositoryID() {
            return "(host key checking off)";
        }

        @Override
        public HostKey[] getHostKey() {
            return new HostKey[0];
        }

        @Override
        public HostKey[] getHostKey(String host, String type) {
            return new HostKey[0];
        }
    }

    /** Answers every question JSch might ask with "no": the library never prompts. */
    private enum NoPrompts implements UserInfo {
        INSTANCE;

        @Override
        public String getPassphrase() {
            return null;
        }

        @Override
        public String getPassword() {
            return null;
        }

        @Override
        public boolean promptPassword(String message) {
            return false;
        }

        @Override
        public boolean promptPassphrase(String message) {
            return false;
        }

        @Override
        public boolean promptYesNo(String message) {
            return false;
        }

        @Override
        public void showMessage(String message) {
        }
    }

    /** JSch's own log lines, at DEBUG under {@code io.repmgr4j.core.ssh.jsch}; failures surface as exceptions. */
    private static final class JschLogger implements com.jcraft.jsch.Logger {
        @Override
        public boolean isEnabled(int level) {
            return JSCH_LOG.isDebugEnabled();
        }

        @Override
        public void log(int level, String message) {
            JSCH_LOG.debug("{}", message);
        }
    }
}
