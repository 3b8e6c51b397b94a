package io.repmgr4j.core.ssh;

import io.repmgr4j.spi.Command;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The command line the remote login shell gets for a {@link Command}, and the reading
 * of the process id it reports. The line is
 *
 * <pre>
 * echo repmgr4j-pid:$$ &gt;&amp;2; cd -- 'DIR' || exit 1; exec env 'NAME=value' 'prog' 'arg' ...
 * </pre>
 *
 * (without {@code cd} or {@code env} when the command has no working directory or
 * environment). sshd starts the login shell in a session of its own, so the pid it
 * echoes is also the process group of the program that replaces it with {@code exec} and
 * of everything that program starts; a timed-out command is killed by signalling that
 * group. Environment values travel inside the quoted command (never through the
 * server's AcceptEnv); they are never logged. Internal; stateless; thread-safe.
 */
final class RemoteCommand {
    static final String PID_MARKER = "repmgr4j-pid:";
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final Pattern MARKER_LINE = Pattern.compile(Pattern.quote(PID_MARKER) + "(\\d+)\\r?\\n");
    /** Longest stderr line read while looking for the pid marker before giving up the search. */
    private static final int MAX_PRE_MARKER_LINE = 8192;

    private RemoteCommand() {
    }

    /** The command line for the remote login shell (it may hold environment values: never log it). */
    static String build(Command command) {
        StringBuilder sb = new StringBuilder("echo ").append(PID_MARKER).append("$$ >&2; ");
        command.workingDirectory().ifPresent(d -> sb.append("cd -- ").append(ShellQuote.quote(d)).append(" || exit 1; "));
        sb.append("exec ");
        Map<String, String> env = new java.util.TreeMap<>(command.environment());
        if (!env.isEmpty()) {
            if (command.argv().get(0).contains("=")) {
                throw new IllegalArgumentException("a program name containing '=' cannot be run with environment"
                        + " variables over SSH (env would take it for a variable): " + command.argv().get(0));
            }
            sb.append("env ");
            env.forEach((k, v) -> {
                if (!ENV_NAME.matcher(k).matches()) {
                    throw new IllegalArgumentException("not an environment variable name: \"" + k + "\"");
                }
                sb.append(ShellQuote.quote(k + "=" + v)).append(' ');
            });
        }
        sb.append(ShellQuote.join(command.argv()));
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
