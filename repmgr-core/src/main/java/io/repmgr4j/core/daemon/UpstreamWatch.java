package io.repmgr4j.core.daemon;

import io.repmgr4j.ConnInfo;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Objects;
import org.postgresql.PGConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An idle connection to the upstream, held by its own thread blocked on the socket
 * ({@code LISTEN} plus pgjdbc's {@code getNotifications(timeout)}), so that a crashed or
 * stopped upstream, whose socket closes at once, is noticed in milliseconds rather than
 * at the next check. On loss it calls {@code onLoss} once and reconnects after a pause.
 * A hung host (no socket close) is left to the regular checks. Thread-safe.
 */
final class UpstreamWatch implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(UpstreamWatch.class);

    private final ClusterAccess access;
    private final Duration connectTimeout;
    private final Duration retryPause;
    private final Runnable onLoss;
    private final Thread thread;
    private final Object lock = new Object();
    private ConnInfo target;
    private volatile KeptConnection current;
    private volatile boolean stopped;

    UpstreamWatch(ClusterAccess access, Duration connectTimeout, Duration retryPause, Runnable onLoss, String threadName) {
        this.access = access;
        this.connectTimeout = connectTimeout;
        this.retryPause = retryPause;
        this.onLoss = onLoss;
        this.thread = new Thread(this::run, threadName);
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    /** Watches {@code upstream} from now on ({@code null}: nothing). */
    void watch(ConnInfo upstream) {
        synchronized (lock) {
            if (Objects.equals(upstream, target)) {
                return;
            }
            target = upstream;
            lock.notifyAll();
        }
        KeptConnection c = current;
        if (c != null) {
            c.abort(); // wakes the thread, which then connects to the new target
        }
    }

    private void run() {
        while (!stopped) {
            ConnInfo t;
            synchronized (lock) {
                t = target;
                if (t == null) {
                    waitQuietly(retryPause);
                    continue;
                }
            }
            KeptConnection kc = new KeptConnection(() -> access.connect(t, connectTimeout, null));
            current = kc;
            boolean connected = false;
            try {
                Connection c = kc.get();
                connected = true;
                try (Statement st = c.createStatement()) {
                    st.execute("LISTEN repmgr4j_daemon_watch");
                }
                PGConnection pg = c.unwrap(PGConnection.class);
                while (!stopped && sameTarget(t)) {
                    pg.getNotifications(1000);
                }
            } catch (SQLException | RuntimeException e) {
                if (!stopped && connected && sameTarget(t)) {
                    LOG.debug("upstream watch lost its connection to {}: {}", t.hosts(), e.getMessage());
                    onLoss.run();
                }
            } finally {
                current = null;
                kc.abort();
            }
            if (!stopped && sameTarget(t)) {
                synchronized (lock) {
                    waitQuietly(retryPause);
                }
            }
        }
    }

    private boolean sameTarget(ConnInfo t) {
        synchronized (lock) {
            return Objects.equals(t, target);
        }
    }

    /** Call with {@code lock} held. */
    private void waitQuietly(Duration d) {
        try {
            lock.wait(Math.max(1, d.toMillis()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopped = true;
        }
    }

    @Override
    public void close() {
        stopped = true;
        synchronized (lock) {
            lock.notifyAll();
        }
        KeptConnection c = current;
        if (c != null) {
            c.abort();
        }
        thread.interrupt();
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
