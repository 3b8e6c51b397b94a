package io.repmgr4j.testkit;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The shared place on disk where every throw-away server of this JVM lives, and the
 * JVM-wide bookkeeping around it: the stale-directory sweep (once per JVM), the shutdown
 * hook that closes what tests left open, loopback port allocation, and file and process
 * helpers. Internal; thread-safe.
 */
final class Workspace {
    private static final Logger LOG = LoggerFactory.getLogger(Workspace.class);

    /** System property or environment variable that moves the root directory. */
    static final String ROOT_PROPERTY = "REPMGR4J_PG_ROOT";
    static final String OWNER_FILE = "owner.pid";
    /** A directory without an owner file is only swept once it is this old (it may be being created). */
    private static final Duration ORPHAN_GRACE = Duration.ofSeconds(60);
    /** Longest Unix-domain socket path PostgreSQL accepts (sun_path is 108 bytes with the NUL). */
    private static final int MAX_SOCKET_PATH = 107;

    private static final Set<AutoCloseable> LIVE = ConcurrentHashMap.newKeySet();
    private static final Set<Integer> RESERVED_PORTS = ConcurrentHashMap.newKeySet();
    private static final Object INIT_LOCK = new Object();
    private static volatile Path initializedRoot;

    private Workspace() {
    }

    /** The root directory: {@code REPMGR4J_PG_ROOT}, else {@code ${java.io.tmpdir}/repmgr4j-pg}. */
    static Path root() {
        String configured = System.getProperty(ROOT_PROPERTY);
        if (configured == null || configured.isBlank()) {
            configured = System.getenv(ROOT_PROPERTY);
        }
        if (configured != null && !configured.isBlank()) {
            return Paths.get(configured).toAbsolutePath().normalize();
        }
        Path shared = Paths.get(System.getProperty("java.io.tmpdir"), "repmgr4j-pg").toAbsolutePath().normalize();
        if (Files.isDirectory(shared) && !Files.isWritable(shared)) {
            // made by another OS user (say a root JVM earlier on this machine): use our own
            return shared.resolveSibling("repmgr4j-pg-" + System.getProperty("user.name"));
        }
        return shared;
    }

    /**
     * Creates the root directory, sweeps directories left by dead JVMs and installs the
     * shutdown hook; the first call in a JVM does the work, later calls return at once.
     */
    static Path ensureInitialized() {
        Path root = root();
        if (root.equals(initializedRoot)) {
            return root;
        }
        synchronized (INIT_LOCK) {
            if (root.equals(initializedRoot)) {
                return root;
            }
            try {
                Files.createDirectories(root);
                if (isOwnedByJvmUser(root)) {
                    // 0755: the OS user the servers run as must traverse it
                    Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
                }
            } catch (IOException e) {
                throw new PgTestkitException("cannot create the test kit's root directory " + root + ": " + e.getMessage()
                        + " (set " + ROOT_PROPERTY + " to a writable directory)", e);
            }
            if (!Files.isWritable(root)) {
                throw new PgTestkitException("the test kit's root directory " + root + " is not writable by "
                        + System.getProperty("user.name") + " (set " + ROOT_PROPERTY + " to a writable directory)");
            }
            boolean first = initializedRoot == null;
            initializedRoot = root;
            if (first) {
                Thread hook = new Thread(Workspace::closeAllLive, "repmgr4j-testkit-shutdown");
                Runtime.getRuntime().addShutdownHook(hook);
            }
            int swept = sweep();
            if (swept > 0) {
                LOG.info("removed {} stale server director{} left under {} by JVMs that are gone",
                        swept, swept == 1 ? "y" : "ies", root);
            }
            return root;
        }
    }

    private static boolean isOwnedByJvmUser(Path p) throws IOException {
        return Files.getOwner(p).getName().equals(System.getProperty("user.name"));
    }

    /**
     * Checks that {@code osUser} can reach {@code dir} (every ancestor searchable by
     * others or owned by that user), so a server running as that user can use it.
     */
    static void checkTraversable(Path dir, String osUser) {
        for (Path p = dir.getParent(); p != null; p = p.getParent()) {
            try {
                Set<PosixFilePermission> perms = Files.getPosixFilePermissions(p);
                if (!perms.contains(PosixFilePermission.OTHERS_EXECUTE)
                        && !Files.getOwner(p).getName().equals(osUser)) {
                    throw new PgTestkitException("OS user " + osUser + " cannot reach " + dir + ": directory " + p
                            + " is not searchable by others (mode " + PosixFilePermissions.toString(perms) + ")."
                            + " Set " + ROOT_PROPERTY + " (or -Djava.io.tmpdir) to a directory such as /tmp");
                }
            } catch (IOException | UnsupportedOperationException e) {
                return; // cannot tell: let the server's own error speak later
            }
        }
    }

    /** Remembers something that must be closed at the latest when the JVM exits. */
    static void register(AutoCloseable resource) {
        LIVE.add(resource);
    }

    static void unregister(AutoCloseable resource) {
        LIVE.remove(resource);
    }

    private static void closeAllLive() {
        List<AutoCloseable> all = new ArrayList<>(LIVE);
        if (!all.isEmpty()) {
            LOG.info("JVM exit: closing {} test server(s) still open", all.size());
        }
        for (AutoCloseable c : all) {
            try {
                c.close();
            } catch (Exception e) {
                LOG.warn("JVM exit: could not close {}: {}", c, e.getMessage());
            }
        }
    }

    // ---------------------------------------------------------------- ports

    /** A loopback port nothing listens on right now, never 5432, not held by another server of this JVM. */
    static int allocatePort() {
        for (int i = 0; i < 100; i++) {
            int port;
            try (ServerSocket s = new ServerSocket()) {
                s.setReuseAddress(false);
                s.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0));
                port = s.getLocalPort();
            } catch (IOException e) {
                throw new PgTestkitException("cannot find a free port on 127.0.0.1: " + e.getMessage(), e);
            }
            if (port != 5432 && RESERVED_PORTS.add(port)) {
                return port;
            }
        }
        throw new PgTestkitException("cannot find a free port on 127.0.0.1 after 100 tries");
    }

    static void releasePort(int port) {
        RESERVED_PORTS.remove(port);
    }

    // ---------------------------------------------------------------- directories

    /**
     * Creates {@code <root>/<name>-<random>/} (mode 0755) with {@code sock/} (0700) and
     * {@code log/} (0755), all owned by {@code osUser} when the JVM is root, and writes
     * {@code owner.pid}. {@code data/} is not created.
     */
    static Path createServerRoot(String name, String osUser, boolean switchUser) {
        Path root = ensureInitialized();
        if (switchUser) {
            checkTraversable(root.resolve("x"), osUser);
        }
        Path dir = null;
        for (int i = 0; i < 20 && dir == null; i++) {
            String suffix = Long.toHexString(Double.doubleToLongBits(Math.random()) ^ System.nanoTime());
            suffix = suffix.substring(Math.max(0, suffix.length() - 8));
            Path candidate = root.resolve(name + "-" + suffix);
            try {
                Files.createDirectory(candidate);
                dir = candidate;
            } catch (java.nio.file.FileAlreadyExistsException e) {
                // try another suffix
            } catch (IOException e) {
                throw new PgTestkitException("cannot create " + candidate + ": " + e.getMessage(), e);
            }
        }
        if (dir == null) {
            throw new PgTestkitException("cannot create a unique directory for " + name + " under " + root);
        }
        try {
            writeString(dir.resolve(OWNER_FILE), ProcessHandle.current().pid() + "\n");
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            Path sock = Files.createDirectory(dir.resolve("sock"));
            Files.setPosixFilePermissions(sock, PosixFilePermissions.fromString("rwx------"));
            Path log = Files.createDirectory(dir.resolve("log"));
            Files.setPosixFilePermissions(log, PosixFilePermissions.fromString("rwxr-xr-x"));
            if (switchUser) {
                chown(dir, osUser);
                chown(sock, osUser);
                chown(log, osUser);
            }
            String socketPath = sock.resolve(".s.PGSQL.65535").toString();
            if (socketPath.getBytes(StandardCharsets.UTF_8).length > MAX_SOCKET_PATH) {
                throw new PgTestkitException("the socket path " + socketPath + " is longer than the "
                        + MAX_SOCKET_PATH + " bytes a Unix socket allows; set " + ROOT_PROPERTY
                        + " to a shorter directory (for example /tmp/repmgr4j-pg) or use a shorter server name");
            }
            return dir;
        } catch (IOException | RuntimeException e) {
            try {
                deleteTree(dir);
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            if (e instanceof PgTestkitException) {
                throw (PgTestkitException) e;
            }
            throw new PgTestkitException("cannot prepare " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Changes the owner of one file or directory (not recursive). */
    static void chown(Path path, String osUser) {
        try {
            UserPrincipal user = path.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(osUser);
            Files.setOwner(path, user);
        } catch (IOException e) {
            throw new PgTestkitException("cannot give " + path + " to OS user " + osUser + ": " + e.getMessage(), e);
        }
    }

    /** Changes the owner of a tree, when the top does not belong to {@code osUser} already. */
    static void chownTree(Path top, String osUser) {
        try {
            if (Files.getOwner(top, LinkOption.NOFOLLOW_LINKS).getName().equals(osUser)) {
                return;
            }
            UserPrincipal user = top.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(osUser);
            Files.walkFileTree(top, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                    Files.setOwner(dir, user);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    if (!attrs.isSymbolicLink()) {
                        Files.setOwner(file, user);
                    }
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new PgTestkitException("cannot give " + top + " to OS user " + osUser + ": " + e.getMessage(), e);
        }
    }

    /** Deletes a directory tree; a tree that is already gone is fine. */
    static void deleteTree(Path top) {
        if (top == null || !Files.exists(top, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        IOException[] last = new IOException[1];
        try {
            Files.walkFileTree(top, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    delete(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException exc) {
                    if (!(exc instanceof NoSuchFileException)) {
                        last[0] = exc;
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path dir, IOException exc) {
                    delete(dir);
                    return FileVisitResult.CONTINUE;
                }

                private void delete(Path p) {
                    try {
                        Files.deleteIfExists(p);
                    } catch (IOException e) {
                        last[0] = e;
                    }
                }
            });
        } catch (NoSuchFileException e) {
            return;
        } catch (IOException e) {
            last[0] = e;
        }
        if (Files.exists(top, LinkOption.NOFOLLOW_LINKS)) {
            throw new PgTestkitException("cannot delete " + top
                    + (last[0] == null ? "" : ": " + last[0]), last[0]);
        }
    }

    static void writeString(Path file, String text) throws IOException {
        Files.writeString(file, text, StandardCharsets.UTF_8);
    }

    /** The last {@code lines} lines of a text file, or a note saying why there are none. */
    static String tail(Path file, int lines) {
        return tailFrom(file, 0, lines);
    }

    /** The last {@code lines} lines of a text file from byte {@code offset} on. */
    static String tailFrom(Path file, long offset, int lines) {
        try {
            byte[] all = Files.readAllBytes(file);
            int from = (int) Math.min(Math.max(offset, 0), all.length);
            String text = new String(all, from, all.length - from, StandardCharsets.UTF_8);
            String[] split = text.split("\n");
            int start = Math.max(0, split.length - lines);
            StringBuilder sb = new StringBuilder();
            for (int i = start; i < split.length; i++) {
                sb.append(split[i]).append('\n');
            }
            return sb.toString();
        } catch (NoSuchFileException e) {
            return "(no log file " + file + ")\n";
        } catch (IOException e) {
            return "(cannot read " + file + ": " + e.getMessage() + ")\n";
        }
    }

    static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            return 0;
        }
    }

    // ---------------------------------------------------------------- processes

    /** Whether a process exists and is not a zombie (a dead process nobody reaped yet). */
    enum ProcState { ALIVE, ZOMBIE, GONE }

    static ProcState procState(long pid) {
        Path stat = Paths.get("/proc", Long.toString(pid), "stat");
        if (Files.isDirectory(Paths.get("/proc/self"))) {
            try {
                String s = Files.readString(stat, StandardCharsets.UTF_8);
                int close = s.lastIndexOf(')');
                char state = close >= 0 && close + 2 < s.length() ? s.charAt(close + 2) : '?';
                return state == 'Z' || state == 'X' ? ProcState.ZOMBIE : ProcState.ALIVE;
            } catch (IOException e) {
                return ProcState.GONE;
            }
        }
        return ProcessHandle.of(pid).map(h -> h.isAlive() ? ProcState.ALIVE : ProcState.GONE).orElse(ProcState.GONE);
    }

    static boolean isAlive(long pid) {
        return procState(pid) == ProcState.ALIVE;
    }

    /** The process's command line with NULs turned into spaces, or empty when unreadable. */
    static String cmdline(long pid) {
        try {
            byte[] b = Files.readAllBytes(Paths.get("/proc", Long.toString(pid), "cmdline"));
            return new String(b, StandardCharsets.UTF_8).replace('\0', ' ').trim();
        } catch (IOException e) {
            return ProcessHandle.of(pid).flatMap(h -> h.info().commandLine()).orElse("");
        }
    }

    /** The pid on the first line of {@code data/postmaster.pid}, if the file exists and holds one. */
    static Optional<Long> postmasterPidFromFile(Path dataDirectory) {
        return pidFromLockFile(dataDirectory.resolve("postmaster.pid"));
    }

    /** The pid on the first line of a PostgreSQL lock file (postmaster.pid, .s.PGSQL.N.lock). */
    static Optional<Long> pidFromLockFile(Path lockFile) {
        try {
            List<String> lines = Files.readAllLines(lockFile, StandardCharsets.UTF_8);
            if (lines.isEmpty()) {
                return Optional.empty();
            }
            return Optional.of(Long.parseLong(lines.get(0).trim()));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /**
     * True when {@code pid} is a live postgres process that serves {@code dataDirectory}:
     * its command line names postgres and either its working directory (a postmaster
     * changes into its data directory) or its command line names that directory. This
     * guards against killing an unrelated process that got a recycled pid.
     */
    static boolean isPostmasterOf(long pid, Path dataDirectory) {
        if (!isAlive(pid)) {
            return false;
        }
        String cmd = cmdline(pid);
        if (!cmd.contains("postgres")) {
            return false;
        }
        Path data = dataDirectory.toAbsolutePath().normalize();
        try {
            Path cwd = Files.readSymbolicLink(Paths.get("/proc", Long.toString(pid), "cwd"));
            if (cwd.equals(data) || cwd.equals(data.toRealPath())) {
                return true;
            }
        } catch (IOException | UnsupportedOperationException e) {
            // fall back to the command line
        }
        return cmd.contains(data.toString());
    }

    /**
     * SIGKILLs the postmaster serving {@code dataDirectory}, if one runs, and waits until
     * it and the children it had are gone (or zombies nobody reaps). Returns whether a
     * process was killed.
     */
    static boolean killPostmaster(Path dataDirectory, Duration timeout) {
        Optional<Long> pid = postmasterPidFromFile(dataDirectory);
        if (pid.isEmpty() || !isPostmasterOf(pid.get(), dataDirectory)) {
            return false;
        }
        killAndWait(pid.get(), timeout);
        return true;
    }

    /** SIGKILLs a process, waits for it, then for its former children (SIGKILLing stragglers). */
    static void killAndWait(long pid, Duration timeout) {
        Optional<ProcessHandle> handle = ProcessHandle.of(pid);
        if (handle.isEmpty()) {
            return;
        }
        List<ProcessHandle> children = new ArrayList<>();
        handle.get().children().forEach(children::add);
        handle.get().destroyForcibly();
        waitUntilDead(pid, timeout, "postmaster " + pid);
        // Without their postmaster the children exit by themselves within moments.
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        for (ProcessHandle child : children) {
            while (isAlive(child.pid()) && System.nanoTime() < deadline) {
                sleep(20);
            }
            if (isAlive(child.pid())) {
                child.destroyForcibly();
                waitUntilDead(child.pid(), Duration.ofSeconds(10), "server process " + child.pid());
            }
        }
    }

    static void waitUntilDead(long pid, Duration timeout, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (isAlive(pid)) {
            if (System.nanoTime() > deadline) {
                throw new PgTestkitException(what + " is still alive " + timeout.toSeconds() + " s after SIGKILL");
            }
            sleep(20);
        }
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PgTestkitException("interrupted while waiting", e);
        }
    }

    // ---------------------------------------------------------------- sweep

    /**
     * Removes every server directory under the root whose owner JVM is gone, after
     * SIGKILLing a postmaster or a test sshd still running there. Returns how many directories went.
     */
    static int sweep() {
        Path root = root();
        if (!Files.isDirectory(root)) {
            return 0;
        }
        int removed = 0;
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(root)) {
            for (Path dir : dirs) {
                if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS) || !isStale(dir)) {
                    continue;
                }
                try {
                    if (killPostmaster(dir.resolve("data"), Duration.ofSeconds(30))) {
                        LOG.info("killed a postmaster left running in {}", dir);
                    }
                    if (SshServer.killDaemon(dir)) {
                        LOG.info("killed an sshd left running in {}", dir);
                    }
                    if (EtcdCluster.killLeftovers(dir)) {
                        LOG.info("killed etcd members left running in {}", dir);
                    }
                    deleteTree(dir);
                    removed++;
                } catch (RuntimeException e) {
                    LOG.warn("could not remove stale test server directory {}: {}", dir, e.getMessage());
                }
            }
        } catch (IOException e) {
            LOG.warn("could not sweep {}: {}", root, e.getMessage());
        }
        return removed;
    }

    /**
     * A directory is stale when the JVM named in its owner file is gone (or its pid was
     * recycled), or when it has no owner file, is over a minute old and no server runs in it.
     */
    static boolean isStale(Path dir) {
        Path owner = dir.resolve(OWNER_FILE);
        long pid;
        Instant written;
        try {
            pid = Long.parseLong(Files.readString(owner, StandardCharsets.UTF_8).trim().split("\\s+")[0]);
            written = Files.getLastModifiedTime(owner).toInstant();
        } catch (IOException | NumberFormatException e) {
            // Ours write the owner file first thing, so a directory without one is a half-made
            // leftover, or not ours: take it only when it is old and no postmaster runs in it.
            try {
                Instant made = Files.getLastModifiedTime(dir).toInstant();
                Path data = dir.resolve("data");
                boolean serverInside = postmasterPidFromFile(data).map(p -> isPostmasterOf(p, data)).orElse(false);
                return made.plus(ORPHAN_GRACE).isBefore(Instant.now()) && !serverInside;
            } catch (IOException gone) {
                return false;
            }
        }
        if (pid == ProcessHandle.current().pid()) {
            return false;
        }
        if (procState(pid) != ProcState.ALIVE) {
            return true;
        }
        // The pid lives, but a process started after the owner file was written cannot own it.
        Optional<Instant> started = ProcessHandle.of(pid).flatMap(h -> h.info().startInstant());
        return started.isPresent() && started.get().isAfter(written.plusSeconds(2));
    }
}
