package io.repmgr4j.spi;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A program to run on a node's host: an argument vector (never a shell string), a
 * timeout, environment additions and an optional listener for output lines as they
 * come. Immutable apart from the listener it carries; thread-safe.
 */
public final class Command {
    /** The timeout a command gets when none is set. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(1);

    private final List<String> argv;
    private final Duration timeout;
    private final Map<String, String> environment;
    private final String workingDirectory;
    private final OutputListener outputListener;
    private final String stdin;

    private Command(List<String> argv, Duration timeout, Map<String, String> environment,
                    String workingDirectory, OutputListener outputListener, String stdin) {
        if (argv.isEmpty()) {
            throw new IllegalArgumentException("a command needs at least a program name");
        }
        for (String a : argv) {
            Objects.requireNonNull(a, "argument");
        }
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("a command's timeout must be positive");
        }
        this.argv = List.copyOf(argv);
        this.timeout = timeout;
        this.environment = Map.copyOf(environment);
        this.workingDirectory = workingDirectory;
        this.outputListener = outputListener;
        this.stdin = stdin;
    }

    /** A command from its program and arguments, with the default timeout. */
    public static Command of(String... argv) {
        return of(List.of(argv));
    }

    /** A command from its program and arguments, with the default timeout. */
    public static Command of(List<String> argv) {
        return new Command(argv, DEFAULT_TIMEOUT, Map.of(), null, OutputListener.NONE, null);
    }

    /** A copy with another timeout. */
    public Command withTimeout(Duration timeout) {
        return new Command(argv, timeout, environment, workingDirectory, outputListener, stdin);
    }

    /** A copy with one more environment variable. */
    public Command withEnv(String name, String value) {
        Map<String, String> env = new LinkedHashMap<>(environment);
        env.put(name, value);
        return new Command(argv, timeout, env, workingDirectory, outputListener, stdin);
    }

    /** A copy that runs in another working directory. */
    public Command withWorkingDirectory(String directory) {
        return new Command(argv, timeout, environment, directory, outputListener, stdin);
    }

    /** A copy whose output lines also go to {@code listener} as they arrive. */
    public Command withOutputListener(OutputListener listener) {
        return new Command(argv, timeout, environment, workingDirectory, Objects.requireNonNull(listener), stdin);
    }

    /** A copy that gets {@code text} (UTF-8) on its standard input; by default stdin is empty. */
    public Command withStdin(String text) {
        return new Command(argv, timeout, environment, workingDirectory, outputListener, Objects.requireNonNull(text));
    }

    /** What the command reads on standard input, if anything (may be secret: never logged). */
    public Optional<String> stdin() {
        return Optional.ofNullable(stdin);
    }

    public List<String> argv() {
        return argv;
    }

    public Duration timeout() {
        return timeout;
    }

    /** Variables added to the command's environment (values may be secret: never logged). */
    public Map<String, String> environment() {
        return environment;
    }

    public Optional<String> workingDirectory() {
        return Optional.ofNullable(workingDirectory);
    }

    public OutputListener outputListener() {
        return outputListener;
    }

    /** The argument vector joined by spaces, for messages; environment values are not shown. */
    @Override
    public String toString() {
        return String.join(" ", argv);
    }

    /**
     * Receives a long-running command's output line by line (pg_basebackup progress, say).
     * Return fast; never throw.
     */
    @FunctionalInterface
    public interface OutputListener {
        OutputListener NONE = (stream, line) -> { };

        void onLine(Stream stream, String line);
    }

    /** Which output stream a line came from. */
    public enum Stream { STDOUT, STDERR }
}
