package io.repmgr4j.spi;

import java.time.Duration;

/**
 * How a {@link Command} ended: exit code, captured output, whether it was stopped for
 * running past its timeout, and how long it ran. Immutable; thread-safe.
 */
public record CommandResult(int exitCode, String stdout, String stderr, boolean timedOut, Duration duration) {

    /** True when the command ran to its end with exit code 0. */
    public boolean succeeded() {
        return !timedOut && exitCode == 0;
    }

    /** The last non-empty line of stderr (else stdout): usually the error message. */
    public String lastErrorLine() {
        String text = stderr.isBlank() ? stdout : stderr;
        String[] lines = text.strip().split("\n");
        return lines.length == 0 ? "" : lines[lines.length - 1].strip();
    }
}
