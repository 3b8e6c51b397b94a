package io.repmgr4j.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A process a {@link NetNode} started inside its network namespace (for example a
 * standalone failover daemon), with its output in a log file. Thread-safe.
 */
public final class NetProcess {
    private static final Logger LOG = LoggerFactory.getLogger(NetProcess.class);

    private final String name;
    private final Process process;
    private final Path logFile;
    /** The log file's size when this process started: its own output begins there. */
    private final long offset;

    private NetProcess(String name, Process process, Path logFile, long offset) {
        this.name = name;
        this.process = process;
        this.logFile = logFile;
        this.offset = offset;
    }

    static NetProcess start(String name, List<String> argv, Map<String, String> env, Path logFile) {
        try {
            Files.createDirectories(logFile.toAbsolutePath().getParent());
            long offset = Workspace.size(logFile);
            ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            pb.environment().putAll(env);
            Process p = pb.start();
            LOG.info("started {} (pid {}), output in {}", name, p.pid(), logFile);
            return new NetProcess(name, p, logFile, offset);
        } catch (IOException e) {
            throw new PgTestkitException("cannot start " + name + " (" + argv.get(0) + "): " + e.getMessage(), e);
        }
    }

    /** The name, {@code node/process}. */
    public String name() {
        return name;
    }

    /** The process id (the program itself: {@code ip netns exec} replaces itself with it). */
    public long pid() {
        return process.pid();
    }

    /** Whether it still runs. */
    public boolean isAlive() {
        return process.isAlive();
    }

    /** The file its stdout and stderr go to. */
    public Path logFile() {
        return logFile;
    }

    /** The last {@code lines} lines of what this process wrote (not earlier processes' output in the same file). */
    public String output(int lines) {
        return Workspace.tailFrom(logFile, offset, lines);
    }

    /** The last {@code lines} lines of its log file. */
    public String logTail(int lines) {
        return Workspace.tail(logFile, lines);
    }

    /**
     * Stops it: SIGTERM, then after {@code grace} SIGKILL for it and everything it started.
     * Idempotent.
     */
    public void stop(Duration grace) {
        if (process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                    LOG.warn("{} did not stop within {} s of SIGTERM; killing it", name, grace.toSeconds());
                    kill9();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                kill9();
            }
        }
    }

    /** SIGKILLs it and everything it started, and waits (up to 10 s) until it is gone. */
    public void kill9() {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                throw new PgTestkitException(name + " (pid " + pid() + ") is still alive 10 s after SIGKILL");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Its exit code, once it ended. */
    public int exitValue() {
        return process.exitValue();
    }

    @Override
    public String toString() {
        return "NetProcess[" + name + ", pid " + process.pid() + "]";
    }
}
