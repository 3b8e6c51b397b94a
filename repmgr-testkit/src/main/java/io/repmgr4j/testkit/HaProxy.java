package io.repmgr4j.testkit;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real HAProxy in front of PostgreSQL servers, as tests and benchmarks start it: writes a
 * Patroni-style configuration (TCP mode, {@code option httpchk GET /primary},
 * {@code http-check expect status 200}, {@code inter 500ms fall 2 rise 1},
 * {@code on-marked-down shutdown-sessions}, one server per node checked on its daemon's
 * HTTP port) into a temporary directory, listens on a free loopback port, and runs
 * {@code haproxy -f <cfg> -db} as a child process until {@link #close()}. The program is
 * {@code $REPMGR4J_HAPROXY}, else {@code /usr/sbin/haproxy}, else {@code haproxy} on the
 * PATH (Debian package {@code haproxy}; {@code bin/prereqs} installs it).
 *
 * <pre>{@code
 * try (HaProxy lb = HaProxy.builder().server("pg1", pg1, 18008).server("pg2", pg2, 18009).start()) {
 *     connect to lb.host():lb.port() ...
 * }
 * }</pre>
 *
 * Thread-safe; {@link #close()} is idempotent and also runs when the JVM exits.
 */
public final class HaProxy implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(HaProxy.class);

    private final Path dir;
    private final Process process;
    private final int port;
    private final String config;
    private volatile boolean closed;

    private HaProxy(Path dir, Process process, int port, String config) {
        this.dir = dir;
        this.process = process;
        this.port = port;
        this.config = config;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A loopback port nothing listens on now (never 5432), not handed out before in this JVM: for a daemon's HTTP port, say. */
    public static int freePort() {
        return Workspace.allocatePort();
    }

    /** The address clients connect to: {@code 127.0.0.1}. */
    public String host() {
        return "127.0.0.1";
    }

    /** The port clients connect to. */
    public int port() {
        return port;
    }

    /** The configuration HAProxy runs with. */
    public String config() {
        return config;
    }

    /** HAProxy's own output so far (its log goes to stderr with {@code -db}). */
    public String log() {
        try {
            return Files.readString(dir.resolve("haproxy.log"), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    /** Stops HAProxy (SIGTERM, then SIGKILL after 5 s) and removes its directory. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        Workspace.unregister(this);
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        Workspace.releasePort(port);
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            LOG.debug("could not remove {}: {}", dir, e.toString());
        }
    }

    /** What the HAProxy will route to. Not thread-safe. */
    public static final class Builder {
        private record Server(String name, String host, int port, int checkPort) {
        }

        private final List<Server> servers = new ArrayList<>();
        private String checkPath = "/primary";
        private Duration inter = Duration.ofMillis(500);
        private int fall = 2;
        private int rise = 1;
        private Duration startTimeout = Duration.ofSeconds(15);
        private boolean failFast;

        private Builder() {
        }

        /** A backend server: the PostgreSQL server {@code pg}, checked over HTTP on {@code checkPort} (its daemon's endpoint). */
        public Builder server(String name, PgServer pg, int checkPort) {
            return server(name, pg.host(), pg.port(), checkPort);
        }

        /** A backend server at {@code host:port}, checked over HTTP at {@code host:checkPort}. */
        public Builder server(String name, String host, int port, int checkPort) {
            if (!name.matches("[A-Za-z0-9_.-]+")) {
                throw new PgTestkitException("HAProxy server name \"" + name + "\" must be letters, digits, '_', '.', '-'");
            }
            servers.add(new Server(name, Objects.requireNonNull(host, "host"), port, checkPort));
            return this;
        }

        /** The HTTP path checked (default {@code /primary}). */
        public Builder checkPath(String path) {
            if (!path.startsWith("/") || path.chars().anyMatch(Character::isWhitespace)) {
                throw new PgTestkitException("check path \"" + path + "\" must start with / and hold no blanks");
            }
            this.checkPath = path;
            return this;
        }

        /** Check interval, failed checks before down, passed checks before up (default 500 ms, 2, 1). */
        public Builder checks(Duration inter, int fall, int rise) {
            if (inter.toMillis() < 10 || fall < 1 || rise < 1) {
                throw new PgTestkitException("check settings inter " + inter.toMillis() + " ms, fall " + fall + ", rise " + rise
                        + " are invalid: inter ≥ 10 ms, fall and rise ≥ 1");
            }
            this.inter = inter;
            this.fall = fall;
            this.rise = rise;
            return this;
        }

        /**
         * Beyond Patroni's example: {@code option redispatch} and {@code retries 2} (a connection
         * refused by a server that is still marked up goes to another server at once, instead of
         * being retried on the same one after HAProxy's one-second turn-around), and
         * {@code observe layer4 error-limit 1 on-error mark-down} (one refused connection marks
         * the server down before its health checks fail twice). Default off.
         */
        public Builder failFast(boolean on) {
            this.failFast = on;
            return this;
        }

        /** The configuration text for a frontend on {@code port}. */
        String render(int port) {
            StringBuilder sb = new StringBuilder();
            sb.append("global\n    maxconn 256\n\n");
            sb.append("defaults\n    mode tcp\n    timeout connect 2s\n    timeout client 30m\n    timeout server 30m\n")
                    .append("    timeout check 1s\n\n");
            sb.append("listen primary\n    bind 127.0.0.1:").append(port).append('\n');
            sb.append("    option httpchk GET ").append(checkPath).append('\n');
            sb.append("    http-check expect status 200\n");
            if (failFast) {
                sb.append("    option redispatch\n    retries 2\n");
            }
            sb.append("    default-server inter ").append(inter.toMillis()).append("ms fall ").append(fall).append(" rise ")
                    .append(rise).append(" on-marked-down shutdown-sessions");
            if (failFast) {
                sb.append(" observe layer4 error-limit 1 on-error mark-down");
            }
            sb.append('\n');
            for (Server s : servers) {
                sb.append("    server ").append(s.name).append(' ').append(s.host).append(':').append(s.port)
                        .append(" maxconn 100 check port ").append(s.checkPort).append('\n');
            }
            return sb.toString();
        }

        /** Writes the configuration and starts HAProxy; returns once it accepts connections. */
        public HaProxy start() {
            if (servers.isEmpty()) {
                throw new PgTestkitException("an HAProxy needs at least one server");
            }
            String program = program();
            int port = Workspace.allocatePort();
            Path dir = null;
            Process p = null;
            try {
                dir = Files.createTempDirectory("repmgr4j-haproxy-");
                String cfg = render(port);
                Path file = dir.resolve("haproxy.cfg");
                Files.writeString(file, cfg, StandardCharsets.UTF_8);
                Path log = dir.resolve("haproxy.log");
                p = new ProcessBuilder(program, "-f", file.toString(), "-db").redirectErrorStream(true)
                        .redirectOutput(log.toFile()).start();
                HaProxy h = new HaProxy(dir, p, port, cfg);
                Workspace.register(h);
                long deadline = System.nanoTime() + startTimeout.toNanos();
                while (!listening(port)) {
                    if (!p.isAlive()) {
                        String out = h.log();
                        h.close();
                        throw new PgTestkitException("haproxy exited at start (status " + p.exitValue() + "): " + out);
                    }
                    if (System.nanoTime() > deadline) {
                        String out = h.log();
                        h.close();
                        throw new PgTestkitException("haproxy did not listen on 127.0.0.1:" + port + " within "
                                + startTimeout.toSeconds() + " s: " + out);
                    }
                    Thread.sleep(20);
                }
                LOG.info("haproxy on 127.0.0.1:{} in front of {}", port, servers.stream().map(Server::name).toList());
                return h;
            } catch (IOException e) {
                if (p != null) {
                    p.destroyForcibly();
                }
                Workspace.releasePort(port);
                throw new PgTestkitException("cannot start haproxy (" + program + "): " + e.getMessage(), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                if (p != null) {
                    p.destroyForcibly();
                }
                throw new PgTestkitException("interrupted while starting haproxy", e);
            }
        }

        private static boolean listening(int port) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return true;
            } catch (IOException e) {
                return false;
            }
        }

        private static String program() {
            String env = System.getenv("REPMGR4J_HAPROXY");
            if (env != null && !env.isBlank()) {
                return env;
            }
            if (Files.isExecutable(Path.of("/usr/sbin/haproxy"))) {
                return "/usr/sbin/haproxy";
            }
            for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
                if (!d.isEmpty() && Files.isExecutable(Path.of(d, "haproxy"))) {
                    return Path.of(d, "haproxy").toString();
                }
            }
            throw new PgTestkitException("haproxy not found ($REPMGR4J_HAPROXY, /usr/sbin/haproxy, PATH): install package"
                    + " haproxy (bin/prereqs does, as root)");
        }
    }
}
