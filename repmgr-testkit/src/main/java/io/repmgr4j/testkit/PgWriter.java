package io.repmgr4j.testkit;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client that keeps writing to whichever server of a replica set is primary, the way an
 * application with a pgjdbc multi-host URL ({@code targetServerType=primary}) does, and
 * remembers every commit the server acknowledged: to measure write gaps during a
 * switchover or failover and to count acknowledged commits that went missing.
 *
 * <p>Each commit inserts one row with a sequence number into table
 * {@code repmgr4j_writes} (created by {@link #start}); after a failure the writer
 * reconnects and goes on with the next number.
 *
 * <pre>{@code
 * try (PgWriter w = PgWriter.start(set.servers(), Duration.ofMillis(10))) {
 *     ... switch over ...
 *     w.stop();
 *     assert w.missingOn(newPrimary) == 0;
 * }
 * }</pre>
 *
 * Thread-safe.
 */
public final class PgWriter implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PgWriter.class);
    private static final String TABLE = "repmgr4j_writes";

    private final String url;
    private final Properties props;
    private final Duration interval;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<long[]> commits = new ArrayList<>(); // {id, nanoTime, index in servers}
    /** "host:port" of every server that acknowledged a commit, indexed by the commits' third field. */
    private final List<String> servers = new ArrayList<>();
    private final Thread thread;
    private volatile int failures;
    private volatile long firstId = 1;
    private final java.util.concurrent.atomic.AtomicInteger readOnlyRejections = new java.util.concurrent.atomic.AtomicInteger();
    private final Object gate = new Object();
    private boolean paused;
    private boolean inFlight;

    private PgWriter(String url, Properties props, Duration interval) {
        this.url = url;
        this.props = props;
        this.interval = interval;
        this.thread = new Thread(this::loop, "pg-writer");
        this.thread.setDaemon(true);
    }

    /**
     * Creates the table on the current primary and starts writing every {@code interval}
     * through a multi-host URL naming all {@code servers}.
     */
    public static PgWriter start(List<PgServer> servers, Duration interval) {
        String hosts = servers.stream().map(s -> s.host() + ":" + s.port()).collect(Collectors.joining(","));
        String url = "jdbc:postgresql://" + hosts + "/" + Place.DATABASE
                + "?targetServerType=primary&hostRecheckSeconds=1&connectTimeout=2&loginTimeout=5&socketTimeout=10"
                + "&ApplicationName=repmgr4j-writer";
        Properties props = new Properties();
        props.setProperty("user", Place.ROLE);
        String password = servers.get(0).place().password;
        if (password != null) {
            props.setProperty("password", password);
        }
        PgWriter w = new PgWriter(url, props, interval);
        try (Connection c = DriverManager.getConnection(url, props); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS " + TABLE + " (id bigint PRIMARY KEY,"
                    + " at timestamptz NOT NULL DEFAULT clock_timestamp())");
        } catch (SQLException e) {
            throw new PgTestkitException("cannot create " + TABLE + " on the primary: " + e.getMessage(), e);
        }
        w.thread.start();
        return w;
    }

    /**
     * Like {@link #start(List, Duration)}, but writes through one address, such as a load
     * balancer's or a virtual IP's, as a non-Java application would: {@code host:port}, with
     * the user and password of {@code server}'s place.
     */
    public static PgWriter startVia(String host, int port, PgServer server, Duration interval) {
        return startVia(host, port, server, interval, 1);
    }

    /**
     * {@link #startVia(String, int, PgServer, Duration)} numbering its rows from
     * {@code firstId}: two writers sharing the table, each with its own range.
     */
    public static PgWriter startVia(String host, int port, PgServer server, Duration interval, long firstId) {
        String url = "jdbc:postgresql://" + host + ":" + port + "/" + Place.DATABASE
                + "?connectTimeout=2&loginTimeout=5&socketTimeout=10&ApplicationName=repmgr4j-writer";
        Properties props = new Properties();
        props.setProperty("user", Place.ROLE);
        String password = server.place().password;
        if (password != null) {
            props.setProperty("password", password);
        }
        PgWriter w = new PgWriter(url, props, interval);
        try (Connection c = DriverManager.getConnection(url, props); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS " + TABLE + " (id bigint PRIMARY KEY,"
                    + " at timestamptz NOT NULL DEFAULT clock_timestamp())");
        } catch (SQLException e) {
            throw new PgTestkitException("cannot create " + TABLE + " through " + host + ":" + port + ": " + e.getMessage(), e);
        }
        w.firstId = firstId;
        w.thread.start();
        return w;
    }

    /** Writes refused because the server was read-only (SQLSTATE 25006: it was in recovery): writes that reached a standby. */
    public int readOnlyRejections() {
        return readOnlyRejections.get();
    }

    private void loop() {
        long next = firstId;
        Connection c = null;
        try {
            int server = -1;
            while (running.get()) {
                synchronized (gate) {
                    while (paused && running.get()) {
                        gate.wait(100);
                    }
                    inFlight = true;
                }
                long started = System.nanoTime();
                try {
                    if (c == null) {
                        c = DriverManager.getConnection(url, props);
                        server = serverOf(c);
                    }
                    try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + TABLE + " (id) VALUES (?)")) {
                        ps.setLong(1, next);
                        ps.executeUpdate();
                    }
                    synchronized (commits) {
                        commits.add(new long[] {next, System.nanoTime(), server});
                    }
                    next++;
                } catch (SQLException e) {
                    failures++;
                    if ("25006".equals(e.getSQLState())) {
                        readOnlyRejections.incrementAndGet();
                    }
                    LOG.debug("writer: {}", e.getMessage());
                    close(c);
                    c = null;
                    // an insert that failed may still have committed: never reuse its number
                    next++;
                } finally {
                    synchronized (gate) {
                        inFlight = false;
                        gate.notifyAll();
                    }
                }
                long sleep = interval.toNanos() - (System.nanoTime() - started);
                if (sleep > 0) {
                    Thread.sleep(sleep / 1_000_000, (int) (sleep % 1_000_000));
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            close(c);
        }
    }

    /** The index in {@link #servers} of the server {@code c} is connected to ({@code inet_server_addr():port}). */
    private int serverOf(Connection c) throws SQLException {
        String label;
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT host(inet_server_addr()) || ':' || inet_server_port()")) {
            rs.next();
            label = rs.getString(1);
        }
        synchronized (commits) {
            int i = servers.indexOf(label);
            if (i < 0) {
                servers.add(label);
                i = servers.size() - 1;
            }
            return i;
        }
    }

    /**
     * Stops writing after the commit in flight (waits up to 30 s for it) until
     * {@link #resume()}: for example to let standbys catch up before a cut, so that every
     * commit acknowledged before the cut is known to be replicated.
     */
    public void pause() {
        synchronized (gate) {
            paused = true;
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (inFlight) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new PgTestkitException("the writer's commit in flight did not end within 30 s");
                }
                try {
                    gate.wait(Math.max(1, left / 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new PgTestkitException("interrupted");
                }
            }
        }
    }

    /** Goes on writing after {@link #pause()}. */
    public void resume() {
        synchronized (gate) {
            paused = false;
            gate.notifyAll();
        }
    }

    /** One acknowledged commit: its row id, when the acknowledgement arrived ({@link System#nanoTime()}), and the server ({@code host:port}) that gave it. */
    public record Commit(long id, long ackNanos, String server) {
    }

    /** Every acknowledged commit so far, in order. */
    public List<Commit> commits() {
        synchronized (commits) {
            List<Commit> out = new ArrayList<>(commits.size());
            for (long[] c : commits) {
                out.add(new Commit(c[0], c[1], servers.get((int) c[2])));
            }
            return out;
        }
    }

    /** {@code host:port} of a server as {@link Commit#server()} names it. */
    public static String label(PgInstance server) {
        return server.host() + ":" + server.port();
    }

    /** How many commits {@code server} acknowledged after {@code afterNanos} ({@link System#nanoTime()}). */
    public int acknowledgedBy(PgInstance server, long afterNanos) {
        String label = label(server);
        return (int) commits().stream().filter(c -> c.server().equals(label) && c.ackNanos() > afterNanos).count();
    }

    private static void close(Connection c) {
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // the server may be gone
            }
        }
    }

    /** Stops writing (waits for the commit in flight). Idempotent. */
    public void stop() {
        running.set(false);
        synchronized (gate) {
            gate.notifyAll();
        }
        try {
            thread.join(30_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** How many commits the servers acknowledged so far. */
    public int acknowledged() {
        synchronized (commits) {
            return commits.size();
        }
    }

    /** How many writes failed (and were retried on a new connection). */
    public int failures() {
        return failures;
    }

    /** {@link System#nanoTime()} of the latest acknowledged commit; 0 before any. */
    public long lastCommitNanos() {
        synchronized (commits) {
            return commits.isEmpty() ? 0 : commits.get(commits.size() - 1)[1];
        }
    }

    /**
     * {@link System#nanoTime()} of the first acknowledged commit after {@code fromNanos}
     * (for example a crash: the end of the outage); empty when there is none yet.
     */
    public java.util.OptionalLong firstCommitAfter(long fromNanos) {
        synchronized (commits) {
            for (int i = commits.size() - 1; i >= 0; i--) {
                if (commits.get(i)[1] <= fromNanos) {
                    return i + 1 < commits.size() ? java.util.OptionalLong.of(commits.get(i + 1)[1])
                            : java.util.OptionalLong.empty();
                }
            }
            return commits.isEmpty() ? java.util.OptionalLong.empty() : java.util.OptionalLong.of(commits.get(0)[1]);
        }
    }

    /**
     * The longest time between two consecutive acknowledged commits whose later one came
     * after {@code fromNanos} and whose earlier one came before {@code toNanos}
     * ({@link System#nanoTime()} values): the write gap of what happened in between.
     */
    public Duration longestGap(long fromNanos, long toNanos) {
        long longest = 0;
        synchronized (commits) {
            for (int i = 1; i < commits.size(); i++) {
                long a = commits.get(i - 1)[1];
                long b = commits.get(i)[1];
                if (b >= fromNanos && a <= toNanos) {
                    longest = Math.max(longest, b - a);
                }
            }
        }
        return Duration.ofNanos(longest);
    }

    /** Waits until at least {@code more} further commits were acknowledged (up to {@code timeout}). */
    public void awaitCommits(int more, Duration timeout) {
        int target = acknowledged() + more;
        long deadline = System.nanoTime() + timeout.toNanos();
        while (acknowledged() < target) {
            if (System.nanoTime() > deadline) {
                throw new PgTestkitException("the writer made no " + more + " commits within " + timeout.toSeconds() + " s");
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new PgTestkitException("interrupted");
            }
        }
    }

    /** The acknowledged commits whose rows {@code server} does not have. */
    public List<Long> missingOn(PgServer server) {
        return missingOn(server, System.nanoTime());
    }

    /**
     * The commits acknowledged before {@code ackedBeforeNanos} ({@link System#nanoTime()})
     * whose rows {@code server} does not have. While the writer runs, pass a time taken
     * before the call: a commit acknowledged after the server's snapshot would otherwise
     * count as missing.
     */
    public List<Long> missingOn(PgServer server, long ackedBeforeNanos) {
        Set<Long> present = new HashSet<>();
        try (Connection c = server.connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT id FROM " + TABLE)) {
            while (rs.next()) {
                present.add(rs.getLong(1));
            }
        } catch (SQLException e) {
            throw new PgTestkitException("cannot read " + TABLE + " on " + server.name() + ": " + e.getMessage(), e);
        }
        List<Long> missing = new ArrayList<>();
        synchronized (commits) {
            for (long[] c : commits) {
                if (c[1] <= ackedBeforeNanos && !present.contains(c[0])) {
                    missing.add(c[0]);
                }
            }
        }
        return missing;
    }

    @Override
    public void close() {
        stop();
    }
}
