package io.repmgr4j.testkit;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real, throw-away etcd cluster on loopback for tests and benchmarks: {@code n} members
 * (default 3) of Debian's {@code etcd} program (package {@code etcd-server}, etcd 3.4;
 * {@code bin/prereqs} installs it; {@code $REPMGR4J_ETCD} names another program), each a
 * child process with its client and peer ports on free loopback ports and its data under
 * the test kit's root directory. etcd runs as the JVM's own user (it does not refuse root,
 * and its files need no other owner). Single members can be stopped, killed and started
 * again on the same data, to test what a member's or a quorum's loss does.
 *
 * <pre>{@code
 * try (EtcdCluster etcd = EtcdCluster.start(3)) {
 *     String endpoints = etcd.endpoints(); // http://127.0.0.1:p1,http://127.0.0.1:p2,...
 *     etcd.killMember(0);
 * }
 * }</pre>
 *
 * {@link #close()} kills every member and removes the directory; it also runs when the JVM
 * exits, and a later JVM's sweep kills members a killed JVM left behind. Thread-safe.
 */
public final class EtcdCluster implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EtcdCluster.class);
    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);
    static final String PID_SUFFIX = ".etcd.pid";

    private final Path dir;
    private final String token;
    private final List<Member> members;
    private final String program;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    private boolean closed;

    private static final class Member {
        final String name;
        final int clientPort;
        final int peerPort;
        Process process;

        Member(String name, int clientPort, int peerPort) {
            this.name = name;
            this.clientPort = clientPort;
            this.peerPort = peerPort;
        }

        String clientUrl() {
            return "http://127.0.0.1:" + clientPort;
        }

        String peerUrl() {
            return "http://127.0.0.1:" + peerPort;
        }
    }

    private EtcdCluster(Path dir, String token, List<Member> members, String program) {
        this.dir = dir;
        this.token = token;
        this.members = members;
        this.program = program;
    }

    /**
     * Starts a cluster of {@code size} members (1 to 7) and returns once every member
     * reports itself healthy (a leader is elected and a quorum answers).
     *
     * @throws PgTestkitException when etcd is not installed or a member does not start; the
     *                            message ends with the member's log
     */
    public static EtcdCluster start(int size) {
        if (size < 1 || size > 7) {
            throw new IllegalArgumentException("an etcd cluster for tests has 1 to 7 members, not " + size);
        }
        String program = program();
        String user = System.getProperty("user.name");
        Path dir = Workspace.createServerRoot("etcd", user, false);
        List<Member> members = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            members.add(new Member("e" + (i + 1), Workspace.allocatePort(), Workspace.allocatePort()));
        }
        String token = dir.getFileName().toString();
        EtcdCluster c = new EtcdCluster(dir, token, List.copyOf(members), program);
        Workspace.register(c);
        try {
            for (int i = 0; i < size; i++) {
                c.launch(i);
            }
            for (int i = 0; i < size; i++) {
                c.awaitHealthy(i, START_TIMEOUT);
            }
        } catch (RuntimeException e) {
            try {
                c.close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        LOG.info("etcd cluster of {} on {}", size, c.endpoints());
        return c;
    }

    /** Every member's client URL, comma-separated (the form {@code etcd_endpoints} takes). */
    public String endpoints() {
        return members.stream().map(Member::clientUrl).collect(Collectors.joining(","));
    }

    /** Member {@code i}'s client URL ({@code http://127.0.0.1:port}). */
    public String endpoint(int i) {
        return member(i).clientUrl();
    }

    public int size() {
        return members.size();
    }

    /** Whether member {@code i}'s process is alive. */
    public synchronized boolean isRunning(int i) {
        Process p = member(i).process;
        return p != null && p.isAlive();
    }

    /** Stops member {@code i} with SIGTERM (SIGKILL after 10 s) and waits until it is gone; nothing when stopped. */
    public synchronized void stopMember(int i) {
        end(member(i), false);
    }

    /** Kills member {@code i} with SIGKILL and waits until it is gone; nothing when stopped. */
    public synchronized void killMember(int i) {
        end(member(i), true);
    }

    /**
     * Starts member {@code i} again on its data directory. Returns once it is healthy when a
     * quorum of members then runs, else once it accepts client connections (without a quorum
     * no member reports healthy).
     */
    public synchronized void startMember(int i) {
        checkOpen();
        if (isRunning(i)) {
            return;
        }
        launch(i);
        long running = members.stream().filter(m -> m.process != null && m.process.isAlive()).count();
        if (running > members.size() / 2) {
            awaitHealthy(i, START_TIMEOUT);
        } else {
            awaitListening(i, START_TIMEOUT);
        }
    }

    /**
     * The index of the member that is etcd's Raft leader now, as the running members report
     * it ({@code /v3/maintenance/status}); empty when none of them knows a leader.
     */
    public synchronized java.util.OptionalInt leaderIndex() {
        for (Member m : members) {
            if (m.process == null || !m.process.isAlive()) {
                continue;
            }
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(m.clientUrl() + "/v3/maintenance/status"))
                        .timeout(Duration.ofSeconds(2)).POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
                        HttpResponse.BodyHandlers.ofString());
                String leader = field(r.body(), "leader");
                String self = field(r.body(), "member_id");
                if (leader == null || self == null || leader.equals("0")) {
                    continue;
                }
                if (leader.equals(self)) {
                    return java.util.OptionalInt.of(members.indexOf(m));
                }
                // ask the others which of them is that member
                for (Member o : members) {
                    if (o != m && o.process != null && o.process.isAlive()) {
                        HttpResponse<String> ro = http.send(HttpRequest.newBuilder(URI.create(o.clientUrl()
                                        + "/v3/maintenance/status")).timeout(Duration.ofSeconds(2))
                                .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
                        if (leader.equals(field(ro.body(), "member_id"))) {
                            return java.util.OptionalInt.of(members.indexOf(o));
                        }
                    }
                }
            } catch (IOException e) {
                // try the next member
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new PgTestkitException("interrupted while asking etcd for its leader", e);
            }
        }
        return java.util.OptionalInt.empty();
    }

    /**
     * Waits until the running members agree on a Raft leader (after a member was killed, say)
     * and returns its index.
     *
     * @throws PgTestkitException when there is none within {@code timeout} (no quorum runs)
     */
    public int awaitLeader(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            java.util.OptionalInt l = leaderIndex();
            if (l.isPresent()) {
                return l.getAsInt();
            }
            if (System.nanoTime() > deadline) {
                throw new PgTestkitException("the etcd members elected no leader within " + timeout.toSeconds() + " s");
            }
            Workspace.sleep(50);
        }
    }

    /**
     * A lower bound, on {@link System#nanoTime()}, of the moment the lease attached to
     * {@code key} can end, as etcd itself reports it ({@code /v3/lease/timetolive}, whole
     * seconds, rounded down). The remaining TTL is polled every 10 ms until it drops by one
     * second (up to 5 s): the last answer before the drop gives a bound within about 10 ms of
     * the lease's end at that moment (renewals later only move the end later). Empty when the
     * key does not exist or has no lease.
     */
    public java.util.OptionalLong leaseEndsNotBefore(String key) {
        Member m = members.stream().filter(x -> x.process != null && x.process.isAlive()).findFirst()
                .orElseThrow(() -> new PgTestkitException("no etcd member runs"));
        try {
            String k = java.util.Base64.getEncoder().encodeToString(key.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            String lease = field(post(m, "/v3/kv/range", "{\"key\":\"" + k + "\"}"), "lease");
            if (lease == null || lease.equals("0")) {
                return java.util.OptionalLong.empty();
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            long prevSent = -1;
            long prevTtl = -1;
            while (true) {
                long sent = System.nanoTime();
                String ttlText = field(post(m, "/v3/lease/timetolive", "{\"ID\":\"" + lease + "\"}"), "TTL");
                long ttl = ttlText == null ? -1 : Long.parseLong(ttlText);
                if (ttl < 0) {
                    return java.util.OptionalLong.empty();
                }
                if (prevTtl >= 0 && ttl == prevTtl - 1) {
                    return java.util.OptionalLong.of(prevSent + java.util.concurrent.TimeUnit.SECONDS.toNanos(prevTtl));
                }
                if (System.nanoTime() > deadline) {
                    return java.util.OptionalLong.of(sent + java.util.concurrent.TimeUnit.SECONDS.toNanos(ttl));
                }
                prevSent = sent;
                prevTtl = ttl;
                Workspace.sleep(10);
            }
        } catch (IOException e) {
            throw new PgTestkitException("etcd member " + m.name + " did not answer for the lease of " + key + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PgTestkitException("interrupted while asking etcd for a lease", e);
        }
    }

    /**
     * Turns etcd's authentication on: user {@code root} with {@code rootPassword} and role
     * {@code root} (all rights), then {@code auth enable}. From then on every client must log
     * in. The password goes in request bodies only.
     */
    public synchronized void enableAuth(String rootPassword) {
        Member m = members.stream().filter(x -> x.process != null && x.process.isAlive()).findFirst()
                .orElseThrow(() -> new PgTestkitException("no etcd member runs"));
        String pw = rootPassword.replace("\\", "\\\\").replace("\"", "\\\"");
        try {
            for (String[] call : new String[][] {
                    {"/v3/auth/role/add", "{\"name\":\"root\"}"},
                    {"/v3/auth/user/add", "{\"name\":\"root\",\"password\":\"" + pw + "\"}"},
                    {"/v3/auth/user/grant", "{\"user\":\"root\",\"role\":\"root\"}"},
                    {"/v3/auth/enable", "{}"}}) {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(m.clientUrl() + call[0]))
                        .timeout(Duration.ofSeconds(5)).POST(HttpRequest.BodyPublishers.ofString(call[1])).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() != 200) {
                    throw new PgTestkitException("etcd refused " + call[0] + ": status " + r.statusCode() + " " + r.body());
                }
            }
        } catch (IOException e) {
            throw new PgTestkitException("cannot enable etcd authentication: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PgTestkitException("interrupted while enabling etcd authentication", e);
        }
    }

    private String post(Member m, String path, String body) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(m.clientUrl() + path)).timeout(Duration.ofSeconds(2))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    private static String field(String json, String name) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"" + name + "\":\"?([0-9]+)").matcher(json);
        return m.find() ? m.group(1) : null;
    }

    /** The directory holding every member's data and log. */
    public Path directory() {
        return dir;
    }

    /** Member {@code i}'s process id. @throws PgTestkitException when it is not running */
    public synchronized long pid(int i) {
        Process p = member(i).process;
        if (p == null || !p.isAlive()) {
            throw new PgTestkitException("etcd member " + member(i).name + " is not running");
        }
        return p.pid();
    }

    /** Member {@code i}'s log so far. */
    public String log(int i) {
        return Workspace.tail(logFile(member(i)), 10_000);
    }

    /** Kills every member and removes the data. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        Workspace.unregister(this);
        RuntimeException failure = null;
        for (Member m : members) {
            try {
                end(m, true);
            } catch (RuntimeException e) {
                failure = failure == null ? e : failure;
            }
            Workspace.releasePort(m.clientPort);
            Workspace.releasePort(m.peerPort);
        }
        try {
            Workspace.deleteTree(dir);
        } catch (RuntimeException e) {
            failure = failure == null ? e : failure;
        }
        if (failure != null) {
            throw failure;
        }
        LOG.info("etcd cluster {} removed", dir.getFileName());
    }

    @Override
    public String toString() {
        return "EtcdCluster[" + endpoints() + ", " + dir + "]";
    }

    // ---------------------------------------------------------------- internals

    private Member member(int i) {
        if (i < 0 || i >= members.size()) {
            throw new IllegalArgumentException("no etcd member " + i + " (members 0 to " + (members.size() - 1) + ")");
        }
        return members.get(i);
    }

    private void checkOpen() {
        if (closed) {
            throw new PgTestkitException("etcd cluster " + dir.getFileName() + " is closed");
        }
    }

    private Path logFile(Member m) {
        return dir.resolve("log").resolve(m.name + ".log");
    }

    private synchronized void launch(int i) {
        Member m = member(i);
        String cluster = members.stream().map(x -> x.name + "=" + x.peerUrl()).collect(Collectors.joining(","));
        Path data = dir.resolve(m.name);
        List<String> argv = List.of(program,
                "--name", m.name,
                "--data-dir", data.toString(),
                "--listen-client-urls", m.clientUrl(),
                "--advertise-client-urls", m.clientUrl(),
                "--listen-peer-urls", m.peerUrl(),
                "--initial-advertise-peer-urls", m.peerUrl(),
                "--initial-cluster", cluster,
                "--initial-cluster-token", token,
                "--initial-cluster-state", "new",
                "--logger", "zap",
                "--log-outputs", "stderr");
        try {
            Process p = new ProcessBuilder(argv).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile(m).toFile())).start();
            m.process = p;
            Workspace.writeString(dir.resolve(m.name + PID_SUFFIX), p.pid() + "\n");
        } catch (IOException e) {
            throw new PgTestkitException("cannot start etcd member " + m.name + " (" + program + "): " + e.getMessage(), e);
        }
    }

    private void end(Member m, boolean kill) {
        Process p = m.process;
        if (p == null || !p.isAlive()) {
            return;
        }
        try {
            if (kill) {
                p.destroyForcibly();
            } else {
                p.destroy();
                if (!p.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                    LOG.warn("etcd member {} did not stop within {} s of SIGTERM: killing it", m.name, STOP_TIMEOUT.toSeconds());
                    p.destroyForcibly();
                }
            }
            if (!p.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new PgTestkitException("etcd member " + m.name + " (pid " + p.pid() + ") is still alive "
                        + STOP_TIMEOUT.toSeconds() + " s after SIGKILL");
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new PgTestkitException("interrupted while stopping etcd member " + m.name, e);
        }
        LOG.info("{} etcd member {}", kill ? "killed" : "stopped", m.name);
    }

    private void awaitHealthy(int i, Duration timeout) {
        Member m = member(i);
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "no answer";
        while (true) {
            if (!m.process.isAlive()) {
                throw new PgTestkitException("etcd member " + m.name + " exited at start (status " + m.process.exitValue()
                        + "); its log:\n" + Workspace.tail(logFile(m), 30));
            }
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(m.clientUrl() + "/health"))
                        .timeout(Duration.ofSeconds(1)).GET().build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200 && r.body().contains("\"health\":\"true\"")) {
                    return;
                }
                last = "status " + r.statusCode() + ": " + r.body();
            } catch (IOException e) {
                last = e.toString();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new PgTestkitException("interrupted while waiting for etcd member " + m.name, e);
            }
            if (System.nanoTime() > deadline) {
                throw new PgTestkitException("etcd member " + m.name + " not healthy within " + timeout.toSeconds()
                        + " s (last /health: " + last + "); its log:\n" + Workspace.tail(logFile(m), 30));
            }
            Workspace.sleep(50);
        }
    }

    private void awaitListening(int i, Duration timeout) {
        Member m = member(i);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", m.clientPort), 200);
                return;
            } catch (IOException e) {
                if (!m.process.isAlive() || System.nanoTime() > deadline) {
                    throw new PgTestkitException("etcd member " + m.name + " does not listen on " + m.clientUrl()
                            + " (" + (m.process.isAlive() ? "timeout" : "exited") + "); its log:\n"
                            + Workspace.tail(logFile(m), 30));
                }
                Workspace.sleep(50);
            }
        }
    }

    /** For the sweep: kills etcd members a dead JVM left running in {@code dir}; whether it killed any. */
    static boolean killLeftovers(Path dir) {
        boolean killed = false;
        try (var files = Files.list(dir)) {
            for (Path f : files.filter(f -> f.getFileName().toString().endsWith(PID_SUFFIX)).toList()) {
                Optional<Long> pid = Workspace.pidFromLockFile(f);
                if (pid.isPresent() && Workspace.isAlive(pid.get()) && Workspace.cmdline(pid.get()).contains(dir.toString())) {
                    ProcessHandle.of(pid.get()).ifPresent(ProcessHandle::destroyForcibly);
                    Workspace.waitUntilDead(pid.get(), Duration.ofSeconds(30), "etcd process " + pid.get());
                    killed = true;
                }
            }
        } catch (IOException e) {
            return killed;
        }
        return killed;
    }

    private static String program() {
        String env = System.getenv("REPMGR4J_ETCD");
        if (env != null && !env.isBlank()) {
            if (!Files.isExecutable(Path.of(env))) {
                throw new PgTestkitException("REPMGR4J_ETCD=" + env + " is not an executable etcd program");
            }
            return env;
        }
        if (Files.isExecutable(Path.of("/usr/bin/etcd"))) {
            return "/usr/bin/etcd";
        }
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, "etcd"))) {
                return Path.of(d, "etcd").toString();
            }
        }
        throw new PgTestkitException("etcd not found ($REPMGR4J_ETCD, /usr/bin/etcd, PATH): install package etcd-server"
                + " (Debian/Ubuntu: apt-get install -y etcd-server; bin/prereqs does, as root)");
    }
}
