package io.repmgr4j.core;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Deque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the connections a handle's operations close open for a short while, so that the
 * next operation on the same server (a clone after a show, the next status call) gets an
 * open connection to a backend whose catalog caches are already warm, instead of paying
 * for a new backend each time. A connection goes back only when its user left it clean:
 * autocommit on, not read-only, no network timeout; {@code DISCARD ALL} then drops
 * whatever session state it carried (advisory locks, settings, temporary tables, LISTEN),
 * so the next user gets a fresh session. A kept connection is checked with a round trip
 * before it is lent again, and closed after {@code keep} unused or when the handle closes.
 * Thread-safe.
 */
final class IdleConnections implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(IdleConnections.class);
    /** At most this many kept per server: enough for one operation's parallel checks. */
    static final int PER_SERVER = 2;
    private static final int RESET_TIMEOUT_MS = 2000;
    private static final Executor DIRECT = Runnable::run;
    private static final ScheduledExecutorService SWEEPER = sweeper();

    /** One daemon thread for every handle's sweeps; a closed handle's sweep leaves its queue at once. */
    private static ScheduledExecutorService sweeper() {
        ScheduledThreadPoolExecutor e = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "repmgr4j-idle-connections");
            t.setDaemon(true);
            return t;
        });
        e.setRemoveOnCancelPolicy(true);
        return e;
    }

    private record Idle(Connection connection, long since) {
    }

    private final Duration keep;
    private final Map<String, Deque<Idle>> idle = new ConcurrentHashMap<>();
    private final ScheduledFuture<?> sweep;
    private volatile boolean closed;

    IdleConnections(Duration keep) {
        this.keep = keep;
        long period = Math.max(100, keep.toMillis() / 2);
        this.sweep = SWEEPER.scheduleWithFixedDelay(this::sweep, period, period, TimeUnit.MILLISECONDS);
    }

    /**
     * A connection to the server {@code key} names: a kept one that still answers, else a
     * new one from {@code open}. Closing it gives it back.
     *
     * @param validateTimeout how long a kept connection may take to answer its check
     */
    Connection get(String key, Duration validateTimeout, Supplier<Connection> open) {
        Deque<Idle> kept = idle.get(key);
        long now = System.nanoTime();
        for (Idle i = kept == null ? null : kept.pollFirst(); i != null; i = kept.pollFirst()) {
            if (now - i.since() > keep.toNanos() || !answers(i.connection(), validateTimeout)) {
                Connections.closeQuietly(i.connection());
                continue;
            }
            return lend(key, i.connection());
        }
        return lend(key, open.get());
    }

    /** One empty query, bounded by {@code timeout} (a connection that timed out is broken and goes). */
    private static boolean answers(Connection c, Duration timeout) {
        try {
            c.setNetworkTimeout(DIRECT, (int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis())));
            try (Statement st = c.createStatement()) {
                st.execute("");
            }
            c.setNetworkTimeout(DIRECT, 0);
            return true;
        } catch (SQLException | RuntimeException e) {
            LOG.debug("a kept connection does not answer: {}", e.getMessage());
            return false;
        }
    }

    /** The connection as its user sees it: {@code close()} gives it back (once). */
    private Connection lend(String key, Connection real) {
        AtomicBoolean returned = new AtomicBoolean();
        return (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(), new Class<?>[] {Connection.class},
                (proxy, method, args) -> {
                    switch (method.getName()) {
                        case "close":
                            if (returned.compareAndSet(false, true)) {
                                giveBack(key, withoutLenderTimeout(real));
                            }
                            return null;
                        case "isClosed":
                            return returned.get() || real.isClosed();
                        default:
                            if (returned.get()) {
                                throw new SQLException("this connection was closed", "08003");
                            }
                            try {
                                return method.invoke(real, args);
                            } catch (InvocationTargetException e) {
                                throw e.getCause();
                            }
                    }
                });
    }

    /**
     * The connection with the socket timeout its borrower's operation set cleared (a kept
     * connection gets its next borrower's); one whose read timed out is closed by the driver
     * and not kept.
     */
    private static Connection withoutLenderTimeout(Connection real) {
        try {
            if (!real.isClosed()) {
                real.setNetworkTimeout(DIRECT, 0);
            }
        } catch (SQLException | RuntimeException e) {
            LOG.debug("could not clear a connection's network timeout: {}", e.getMessage());
        }
        return real;
    }

    private void giveBack(String key, Connection real) {
        if (closed || !clean(real)) {
            Connections.closeQuietly(real);
            return;
        }
        Deque<Idle> kept = idle.computeIfAbsent(key, k -> new ConcurrentLinkedDeque<>());
        kept.addFirst(new Idle(real, System.nanoTime()));
        while (kept.size() > PER_SERVER) {
            Idle oldest = kept.pollLast();
            if (oldest != null) {
                Connections.closeQuietly(oldest.connection());
            }
        }
        if (closed) {
            drain(kept);
        }
    }

    /** True when the connection's session was reset for its next user. */
    private static boolean clean(Connection c) {
        try {
            if (c.isClosed() || !c.getAutoCommit() || c.isReadOnly() || c.getNetworkTimeout() != 0) {
                return false;
            }
            c.setNetworkTimeout(DIRECT, RESET_TIMEOUT_MS);
            try (Statement st = c.createStatement()) {
                st.execute("DISCARD ALL");
            }
            c.setNetworkTimeout(DIRECT, 0);
            c.clearWarnings();
            return true;
        } catch (SQLException | RuntimeException e) {
            LOG.debug("not keeping a connection: {}", e.getMessage());
            return false;
        }
    }

    /** Closes the connections kept longer than {@code keep}. */
    void sweep() {
        long now = System.nanoTime();
        for (Deque<Idle> kept : idle.values()) {
            for (Idle i : kept) {
                if (now - i.since() > keep.toNanos() && kept.remove(i)) {
                    Connections.closeQuietly(i.connection());
                }
            }
        }
    }

    /** How many connections are kept now (for tests). */
    int size() {
        return idle.values().stream().mapToInt(Deque::size).sum();
    }

    private static void drain(Deque<Idle> kept) {
        for (Idle i = kept.pollFirst(); i != null; i = kept.pollFirst()) {
            Connections.closeQuietly(i.connection());
        }
    }

    /** Closes every kept connection; connections lent out now are closed when given back. */
    @Override
    public void close() {
        closed = true;
        sweep.cancel(false);
        idle.values().forEach(IdleConnections::drain);
    }
}
