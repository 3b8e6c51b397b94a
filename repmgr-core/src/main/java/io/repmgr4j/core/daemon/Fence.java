package io.repmgr4j.core.daemon;

import io.repmgr4j.ErrorCode;
import io.repmgr4j.FencingMode;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.core.host.NodeHost;
import io.repmgr4j.core.host.PgControl;
import io.repmgr4j.core.host.RecoveryConfig;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.spi.Command;
import io.repmgr4j.spi.CommandResult;
import io.repmgr4j.spi.CommandRunner;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fence a daemon applies to its own node's server, by the node's {@code fencing}
 * setting, through the node's command runner (so as the OS user that runner runs
 * commands as: {@code postgres} when the library runs as root on the node's host, the
 * SSH user for a remote host):
 * <ul>
 *   <li>{@code readonly}: {@code standby.signal} and the marker file
 *       {@value #MARKER} are written into the data directory, the server is stopped
 *       ({@code pg_ctl stop -m fast}, which ends every session and refuses new ones at
 *       once) and started again as a hot standby with {@code primary_conninfo} empty. A
 *       hot standby refuses every write whatever a session sets, so no client can undo
 *       it; reads work again once it is up. With {@code service_stop_command} /
 *       {@code service_start_command} those are used instead of pg_ctl (and the
 *       standby keeps whatever primary_conninfo its configuration has);</li>
 *   <li>{@code stop}: {@code pg_ctl stop -m immediate};</li>
 *   <li>{@code command}: {@code fence_command} through {@code sh -c}, with {@code %n} node
 *       id, {@code %a} node name, {@code %r} reason (quoted for the shell);</li>
 *   <li>{@code none}: nothing.</li>
 * </ul>
 * A readonly fence is lifted ({@link #lift}) by removing {@code standby.signal} and
 * starting the server again without it: it comes back as a primary on the same timeline
 * (no promotion, so no new timeline). Thread-safe (one fence at a time).
 */
final class Fence {
    private static final Logger LOG = LoggerFactory.getLogger(Fence.class);
    /** Marker file in the data directory while a readonly fence holds: {@code term=N timeline=N reason=...}. */
    static final String MARKER = "repmgr4j.fenced";
    private static final Duration STEP_TIMEOUT = Duration.ofSeconds(60);
    /**
     * How long the readonly fence lets a fast shutdown run before it stops the server with
     * {@code -m immediate}: sessions end at the fast shutdown's signal, but its walsenders then
     * wait to send the shutdown checkpoint to every connected standby, and one cut off by a
     * partition holds them until {@code wal_sender_timeout} (60 s by default).
     */
    static final Duration FAST_STOP_TIMEOUT = Duration.ofSeconds(3);

    /** What a readonly fence left in the data directory. */
    record Marker(int term, int timeline, String reason) {
        String encode() {
            return "term=" + term + " timeline=" + timeline + " reason=" + reason.replace('\n', ' ');
        }

        static Optional<Marker> parse(String text) {
            try {
                String t = text.strip();
                int term = Integer.parseInt(t.substring(t.indexOf("term=") + 5, t.indexOf(' ', t.indexOf("term="))));
                int tli = Integer.parseInt(t.substring(t.indexOf("timeline=") + 9, t.indexOf(' ', t.indexOf("timeline="))));
                String reason = t.contains("reason=") ? t.substring(t.indexOf("reason=") + 7) : "";
                return Optional.of(new Marker(term, tli, reason));
            } catch (RuntimeException e) {
                return Optional.empty();
            }
        }
    }

    /** The outcome of applying the fence. */
    record Result(boolean done, String details) {
    }

    private final NodeConfig self;
    private final FenceSettings fs;
    private final CommandRunner runner;
    private final PgControl pg;

    Fence(NodeConfig self, FenceSettings fs, CommandRunner runner) {
        this.self = self;
        this.fs = fs;
        this.runner = runner;
        this.pg = new PgControl(self, runner);
    }

    FencingMode mode() {
        return fs.mode();
    }

    /** Applies the configured fence to the running server. */
    synchronized Result apply(String reason, int term, int timeline) {
        switch (fs.mode()) {
            case NONE:
                return new Result(false, "fencing=none: the server was left as it is");
            case STOP: {
                CommandResult r = pg.stop(PgControl.StopMode.IMMEDIATE, STEP_TIMEOUT);
                return r.succeeded() ? new Result(true, "server stopped (pg_ctl stop -m immediate)")
                        : new Result(false, "pg_ctl stop failed: " + r.lastErrorLine());
            }
            case COMMAND: {
                String cmd = NotificationCommand.expand(fs.command().orElseThrow(), Map.of('n', String.valueOf(self.nodeId()),
                        'a', self.nodeName(), 'r', reason));
                CommandResult r = runner.run(Command.of("sh", "-c", cmd).withTimeout(STEP_TIMEOUT));
                return r.succeeded() ? new Result(true, "fence_command succeeded")
                        : new Result(false, "fence_command " + (r.timedOut() ? "timed out" : "exited with " + r.exitCode())
                                + ": " + r.lastErrorLine());
            }
            default:
                return readonly(new Marker(term, timeline, reason));
        }
    }

    private Result readonly(Marker marker) {
        String dir = self.dataDirectory();
        if (self.serviceStopCommand().isPresent() || self.serviceStartCommand().isPresent()) {
            try {
                placeSignal(marker);
            } catch (RuntimeException e) {
                return new Result(false, "could not write standby.signal: " + e.getMessage());
            }
            CommandResult stop = pg.stop(PgControl.StopMode.FAST, FAST_STOP_TIMEOUT);
            if (!stop.succeeded()) {
                pg.stop(PgControl.StopMode.IMMEDIATE, STEP_TIMEOUT);
            }
            CommandResult start = pg.start(STEP_TIMEOUT);
            return start.succeeded() ? new Result(true, "restarted as a read-only standby (service commands)")
                    : new Result(true, "server stopped; its start as a read-only standby failed: " + start.lastErrorLine());
        }
        String t = String.valueOf(STEP_TIMEOUT.toSeconds());
        // pg_ctl never gets -D or an absolute log path: its own sh -c line would expand them (see PgControl)
        String script = "umask 077; : > \"$1/standby.signal\" && cat > \"$1/" + MARKER + "\" || exit 90\n"
                + "export PGDATA=\"$1\"; cd \"$1\" || exit 91\n"
                + "\"$2\" stop -m fast -w -t \"$5\" >/dev/null 2>&1 || \"$2\" stop -m immediate -w -t \"$4\""
                + " >/dev/null || exit 91\n"
                + "mkdir -p \"$(dirname \"$3\")\"\n"
                + "exec \"$2\" start -w -t \"$4\" -l \"$3\" -o \"-c primary_conninfo=\" >/dev/null";
        CommandResult r = runner.run(Command.of("sh", "-c", script, "sh", dir, pg.tool("pg_ctl"), PgControl.SERVER_LOG, t,
                        String.valueOf(FAST_STOP_TIMEOUT.toSeconds()))
                .withStdin(marker.encode() + "\n").withTimeout(STEP_TIMEOUT.multipliedBy(2)));
        if (r.succeeded()) {
            return new Result(true, "restarted as a read-only standby without upstream (standby.signal, primary_conninfo empty)");
        }
        if (r.exitCode() == 90) {
            return new Result(false, "could not write standby.signal into " + dir + ": " + r.lastErrorLine());
        }
        if (r.exitCode() == 91) {
            return new Result(false, "could not stop the server: " + r.lastErrorLine());
        }
        return new Result(true, "server stopped (standby.signal in place); its start as a read-only standby failed: "
                + r.lastErrorLine());
    }

    /**
     * Writes {@code standby.signal} and the marker while the server is down, so that it
     * starts as a read-only standby (an old primary whose cluster promoted another node).
     */
    synchronized void placeSignal(Marker marker) {
        // a rejoin's crash recovery sets standby.signal aside while postgres --single runs (single-user mode
        // refuses standby mode): writing it back then would break that recovery, and the rejoin makes the
        // node a standby anyway
        String aside = RecoveryConfig.STANDBY_SIGNAL + RecoveryConfig.SET_ASIDE_SUFFIX;
        String script = "[ -e \"$1/" + aside + "\" ] && exit 93\n"
                + "umask 077; cat > \"$1/" + MARKER + "\" && : > \"$1/standby.signal\"";
        CommandResult r = runner.run(Command.of("sh", "-c", script, "sh", self.dataDirectory())
                .withStdin(marker.encode() + "\n").withTimeout(STEP_TIMEOUT));
        if (!r.succeeded()) {
            throw new ReplicationException(ErrorCode.LOCAL_COMMAND, "could not write standby.signal into "
                    + self.dataDirectory(), r.exitCode() == 93 ? "a rejoin's crash recovery is running on this node"
                    : r.lastErrorLine(), "none needed if a rejoin is running; otherwise check the directory's permissions");
        }
    }

    /** The marker of a readonly fence, if the data directory holds one. */
    Optional<Marker> readMarker() {
        try {
            return new NodeHost(runner).readFileIfExists(self.dataDirectory() + "/" + MARKER).flatMap(Marker::parse);
        } catch (RuntimeException e) {
            LOG.debug("[{}] could not read the fence marker: {}", self.nodeName(), e.getMessage());
            return Optional.empty();
        }
    }

    /** Lifts a readonly fence: standby.signal removed, the server stopped and started again as a primary. */
    synchronized Result lift() {
        String t = String.valueOf(STEP_TIMEOUT.toSeconds());
        String script = "rm -f \"$1/standby.signal\" || exit 90\n"
                + "export PGDATA=\"$1\"; cd \"$1\" || exit 91\n"
                + "\"$2\" stop -m fast -w -t \"$4\" >/dev/null || exit 91\n"
                + "\"$2\" start -w -t \"$4\" -l \"$3\" >/dev/null || exit 92\n"
                + "rm -f \"$1/" + MARKER + "\"";
        CommandResult r = runner.run(Command.of("sh", "-c", script, "sh", self.dataDirectory(), pg.tool("pg_ctl"),
                PgControl.SERVER_LOG, t).withTimeout(STEP_TIMEOUT.multipliedBy(2)));
        return r.succeeded() ? new Result(true, "standby.signal removed, server restarted as primary on the same timeline")
                : new Result(false, "lifting the fence failed (exit " + r.exitCode() + "): " + r.lastErrorLine());
    }
}
