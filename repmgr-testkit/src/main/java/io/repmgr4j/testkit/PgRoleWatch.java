package io.repmgr4j.testkit;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * Watches the role of servers from the client's side, for partition tests: polls every
 * server's role from the client host every 50 ms ({@code pg_is_in_recovery()} over a kept
 * connection, connect timeout 1 s), and remembers per server the last time it
 * was seen in recovery and the first time it was then seen writable: a lower bound of the
 * moment a promoted standby became writable. Thread-safe.
 */
public final class PgRoleWatch implements AutoCloseable {
    private final List<PgServer> servers;
    private final Map<String, long[]> seen = new LinkedHashMap<>(); // {lastInRecovery, firstWritableAfter, lastWritable}
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean running = true;

    /** A watch of {@code servers}; {@link #start()} starts polling. */
    public PgRoleWatch(List<? extends PgServer> servers) {
        this.servers = List.copyOf(servers);
        for (PgServer s : servers) {
            seen.put(s.name(), new long[] {0, 0, 0});
        }
    }

    /** Starts one polling thread per server (daemon threads, ended by {@link #close()}). */
    public void start() {
        for (PgServer s : servers) {
            Thread t = new Thread(() -> poll(s), "partition-observer-" + s.name());
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
    }

    private static Connection open(PgServer s, int connectSecs) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", Place.ROLE);
        if (s.place().password != null) {
            p.setProperty("password", s.place().password);
        }
        p.setProperty("connectTimeout", Integer.toString(connectSecs));
        p.setProperty("loginTimeout", Integer.toString(connectSecs + 1));
        p.setProperty("socketTimeout", "2");
        p.setProperty("ApplicationName", "partition-observer");
        return DriverManager.getConnection("jdbc:postgresql://" + s.host() + ":" + s.port() + "/" + Place.DATABASE, p);
    }

    /** Whether {@code s} answers and is not in recovery (a new connection, connect timeout 2 s). */
    public static boolean isWritable(PgServer s) {
        try (Connection c = open(s, 2); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery()")) {
            return rs.next() && !rs.getBoolean(1);
        } catch (SQLException e) {
            return false;
        }
    }

    private void poll(PgServer s) {
        Connection c = null;
        while (running) {
            try {
                if (c == null) {
                    c = open(s, 1);
                }
                boolean recovery;
                try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery()")) {
                    rs.next();
                    recovery = rs.getBoolean(1);
                }
                long now = System.nanoTime();
                synchronized (seen) {
                    long[] v = seen.get(s.name());
                    if (recovery) {
                        v[0] = now;
                        v[1] = 0;
                    } else {
                        if (v[1] == 0) {
                            v[1] = now;
                        }
                        v[2] = now;
                    }
                }
            } catch (SQLException e) {
                try {
                    if (c != null) {
                        c.close();
                    }
                } catch (SQLException ignored) {
                    // gone
                }
                c = null;
            }
            Workspace.sleep(50);
        }
        try {
            if (c != null) {
                c.close();
            }
        } catch (SQLException ignored) {
            // gone
        }
    }

    /** Whether the last answer of {@code s} said writable and came within the last second. */
    public boolean writableNow(PgServer s) {
        synchronized (seen) {
            long[] v = seen.get(s.name());
            return v[1] != 0 && System.nanoTime() - v[2] < 1_000_000_000L;
        }
    }

    /**
     * When {@code s} became writable, at the earliest: the last time it was seen in
     * recovery before it was seen writable; 0 when it was not seen writable after being
     * seen in recovery.
     */
    public long becameWritable(PgServer s) {
        synchronized (seen) {
            long[] v = seen.get(s.name());
            return v[1] != 0 && v[0] != 0 ? v[0] : 0;
        }
    }

    /** The last time {@code s} was seen writable (0: never). */
    public long lastWritable(PgServer s) {
        synchronized (seen) {
            return seen.get(s.name())[2];
        }
    }

    /** Stops polling. */
    @Override
    public void close() {
        running = false;
        for (Thread t : threads) {
            try {
                t.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
