package io.repmgr4j.testcontainers;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.command.ExecCreateCmd;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.StreamType;
import io.repmgr4j.spi.Command;
import io.repmgr4j.spi.CommandResult;
import io.repmgr4j.spi.CommandRunner;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.images.builder.Transferable;

/**
 * A {@link CommandRunner} that runs each command inside a running container, as a given
 * OS user, through the Docker engine's exec API (what {@code docker exec -i -u USER -w DIR
 * -e K=V} does), using Testcontainers' Docker client. Standard input is handed over as a
 * file only the user can read, removed when the command ends (so a password handed on
 * stdin never appears in an argv; the engine's exec API cannot signal the end of a stdin
 * stream), and the command then runs as the user through util-linux's {@code setpriv}.
 * Output lines reach the
 * command's output listener as they arrive, and the command's timeout is enforced inside
 * the container by coreutils' {@code timeout} (TERM, then KILL 5 s later), so that a
 * timed-out command does not keep running. The container image needs {@code timeout}
 * (coreutils) and {@code sh}. Thread-safe: each run has its own exec instance.
 */
public final class ContainerCommandRunner implements CommandRunner {
    private static final int TIMEOUT_EXIT = 124;
    private static final int KILLED_EXIT = 137;

    private final GenericContainer<?> container;
    private final String user;
    private final String label;

    /**
     * Runs commands in {@code container} (started) as {@code user} (a name or uid known in
     * the container); {@code label} names the container in {@link #describe()}.
     */
    public ContainerCommandRunner(GenericContainer<?> container, String user, String label) {
        this.container = Objects.requireNonNull(container, "container");
        this.user = Objects.requireNonNull(user, "user");
        this.label = Objects.requireNonNull(label, "label");
    }

    @Override
    public CommandResult run(Command command) {
        long t0 = System.nanoTime();
        Duration timeout = command.timeout();
        long secs = Math.max(1, (timeout.toMillis() + 999) / 1000);
        DockerClient docker = container.getDockerClient();
        String containerId = container.getContainerId();
        if (containerId == null) {
            return new CommandResult(127, "", "container " + label + " is not running", false, Duration.ZERO);
        }
        List<String> argv = new ArrayList<>(List.of("timeout", "-k", "5", secs + "s"));
        if (command.stdin().isPresent()) {
            // The engine's exec API does not pass on the end of standard input, so the text
            // goes into a file readable only by the user (never into an argv), which the
            // command reads as its stdin and which is removed when it ends.
            String file = "/tmp/repmgr4j-stdin-" + UUID.randomUUID();
            try {
                container.copyFileToContainer(Transferable.of(command.stdin().get().getBytes(StandardCharsets.UTF_8), 0600), file);
            } catch (RuntimeException e) {
                return new CommandResult(126, "", "cannot hand standard input to container " + label + ": " + e.getMessage(),
                        false, Duration.ofNanos(System.nanoTime() - t0));
            }
            argv.addAll(List.of("sh", "-c", "f=$1; u=$2; shift 2; chown \"$u\" \"$f\" || exit 126;"
                    + " exec setpriv --reuid=\"$u\" --regid=\"$(id -g \"$u\")\" --init-groups sh -c"
                    + " 'f=$1; shift; \"$@\" < \"$f\"; rc=$?; rm -f -- \"$f\"; exit $rc' sh \"$f\" \"$@\"",
                    "sh", file, user));
            argv.addAll(command.argv());
            return exec(docker, containerId, argv, "root", command, timeout, secs, t0);
        }
        argv.addAll(command.argv());
        return exec(docker, containerId, argv, user, command, timeout, secs, t0);
    }

    private CommandResult exec(DockerClient docker, String containerId, List<String> argv, String asUser, Command command,
                               Duration timeout, long secs, long t0) {
        ExecCreateCmd create = docker.execCreateCmd(containerId)
                .withCmd(argv.toArray(String[]::new))
                .withUser(asUser)
                .withAttachStdout(true)
                .withAttachStderr(true);
        if (!command.environment().isEmpty()) {
            List<String> env = new ArrayList<>();
            command.environment().forEach((k, v) -> env.add(k + "=" + v));
            create = create.withEnv(env);
        }
        if (command.workingDirectory().isPresent()) {
            create = create.withWorkingDir(command.workingDirectory().get());
        }
        String execId = create.exec().getId();
        Collector out = new Collector(command.outputListener());
        var start = docker.execStartCmd(execId);
        boolean finished;
        try (Collector c = start.exec(out)) {
            finished = c.awaitCompletion(secs + 15, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new CommandResult(130, out.stdout(), out.stderr() + "\ninterrupted", false,
                    Duration.ofNanos(System.nanoTime() - t0));
        } catch (java.io.IOException e) {
            finished = true; // closing the callback failed after completion; the exit code tells
        }
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        if (!finished) {
            return new CommandResult(-1, out.stdout(), out.stderr(), true, took);
        }
        Long exit = docker.inspectExecCmd(execId).exec().getExitCodeLong();
        int code = exit == null ? -1 : exit.intValue();
        boolean timedOut = (code == TIMEOUT_EXIT || code == KILLED_EXIT) && took.compareTo(timeout) >= 0;
        return new CommandResult(code, out.stdout(), out.stderr(), timedOut, took);
    }

    @Override
    public String describe() {
        return "container " + label + " (as " + user + ")";
    }

    @Override
    public String toString() {
        return "ContainerCommandRunner[" + describe() + "]";
    }

    /** Collects stdout and stderr and hands complete lines to the listener. */
    private static final class Collector extends ResultCallback.Adapter<Frame> {
        private final Command.OutputListener listener;
        private final ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        private final ByteArrayOutputStream stderr = new ByteArrayOutputStream();
        private final StringBuilder outLine = new StringBuilder();
        private final StringBuilder errLine = new StringBuilder();

        Collector(Command.OutputListener listener) {
            this.listener = listener;
        }

        @Override
        public synchronized void onNext(Frame frame) {
            boolean err = frame.getStreamType() == StreamType.STDERR;
            byte[] payload = frame.getPayload();
            (err ? stderr : stdout).write(payload, 0, payload.length);
            StringBuilder line = err ? errLine : outLine;
            for (char ch : new String(payload, StandardCharsets.UTF_8).toCharArray()) {
                if (ch == '\n' || ch == '\r') {
                    emit(err, line);
                } else {
                    line.append(ch);
                }
            }
        }

        private void emit(boolean err, StringBuilder line) {
            if (line.length() > 0 && listener != null) {
                try {
                    listener.onLine(err ? Command.Stream.STDERR : Command.Stream.STDOUT, line.toString());
                } catch (RuntimeException ignored) {
                    // a listener must not break the command
                }
            }
            line.setLength(0);
        }

        @Override
        public synchronized void onComplete() {
            emit(false, outLine);
            emit(true, errLine);
            super.onComplete();
        }

        synchronized String stdout() {
            return stdout.toString(StandardCharsets.UTF_8);
        }

        synchronized String stderr() {
            return stderr.toString(StandardCharsets.UTF_8);
        }
    }
}
