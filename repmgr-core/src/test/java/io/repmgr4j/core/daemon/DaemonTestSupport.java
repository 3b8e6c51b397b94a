package io.repmgr4j.core.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.DaemonOptions;
import io.repmgr4j.EventRecord;
import io.repmgr4j.FailoverMode;
import io.repmgr4j.ImmutableNodeConfig;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.testkit.PgServer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/** Shared pieces of the daemon tests: node configurations with short intervals, waits, leak checks. */
final class DaemonTestSupport {
    private DaemonTestSupport() {
    }

    /** Short intervals so that a failover takes well under a second: checks every 300 ms, 2 reconnect attempts 300 ms apart. */
    static DaemonOptions fast() {
        return DaemonOptions.builder()
                .monitorInterval(Duration.ofMillis(300))
                .reconnectInterval(Duration.ofMillis(300))
                .primaryWaitTimeout(Duration.ofSeconds(20))
                .build();
    }

    static NodeConfig config(int id, PgServer s, int priority) {
        return config(id, s, priority, b -> { });
    }

    /** failover=automatic, monitor 1 s, reconnect 2 × 1 s (the options above override the intervals). */
    static NodeConfig config(int id, PgServer s, int priority, Consumer<ImmutableNodeConfig.Builder> tweak) {
        ImmutableNodeConfig.Builder b = NodeConfig.builder().nodeId(id).nodeName(s.name()).conninfo(s.conninfo())
                .dataDirectory(s.dataDirectory().toString()).pgBindir(s.bindir().toString()).priority(priority)
                .failover(FailoverMode.AUTOMATIC).monitorIntervalSecs(1).reconnectAttempts(2).reconnectInterval(1)
                .promoteCheckTimeout(30).standbyReconnectTimeout(30);
        tweak.accept(b);
        return b.build();
    }

    /** Waits until {@code condition} holds; fails with {@code what} after {@code timeout}. */
    static void await(String what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for: " + what);
            }
            sleep(100);
        }
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** True when the server answers and is not in recovery. */
    static boolean isPrimary(PgServer s) {
        try {
            return s.isRunning() && !s.inRecovery();
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** Names of live threads a daemon started. */
    static List<String> daemonThreads() {
        List<String> out = new ArrayList<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.isAlive() && t.getName().startsWith("repmgr4j-daemon-")) {
                out.add(t.getName());
            }
        }
        return out;
    }

    /** application_names of the sessions daemons opened on a server (state sessions and checks). */
    static List<String> daemonSessions(PgServer s) {
        try (Connection c = s.connect();
             PreparedStatement ps = c.prepareStatement("SELECT application_name FROM pg_stat_activity"
                     + " WHERE application_name LIKE 'r4jd %' OR application_name LIKE 'repmgr4j-daemon%'")) {
            List<String> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
            return out;
        } catch (SQLException e) {
            throw new AssertionError(e);
        }
    }

    /** Every event the listener got, in order. */
    static final class Recorder implements io.repmgr4j.spi.EventListener {
        final List<EventRecord> events = new CopyOnWriteArrayList<>();

        @Override
        public void onEvent(EventRecord event) {
            events.add(event);
        }

        List<String> names() {
            return events.stream().map(EventRecord::event).toList();
        }

        boolean has(String event) {
            return events.stream().anyMatch(e -> e.event().equals(event));
        }
    }

    /** Events of a kind in the metadata, newest first. */
    static List<EventRecord> stored(ReplicationCluster cluster, String event) {
        return cluster.events().event(event).limit(100).list();
    }

    static void assertNoLeftovers(PgServer... servers) {
        await("daemon threads to end", Duration.ofSeconds(10), () -> daemonThreads().isEmpty());
        for (PgServer s : servers) {
            if (s.isRunning()) {
                await("daemon sessions on " + s.name() + " to end", Duration.ofSeconds(10), () -> daemonSessions(s).isEmpty());
            }
        }
        assertThat(daemonThreads()).isEmpty();
    }
}
