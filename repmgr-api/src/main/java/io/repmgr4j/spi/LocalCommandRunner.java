package io.repmgr4j.spi;

import io.repmgr4j.ErrorCode;
import io.repmgr4j.ReplicationException;
import java.io.IOException;
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
        OutputPump out = OutputPump.start(process.getInputStream(), Command.Stream.STDOUT, command.outputListener(),
                "repmgr4j-cmd-stdout");
        OutputPump err = OutputPump.start(process.getErrorStream(), Command.Stream.STDERR, command.outputListener(),
                "repmgr4j-cmd-stderr");
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
        // a child that outlived the command may hold its output open: wait a little, not forever
        out.awaitQuietly(5_000);
        err.awaitQuietly(5_000);
        int exit = finished ? process.exitValue() : -1;
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        return new CommandResult(exit, out.text(), err.text(), !finished, took);
    }

    /**
     * SIGKILLs the process and everything it started. Descendants go first (once the
     * process is gone its children are re-parented and no longer found through it), in
     * rounds, so that a child forked while the previous round ran is caught too.
     */
    private static void killTree(Process process) {
        java.util.Set<Long> killed = new java.util.HashSet<>();
        for (int round = 0; round < 5; round++) {
            List<ProcessHandle> fresh = process.descendants().filter(h -> !killed.contains(h.pid())).toList();
            if (fresh.isEmpty()) {
                break;
            }
            for (ProcessHandle h : fresh) {
                h.destroyForcibly();
                killed.add(h.pid());
            }
        }
        process.destroyForcibly();
        try {
            process.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String describe() {
        return switchesTo().map(u -> "local (as " + u + ")").orElse("local");
    }
}
