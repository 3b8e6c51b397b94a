package io.repmgr4j.spi;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

/**
 * Drains one output stream of a running command on a daemon thread: keeps the whole
 * text (UTF-8) and hands every line to the command's {@link Command.OutputListener} as it
 * arrives, where a line ends at {@code '\n'} or {@code '\r'} (so progress lines that
 * pg_basebackup redraws with {@code '\r'} are delivered too). For {@link CommandRunner}
 * implementations. Thread-safe.
 */
public final class OutputPump {
    private final StringBuilder text = new StringBuilder();
    private final Thread thread;

    private OutputPump(InputStream in, Command.Stream stream, Command.OutputListener listener, String threadName) {
        this.thread = new Thread(() -> drain(in, stream, listener), threadName);
        this.thread.setDaemon(true);
    }

    /** Starts draining {@code in} until its end; lines go to {@code listener}. */
    public static OutputPump start(InputStream in, Command.Stream stream, Command.OutputListener listener,
                                   String threadName) {
        OutputPump p = new OutputPump(in, stream, listener, threadName);
        p.thread.start();
        return p;
    }

    private void drain(InputStream in, Command.Stream stream, Command.OutputListener listener) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            int c;
            StringBuilder line = new StringBuilder();
            // char by char, so that a line ending in '\r' is delivered at once
            while ((c = r.read()) != -1) {
                synchronized (text) {
                    text.append((char) c);
                }
                if (c == '\n' || c == '\r') {
                    deliver(listener, stream, line);
                } else {
                    line.append((char) c);
                }
            }
            deliver(listener, stream, line);
        } catch (IOException ignored) {
            // the stream was closed under us (the command was killed): keep what came
        }
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

    /** Waits up to {@code millis} for the end of the stream; true when it was reached. */
    public boolean await(long millis) throws InterruptedException {
        thread.join(Math.max(1, millis));
        return !thread.isAlive();
    }

    /** Waits up to {@code millis} for the end of the stream, keeping the thread's interrupt status. */
    public boolean awaitQuietly(long millis) {
        try {
            return await(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !thread.isAlive();
        }
    }

    /** True once the whole stream was read. */
    public boolean finished() {
        return !thread.isAlive();
    }

    /** The text read so far. */
    public String text() {
        synchronized (text) {
            return text.toString();
        }
    }
}
