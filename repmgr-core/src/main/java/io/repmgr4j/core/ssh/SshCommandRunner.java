package io.repmgr4j.core.ssh;

import com.jcraft.jsch.ChannelExec;
import com.jcraft.jsch.JSchException;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.spi.Command;
import io.repmgr4j.spi.CommandResult;
import io.repmgr4j.spi.CommandRunner;
import io.repmgr4j.spi.OutputPump;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs commands on a node's host over SSH (JSch): the {@link CommandRunner} for nodes
 * that live on another machine than the library.
 *
 * <ul>
 *   <li>Each argument is quoted for the remote POSIX shell ({@link ShellQuote}), so it
 *       arrives as one literal argument whatever characters it holds. The remote
 *       account's login shell must be a POSIX shell (sh, bash, dash, ksh, zsh).</li>
 *   <li>{@link Command#environment()} is set by the remote shell from lines it reads on
 *       stdin before the command's own input ({@link RemoteCommand}): values never show
 *       in the remote process table, never need sshd's AcceptEnv and are never logged.
 *       {@link Command#workingDirectory()} with {@code cd}; {@link Command#stdin()} is
 *       sent, then end-of-file.</li>
 *   <li>Exit status, stdout and stderr are captured; lines of both (including
 *       {@code '\r'}-terminated progress lines) go to the command's output listener as
 *       they arrive.</li>
 *   <li>A command that runs past its timeout is killed with its whole process group on
 *       the host (a {@code kill} sent over a second channel) and reported with
 *       {@code timedOut() == true}.</li>
 *   <li>Connections are pooled: reused across commands, several commands at once per
 *       connection, a broken one replaced.</li>
 *   <li>Failures to connect (refused, timed out, unknown or changed host key,
 *       authentication) are {@link ReplicationException}s with {@link ErrorCode#BAD_SSH}
 *       naming {@code user@host:port}; no passphrase or password is in any message or log.</li>
 * </ul>
 *
 * <pre>{@code
 * SshOptions ssh = SshOptions.builder()
 *         .user("postgres")
 *         .identityFile(Path.of("/etc/repmgr4j/id_ed25519"))
 *         .knownHosts(Path.of("/etc/repmgr4j/known_hosts"))
 *         .build();
 * try (SshCommandRunner pg2 = SshCommandRunner.forNode(node2, ssh)) {
 *     ReplicationCluster cluster = ReplicationClusters.builder()
 *             .seed(node1.conninfo())
 *             .node(node2, pg2)
 *             .build();
 * }
 * }</pre>
 *
 * <p>Thread-safe: commands may run from many threads at once. Close the runner to close
 * its connections (they are daemon threads, so an unclosed runner does not keep the JVM
 * alive).
 */
public final class SshCommandRunner implements CommandRunner, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SshCommandRunner.class);
    /** After the exit status came, how long output still held open (by a background child) is waited for. */
    private static final long OUTPUT_GRACE_MS = 2_000;
    /** The longest the kill of a timed-out command, and the channel's end after it, are waited for. */
    private static final long KILL_WAIT_MS = 5_000;
    /** How long a connection that closed a channel without an exit status gets to show it is down. */
    private static final long LOST_SETTLE_MS = 500;

    private final SshOptions options;
    private final SessionPool pool;

    private SshCommandRunner(SshOptions options) {
        this.options = options;
        this.pool = new SessionPool(options);
    }

    /**
     * A runner for the host named in {@code options}.
     *
     * @throws IllegalArgumentException when {@code options} names no host
     */
    public static SshCommandRunner create(SshOptions options) {
        Objects.requireNonNull(options, "options");
        if (options.host().isEmpty()) {
            throw new IllegalArgumentException("SshOptions without a host: set SshOptions.Builder.host,"
                    + " or use SshCommandRunner.forNode to take the node's conninfo host");
        }
        return new SshCommandRunner(options);
    }

    /**
     * A runner for a node's host: {@code defaults}, then what maps from the node's
     * {@code ssh_options} (port, user, identity file, ConnectTimeout,
     * StrictHostKeyChecking, UserKnownHostsFile; others are logged as warnings), and the
     * host of the node's conninfo when {@code defaults} names none.
     *
     * @throws ReplicationException ({@code BAD_CONFIG}) when ssh_options is malformed or the
     *     conninfo names a Unix-socket directory rather than a host
     */
    public static SshCommandRunner forNode(NodeConfig node, SshOptions defaults) {
        Objects.requireNonNull(node, "node");
        Objects.requireNonNull(defaults, "defaults");
        SshOptions.Builder b = defaults.toBuilder();
        node.sshOptions().ifPresent(b::sshOptions);
        if (defaults.host().isEmpty()) {
            String host = node.conninfo().host();
            if (host.startsWith("/") || host.startsWith("@")) {
                throw new ReplicationException(ErrorCode.BAD_CONFIG,
                        "no SSH host for node \"" + node.nodeName() + "\" (ID: " + node.nodeId() + ")",
                        "its conninfo names the Unix-socket directory \"" + host + "\", not a host",
                        "give the host in SshOptions.host, or a host name in the node's conninfo");
            }
            b.host(host);
        }
        return create(b.build());
    }

    /** The options this runner connects with (host resolved). */
    public SshOptions options() {
        return options;
    }

    /** How many SSH connections this runner has opened since it was made. */
    public long sessionsOpened() {
        return pool.opened();
    }

    /** How many SSH connections this runner holds open now. */
    public int openSessions() {
        return pool.open();
    }

    @Override
    public CommandResult run(Command command) {
        Objects.requireNonNull(command, "command");
        RemoteCommand.Remote remote = RemoteCommand.build(command);
        long start = System.nanoTime();
        LOG.debug("{}: {}", describe(), command);
        SessionPool.Pooled lease = pool.acquire();
        Started started;
        try {
            started = start(lease, remote, command);
        } catch (JSchException first) {
            // a pooled connection may have died since its last use: once more on a fresh one
            pool.release(lease, true);
            lease = pool.acquire();
            try {
                started = start(lease, remote, command);
            } catch (JSchException e) {
                pool.release(lease, true);
                throw new ReplicationException(ErrorCode.BAD_SSH, "cannot start \"" + command.argv().get(0)
                        + "\" over SSH on " + options.target(), e.getMessage(),
                        "check the SSH server's MaxSessions and that the host is reachable", e);
            } catch (RuntimeException e) {
                pool.release(lease, false);
                throw e;
            }
        } catch (RuntimeException e) {
            pool.release(lease, false);
            throw e;
        }
        boolean broken = false;
        try {
            CommandResult r = await(started, command, start);
            broken = !lease.session.isConnected();
            return r;
        } catch (RuntimeException e) {
            broken = !lease.session.isConnected();
            throw e;
        } finally {
            started.channel.disconnect();
            pool.release(lease, broken);
        }
    }

    /** A command whose channel is open, with its output being drained. */
    private record Started(com.jcraft.jsch.Session session, ChannelExec channel, OutputPump out, OutputPump err,
                           AtomicLong pid) {
    }

    private Started start(SessionPool.Pooled lease, RemoteCommand.Remote remote, Command command) throws JSchException {
        ChannelExec ch = (ChannelExec) lease.session.openChannel("exec");
        if (ch == null) {
            throw new JSchException("the server did not open a channel (session closing, or MaxSessions reached)");
        }
        try {
            ch.setCommand(remote.commandLine().getBytes(StandardCharsets.UTF_8));
            InputStream stdout = ch.getInputStream();
            InputStream stderr = ch.getErrStream();
            OutputStream stdin = ch.getOutputStream();
            // without a timeout JSch neither asks for a reply to "exec" (which it would poll for
            // in 10 ms steps) nor waits longer than its own bound (20 s) for the channel to open
            ch.connect();
            AtomicLong pid = new AtomicLong(-1);
            OutputPump out = OutputPump.start(stdout, Command.Stream.STDOUT, command.outputListener(), "repmgr4j-ssh-stdout");
            OutputPump err = OutputPump.start(new RemoteCommand.PidFilter(stderr, pid), Command.Stream.STDERR,
                    command.outputListener(), "repmgr4j-ssh-stderr");
            try (stdin) {
                if (remote.stdinPrefix().length > 0) {
                    stdin.write(remote.stdinPrefix());
                }
                if (command.stdin().isPresent()) {
                    stdin.write(command.stdin().get().getBytes(StandardCharsets.UTF_8));
                    stdin.flush();
                }
            } catch (IOException ignored) {
                // the command may have ended, or closed its stdin, already: its exit status tells
            }
            return new Started(lease.session, ch, out, err, pid);
        } catch (IOException e) {
            ch.disconnect();
            throw new JSchException("cannot set up the channel's streams: " + e.getMessage(), e);
        } catch (JSchException | RuntimeException e) {
            ch.disconnect();
            throw e;
        }
    }

    private CommandResult await(Started s, Command command, long startNanos) {
        long deadline = startNanos + command.timeout().toNanos();
        long exitSeenAt = 0;
        boolean timedOut = false;
        try {
            while (true) {
                if (s.channel.isClosed()) {
                    break;
                }
                long now = System.nanoTime();
                if (s.channel.getExitStatus() != -1) {
                    if (s.out.finished() && s.err.finished()) {
                        break;
                    }
                    if (exitSeenAt == 0) {
                        exitSeenAt = now;
                    } else if (now - exitSeenAt > OUTPUT_GRACE_MS * 1_000_000L) {
                        break; // a child left in the background holds the output open
                    }
                }
                if (now - deadline > 0) {
                    timedOut = true;
                    break;
                }
                if (s.out.finished()) {
                    Thread.sleep(2);
                } else {
                    s.out.await(Math.min(10, Math.max(1, (deadline - now) / 1_000_000L)));
                }
            }
        } catch (InterruptedException e) {
            kill(s);
            Thread.currentThread().interrupt();
            throw new ReplicationException(ErrorCode.BAD_SSH, "interrupted while running \"" + command.argv().get(0)
                    + "\" on " + describe(), "the command was killed", null, e);
        }
        if (timedOut) {
            kill(s);
        }
        int exit = s.channel.getExitStatus();
        if (!timedOut && exit == -1 && connectionLost(s.session)) {
            throw new ReplicationException(ErrorCode.BAD_SSH, "the SSH connection to " + options.target()
                    + " was lost while running \"" + command.argv().get(0) + "\"",
                    "the command's outcome on the host is unknown",
                    "check the host and the network, then check the command's effect before running it again");
        }
        s.channel.disconnect();
        s.out.awaitQuietly(1_000);
        s.err.awaitQuietly(1_000);
        Duration took = Duration.ofNanos(System.nanoTime() - startNanos);
        if (timedOut) {
            LOG.debug("{}: \"{}\" ran past its timeout of {} ms and was killed", describe(), command.argv().get(0),
                    command.timeout().toMillis());
            return new CommandResult(-1, s.out.text(), s.err.text(), true, took);
        }
        // no exit status: the command was ended by a signal (sshd sends exit-signal instead)
        return new CommandResult(exit == -1 ? 255 : exit, s.out.text(), s.err.text(), false, took);
    }

    /**
     * Whether a channel that ended without an exit status ended because its connection
     * broke (rather than because the command died of a signal). JSch closes the channels
     * of a broken connection a moment before it marks the connection down, so this
     * waits that moment out (at most {@value #LOST_SETTLE_MS} ms).
     */
    private static boolean connectionLost(com.jcraft.jsch.Session session) {
        long until = System.nanoTime() + LOST_SETTLE_MS * 1_000_000L;
        while (session.isConnected() && System.nanoTime() - until < 0) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return !session.isConnected();
    }

    /** SIGKILLs the command's process group through a second channel, then waits for its channel to end. */
    private void kill(Started s) {
        long pid = s.pid.get();
        if (pid > 0) {
            ChannelExec killer = null;
            try {
                killer = (ChannelExec) s.session.openChannel("exec");
                if (killer != null) {
                    killer.setCommand(RemoteCommand.kill(pid));
                    killer.connect();
                    long until = System.nanoTime() + KILL_WAIT_MS * 1_000_000L;
                    while (!killer.isClosed() && System.nanoTime() - until < 0) {
                        Thread.sleep(5);
                    }
                }
            } catch (JSchException e) {
                LOG.warn("{}: could not send the kill for timed-out process {}: {}", describe(), pid, e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                if (killer != null) {
                    killer.disconnect();
                }
            }
        } else {
            LOG.warn("{}: the timed-out command had not reported its process id; closing its channel only", describe());
        }
        long until = System.nanoTime() + KILL_WAIT_MS * 1_000_000L;
        while (!s.channel.isClosed() && System.nanoTime() - until < 0 && !Thread.currentThread().isInterrupted()) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        s.channel.disconnect();
    }

    /** {@code ssh user@host:port}. */
    @Override
    public String describe() {
        return "ssh " + options.target();
    }

    /** Closes every connection; commands running now end with an error. Idempotent. */
    @Override
    public void close() {
        pool.close();
    }

    @Override
    public String toString() {
        return "SshCommandRunner[" + options + "]";
    }
}
