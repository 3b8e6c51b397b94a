package io.repmgr4j.spi;

import io.repmgr4j.ErrorCode;
import io.repmgr4j.ReplicationException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Runs commands on this machine with {@link ProcessBuilder}. When the JVM runs as root
 * and an OS user is named, commands run as that user through {@code runuser} (PostgreSQL
 * refuses to run as root). A command past its timeout is killed with its whole process
 * tree. Thread-safe.
 */
public final class LocalCommandRunner implements CommandRunner {
    private static final boolean JVM_IS_ROOT = "root".equals(System.getProperty("user.name"));

    private final String osUser;

    private LocalCommandRunner(String osUser) {
        this.osUser = osUser;
    }

    /** Runs commands as the JVM's own user. */
    public static LocalCommandRunner asCurrentUser() {
        return new LocalCommandRunner(null);
    }

    /**
     * Runs commands as {@code osUser} when the JVM runs as root, else as the JVM's own
     * user (a non-root JVM cannot switch users, and needs not).
     */
    public static LocalCommandRunner asUser(String osUser) {
        return new LocalCommandRunner(osUser);
    }

    /** True when this JVM runs as root. */
    public static boolean jvmIsRoot() {
        return JVM_IS_ROOT;
    }

    /** The OS user commands run as, when it differs from the JVM's. */
    public Optional<String> switchesTo() {
        return JVM_IS_ROOT && osUser != null && !osUser.equals("root") ? Optional.of(osUser) : Optional.empty();
    }

    @Override
    public CommandResult run(Command command) {
        List<String> argv = new ArrayList<>();
        Optional<String> user = switchesTo();
        if (user.isPresent()) {
            argv.add("runuser");
            argv.add("-u");
            argv.add(user.get());
            argv.add("--");
            // runuser -u keeps the caller's environment (all but HOME, SHELL, USER and
            // LOGNAME), so added variables reach the command through the process
            // environment below; never through argv, where any user could read a
            // PGPASSWORD in the process list
        }
        argv.addAll(command.argv());
        ProcessBuilder pb = new ProcessBuilder(argv);
        pb.environment().putAll(command.environment());
        command.workingDirectory().ifPresent(d -> pb.directory(new java.io.File(d)));
        long start = System.nanoTime();
        Process process;
        try {
            process = pb.start();
        } catch (IOException e) {
            throw new ReplicationException(ErrorCode.LOCAL_COMMAND,
                    "could not start \"" + command.argv().get(0) + "\"", e.getMessage(),
                    "check that the program exists and is executable on this host", e);
        }
        StringBuilder out = new StringBuilder();
        StringBuilder err = new StringBuilder();
        Thread outPump = pump(process.getInputStream(), out, Command.Stream.STDOUT, command.outputListener());
        Thread errPump = pump(process.getErrorStream(), err, Command.Stream.STDERR, command.outputListener());
        try (java.io.OutputStream stdin = process.getOutputStream()) {
            if (command.stdin().isPresent()) {
                stdin.write(command.stdin().get().getBytes(StandardCharsets.UTF_8));
            }
        } catch (IOException ignored) {
            // the child may have exited or closed stdin already; its exit code tells
        }
        boolean finished;
        try {
            finished = process.waitFor(command.timeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            killTree(process);
            Thread.currentThread().interrupt();
            throw new ReplicationException(ErrorCode.LOCAL_COMMAND,
                    "interrupted while running \"" + command.argv().get(0) + "\"", null, null, e);
        }
        if (!finished) {
            killTree(process);
        }
        join(outPump);
        join(errPump);
        int exit = finished ? process.exitValue() : -1;
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        synchronized (out) {
            synchronized (err) {
                return new CommandResult(exit, out.toString(), err.toString(), !finished, took);
            }
        }
    }

    private static void killTree(Process process) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        try {
            process.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void join(Thread t) {
        try {
            t.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static Thread pump(InputStream in, StringBuilder sink, Command.Stream stream, Command.OutputListener listener) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                int c;
                StringBuilder line = new StringBuilder();
                // read char by char so that progress lines ending in '\r' are delivered too
                while ((c = r.read()) != -1) {
                    synchronized (sink) {
                        sink.append((char) c);
                    }
                    if (c == '\n' || c == '\r') {
                        deliver(listener, stream, line);
                    } else {
                        line.append((char) c);
                    }
                }
                deliver(listener, stream, line);
            } catch (IOException ignored) {
                // stream closed when the process was killed
            }
        }, "repmgr4j-cmd-" + stream.name().toLowerCase());
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static void deliver(Command.OutputListener listener, Command.Stream stream, StringBuilder line) {
        if (line.length() == 0) {
            return;
        }
        try {
            listener.onLine(stream, line.toString());
        } catch (RuntimeException ignored) {
            // listeners must not throw; one that does must not break the command
        }
        line.setLength(0);
    }

    @Override
    public String describe() {
        return switchesTo().map(u -> "local (as " + u + ")").orElse("local");
    }
}
