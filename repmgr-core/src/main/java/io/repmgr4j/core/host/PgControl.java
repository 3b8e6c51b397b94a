package io.repmgr4j.core.host;

import io.repmgr4j.ErrorCode;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.spi.Command;
import io.repmgr4j.spi.CommandResult;
import io.repmgr4j.spi.CommandRunner;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Starts, stops, reloads and inspects one node's PostgreSQL server through the node's
 * {@link CommandRunner}: with repmgr.conf's {@code service_*_command} when set, else
 * with {@code pg_ctl} on the node's data directory, and PostgreSQL's programs from
 * {@code pg_bindir} (else PATH). Every wait is bounded. Thread-safe.
 *
 * <p>No shell ever sees the data directory. {@code pg_ctl start} starts postgres through
 * {@code sh -c 'exec "postgres" -D "DIR" < /dev/null >> "LOG" 2>&1'}, with {@code DIR}
 * (when given as {@code -D}) and the log file spliced between double quotes, where
 * {@code $(...)}, backticks, {@code "} and {@code \} are live. So pg_ctl never gets
 * {@code -D}: the directory travels in {@code PGDATA} (which pg_ctl and postgres read, and
 * the shell line never contains), pg_ctl runs in the data directory and gets the log file
 * as the relative {@code log/repmgr4j-server.log}. The programs' path ({@code pg_bindir})
 * is in that shell line too, which is why {@code InputRules} refuses shell-active
 * characters there.
 */
public final class PgControl {
    /** The server log pg_ctl writes, relative to the data directory (pg_ctl runs there). */
    public static final String SERVER_LOG = "log/repmgr4j-server.log";
    private static final Pattern VERSION = Pattern.compile("\\(PostgreSQL\\) (\\d+)(?:\\.(\\d+))?");

    /** How pg_ctl stops a server. */
    public enum StopMode { SMART, FAST, IMMEDIATE }

    private final NodeConfig node;
    private final CommandRunner runner;

    public PgControl(NodeConfig node, CommandRunner runner) {
        this.node = Objects.requireNonNull(node, "node");
        this.runner = Objects.requireNonNull(runner, "runner");
    }

    public NodeConfig node() {
        return node;
    }

    public CommandRunner runner() {
        return runner;
    }

    /** The path of one of the node's PostgreSQL programs. */
    public String tool(String name) {
        return node.pgBindir().map(d -> d.endsWith("/") ? d + name : d + "/" + name).orElse(name);
    }

    /** Where pg_ctl writes the server's log when the library starts it: {@code <data_directory>/log/repmgr4j-server.log}. */
    public String serverLogFile() {
        return node.dataDirectory() + "/" + SERVER_LOG;
    }

    /** The major version a program reports ({@code pg_basebackup --version} → 15). */
    public int majorVersion(String program) {
        CommandResult r = runner.run(Command.of(tool(program), "--version").withTimeout(Duration.ofSeconds(30)));
        return majorVersion(program, new NodeHost.ProgramAnswer(r.succeeded() ? 0 : Math.max(1, r.exitCode()),
                r.succeeded() ? r.stdout() : r.lastErrorLine()));
    }

    /**
     * The major version in a program's answer to {@code --version} (asked by
     * {@link NodeHost#probe} along with other questions, say).
     */
    public int majorVersion(String program, NodeHost.ProgramAnswer answer) {
        Matcher m = VERSION.matcher(answer.output());
        if (answer.exitCode() != 0 || !m.find()) {
            String out = answer.output().strip();
            throw new ReplicationException(ErrorCode.LOCAL_COMMAND,
                    "unable to run \"" + tool(program) + " --version\" on " + runner.describe(),
                    answer.exitCode() == 0 ? "unexpected output: " + out : out.isEmpty() ? "exit code " + answer.exitCode()
                            : out.lines().reduce((a, b) -> b).orElse(out),
                    "check pg_bindir in the node's configuration");
        }
        return Integer.parseInt(m.group(1));
    }

    /** True when pg_ctl finds a server running on the data directory. */
    public boolean isRunning() {
        CommandResult r = runner.run(onDataDirectory(Command.of(tool("pg_ctl"), "status"))
                .withTimeout(Duration.ofSeconds(30)));
        return r.exitCode() == 0 && !r.timedOut();
    }

    /** Starts the server and waits up to {@code timeout} until it accepts connections. */
    public CommandResult start(Duration timeout) {
        if (node.serviceStartCommand().isPresent()) {
            return shell("start", node.serviceStartCommand().get(), timeout);
        }
        NodeHost host = new NodeHost(runner);
        host.mkdirs(node.dataDirectory() + "/log", 0700);
        return pgCtl("start", timeout, "start", "-w", "-t", seconds(timeout), "-l", SERVER_LOG);
    }

    /**
     * Starts the server without waiting until it accepts connections ({@code pg_ctl start
     * -W}), for callers that poll faster than pg_ctl's 100 ms; with service_start_command,
     * which has its own way of waiting, this is {@link #start(Duration)}.
     *
     * @return true when the start was only launched (the caller must wait), false when it waited
     */
    public boolean startNoWait(Duration timeout) {
        if (node.serviceStartCommand().isPresent()) {
            start(timeout);
            return false;
        }
        NodeHost host = new NodeHost(runner);
        host.mkdirs(node.dataDirectory() + "/log", 0700);
        pgCtl("start", timeout, "start", "-W", "-l", SERVER_LOG);
        return true;
    }

    /** Stops the server and waits up to {@code timeout} until it is down. */
    public CommandResult stop(StopMode mode, Duration timeout) {
        if (node.serviceStopCommand().isPresent() && mode != StopMode.IMMEDIATE) {
            return shell("stop", node.serviceStopCommand().get(), timeout);
        }
        return pgCtl("stop", timeout, "stop", "-w", "-t", seconds(timeout), "-m", mode.name().toLowerCase());
    }

    /**
     * Restarts the server (fast shutdown), waiting up to {@code timeout}: a stop, then a
     * {@link #start(Duration)}. Not {@code pg_ctl restart}: that starts postgres again with
     * the options it finds in {@code postmaster.opts}, spliced into its {@code sh -c}
     * line, and a server someone else started with {@code -D DIR} has its directory there
     * (see the class comment).
     */
    public CommandResult restart(Duration timeout) {
        if (node.serviceRestartCommand().isPresent()) {
            return shell("restart", node.serviceRestartCommand().get(), timeout);
        }
        long t0 = System.nanoTime();
        pgCtl("stop", timeout, "stop", "-w", "-t", seconds(timeout), "-m", "fast");
        Duration left = timeout.minusNanos(System.nanoTime() - t0);
        return start(left.compareTo(Duration.ofSeconds(1)) < 0 ? Duration.ofSeconds(1) : left);
    }

    /** Makes the server re-read its configuration. */
    public CommandResult reload() {
        Duration t = Duration.ofSeconds(30);
        if (node.serviceReloadCommand().isPresent()) {
            return shell("reload", node.serviceReloadCommand().get(), t);
        }
        return pgCtl("reload", t, "reload");
    }

    /** pg_controldata of the node's data directory. */
    public ControlData controlData() {
        CommandResult r = runner.run(Command.of(tool("pg_controldata"), "-D", node.dataDirectory())
                .withEnv("LC_ALL", "C").withTimeout(Duration.ofSeconds(30)));
        if (!r.succeeded()) {
            throw new ReplicationException(ErrorCode.LOCAL_COMMAND,
                    "unable to read the control file of \"" + node.dataDirectory() + "\" on " + runner.describe(),
                    r.lastErrorLine(), "check data_directory and pg_bindir in the node's configuration");
        }
        return ControlData.parse(r.stdout());
    }

    /**
     * A setting as the server would read it from its configuration files
     * ({@code postgres -C NAME}), for a stopped server; empty when it cannot be read.
     */
    public Optional<String> configuredSetting(String name) {
        CommandResult r = runner.run(Command.of(tool("postgres"), "-C", name, "-D", node.dataDirectory())
                .withEnv("LC_ALL", "C").withTimeout(Duration.ofSeconds(30)));
        return r.succeeded() && !r.stdout().isBlank() ? Optional.of(r.stdout().strip()) : Optional.empty();
    }

    /** The last lines of the server log the library's pg_ctl start writes, for error details. */
    public Optional<String> serverLogTail(int lines) {
        CommandResult r = runner.run(Command.of("tail", "-n", String.valueOf(lines), serverLogFile())
                .withTimeout(Duration.ofSeconds(10)));
        return r.succeeded() && !r.stdout().isBlank() ? Optional.of(r.stdout().strip()) : Optional.empty();
    }

    private CommandResult pgCtl(String action, Duration timeout, String... args) {
        List<String> argv = new ArrayList<>();
        argv.add(tool("pg_ctl"));
        argv.addAll(List.of(args));
        CommandResult r = runner.run(onDataDirectory(Command.of(argv)).withTimeout(timeout.plusSeconds(10)));
        if (!r.succeeded()) {
            String detail = r.timedOut() ? "pg_ctl did not return within " + timeout.toSeconds() + " s" : r.lastErrorLine();
            if (action.equals("start") || action.equals("restart")) {
                detail = detail + serverLogTail(5).map(t -> "\nserver log:\n" + t).orElse("");
            }
            throw new ReplicationException(action.equals("stop") ? ErrorCode.NO_RESTART : ErrorCode.LOCAL_COMMAND,
                    "unable to " + action + " the server of node \"" + node.nodeName() + "\" (ID: " + node.nodeId() + ")",
                    detail, "see the server log " + serverLogFile() + " on " + runner.describe());
        }
        return r;
    }

    private CommandResult shell(String action, String command, Duration timeout) {
        CommandResult r = runner.run(Command.of("sh", "-c", command).withTimeout(timeout));
        if (!r.succeeded()) {
            throw new ReplicationException(action.equals("stop") ? ErrorCode.NO_RESTART : ErrorCode.LOCAL_COMMAND,
                    "unable to " + action + " the server of node \"" + node.nodeName() + "\" (ID: " + node.nodeId()
                            + ") with service_" + action + "_command",
                    r.timedOut() ? "the command did not return within " + timeout.toSeconds() + " s"
                            : "\"" + io.repmgr4j.InputRules.shorten(command) + "\" exited with code " + r.exitCode()
                                    + (r.lastErrorLine().isBlank() ? " and printed nothing on stderr" : ": " + r.lastErrorLine()),
                    "check service_" + action + "_command in the node's configuration");
        }
        return r;
    }

    /**
     * A pg_ctl command on the node's data directory: the directory in {@code PGDATA}, never
     * as {@code -D}; a start or restart also runs in it, for its relative log file (see the
     * class comment).
     */
    private Command onDataDirectory(Command pgCtl) {
        Command c = pgCtl.withEnv("PGDATA", node.dataDirectory());
        String action = pgCtl.argv().get(1);
        return action.equals("start") ? c.withWorkingDirectory(node.dataDirectory()) : c;
    }

    private static String seconds(Duration d) {
        return String.valueOf(Math.max(1, d.toSeconds()));
    }
}
