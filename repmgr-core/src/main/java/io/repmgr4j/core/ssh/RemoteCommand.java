package io.repmgr4j.core.ssh;

import io.repmgr4j.spi.Command;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the remote login shell gets for a {@link Command}: a command line, and bytes to
 * send on its standard input ahead of the command's own. The line is
 *
 * <pre>
 * echo repmgr4j-pid:$$ &gt;&amp;2; cd -- 'DIR' || exit 1;
 * IFS= read -r repmgr4j_v || exit 125; NAME=$(printf '%bx' "$repmgr4j_v"); NAME=${NAME%x}; export NAME;
 * exec 'prog' 'arg' ...
 * </pre>
 *
 * (without {@code cd} or the {@code read} lines when the command has no working directory
 * or environment). Environment values never appear on the command line, where any user
 * of the remote host could read them in the process table, nor in sshd's AcceptEnv: each
 * travels as one line of stdin, bytes outside printable ASCII (and the backslash) written
 * as {@code printf %b} octal escapes, and the shell reads exactly those lines (a shell's
 * {@code read} takes one byte at a time from a pipe) before the program replaces it and
 * reads the rest of stdin.
 *
 * <p>sshd starts the login shell in a session of its own, so the pid it echoes is also
 * the process group of the program that replaces it with {@code exec} and of everything
 * that program starts; a timed-out command is killed by signalling that group.
 * Internal; stateless; thread-safe.
 */
final class RemoteCommand {
    static final String PID_MARKER = "repmgr4j-pid:";
    private static final String READ_VAR = "repmgr4j_v";
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final Pattern MARKER_LINE = Pattern.compile(Pattern.quote(PID_MARKER) + "(\\d+)\\r?\\n");
    /** Longest stderr line read while looking for the pid marker before giving up the search. */
    private static final int MAX_PRE_MARKER_LINE = 8192;

    /** The command line (no secret in it) and what goes to stdin before the command's own input (secret). */
    record Remote(String commandLine, byte[] stdinPrefix) {
    }

    private RemoteCommand() {
    }

    /** What the remote login shell gets for {@code command}. */
    static Remote build(Command command) {
        StringBuilder sb = new StringBuilder("echo ").append(PID_MARKER).append("$$ >&2; ");
        command.workingDirectory().ifPresent(d -> sb.append("cd -- ").append(ShellQuote.quote(d)).append(" || exit 1; "));
        StringBuilder stdin = new StringBuilder();
        // sorted, so that the line is the same for the same command
        new TreeMap<>(command.environment()).forEach((name, value) -> {
            if (!ENV_NAME.matcher(name).matches() || name.equals(READ_VAR)) {
                throw new IllegalArgumentException("not an environment variable name this runner can set: \"" + name + "\"");
            }
            sb.append("IFS= read -r ").append(READ_VAR).append(" || exit 125; ")
                    .append(name).append("=$(printf '%bx' \"$").append(READ_VAR).append("\"); ")
                    .append(name).append("=${").append(name).append("%x}; export ").append(name).append("; ");
            stdin.append(escape(name, value)).append('\n');
        });
        if (!command.environment().isEmpty()) {
            sb.append("unset ").append(READ_VAR).append("; ");
        }
        sb.append("exec ").append(ShellQuote.join(command.argv()));
        return new Remote(sb.toString(), stdin.toString().getBytes(StandardCharsets.US_ASCII));
    }

    /**
     * A value as one line of printable ASCII that {@code printf %b} turns back into the
     * value's UTF-8 bytes: a backslash becomes {@code \\}, every byte outside 0x20..0x7e
     * becomes {@code \0ooo}.
     */
    static String escape(String name, String value) {
        StringBuilder sb = new StringBuilder();
        for (byte b : value.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if (c == 0) {
                throw new IllegalArgumentException("environment variable " + name + " cannot hold a NUL character");
            }
            if (c == '\\') {
                sb.append("\\\\");
            } else if (c >= 0x20 && c <= 0x7e) {
                sb.append((char) c);
            } else {
                sb.append("\\0").append(String.format("%03o", c));
            }
        }
        return sb.toString();
    }

    /** The command line that SIGKILLs the process group of {@code pid} (and {@code pid} itself). */
    static String kill(long pid) {
        return "kill -KILL -" + pid + " 2>/dev/null; kill -KILL " + pid + " 2>/dev/null; exit 0";
    }

    /**
     * A remote stderr with the pid marker line taken out: lines before it (a login
     * script's chatter) pass through, the marker sets {@code pid}, everything after
     * passes through untouched.
     */
    static final class PidFilter extends InputStream {
        private final InputStream in;
        private final AtomicLong pid;
        private boolean passthrough;
        private byte[] pending;
        private int pendingPos;

        PidFilter(InputStream in, AtomicLong pid) {
            this.in = in;
            this.pid = pid;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n <= 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            while (true) {
                if (pending != null && pendingPos < pending.length) {
                    int n = Math.min(len, pending.length - pendingPos);
                    System.arraycopy(pending, pendingPos, b, off, n);
                    pendingPos += n;
                    return n;
                }
                if (passthrough) {
                    return in.read(b, off, len);
                }
                ByteArrayOutputStream line = new ByteArrayOutputStream();
                int c;
                while ((c = in.read()) != -1) {
                    line.write(c);
                    if (c == '\n' || line.size() >= MAX_PRE_MARKER_LINE) {
                        break;
                    }
                }
                if (line.size() == 0) {
                    return -1;
                }
                Matcher m = MARKER_LINE.matcher(line.toString(StandardCharsets.UTF_8));
                if (m.matches()) {
                    pid.set(Long.parseLong(m.group(1)));
                    passthrough = true;
                    pending = null;
                    continue;
                }
                if (c == -1 || line.size() >= MAX_PRE_MARKER_LINE) {
                    passthrough = true; // no marker will come (or not in a form we read): stop looking
                }
                pending = line.toByteArray();
                pendingPos = 0;
            }
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }
}
