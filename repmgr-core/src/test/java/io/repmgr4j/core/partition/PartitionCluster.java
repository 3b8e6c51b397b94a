package io.repmgr4j.core.partition;

import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.EventRecord;
import io.repmgr4j.FailoverMode;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.core.ReplicationClusters;
import io.repmgr4j.testkit.NetReplicaSet;
import io.repmgr4j.testkit.PgRoleWatch;
import io.repmgr4j.testkit.PgServer;
import io.repmgr4j.testkit.PgWriter;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.function.BooleanSupplier;

/**
 * A partition test's cluster: three nodes in their own network namespaces (pg1 primary,
 * pg2 priority 80, pg3 priority 60), registered, a standalone {@code DaemonMain} in each
 * namespace (monitor 1 s, reconnect 2 × 1 s, readonly fence), a writer through a
 * multi-host URL from the client host, and a {@link PgRoleWatch} from the client host.
 */
final class PartitionCluster implements AutoCloseable {
    static final String DAEMON_MAIN = "io.repmgr4j.core.daemon.DaemonMain";

    final NetReplicaSet set;
    final PgRoleWatch observer;
    PgWriter writer;
    private final Map<String, String> confKeys;

    /** The witness's index, 0 without one. */
    final int witness;

    private PartitionCluster(NetReplicaSet set, Map<String, String> confKeys, int witness) {
        this.set = set;
        this.confKeys = confKeys;
        this.witness = witness;
        this.observer = new PgRoleWatch(data());
    }

    /** The servers in replication (not the witness). */
    List<PgServer> data() {
        return set.servers().stream().filter(s -> witness == 0 || s != set.server(witness)).toList();
    }

    /** The test JVM's class path: the daemons run the same classes. */
    static String classpath() {
        String cp = System.getProperty("surefire.test.class.path");
        return cp != null && !cp.isBlank() ? cp : System.getProperty("java.class.path");
    }

    /**
     * Starts the cluster with {@code primary_isolation_timeout} of {@code isolationSecs},
     * extra repmgr.conf {@code keys}, and daemons started with {@code daemonArgs}.
     */
    static PartitionCluster start(int isolationSecs, Map<String, String> keys, List<String> daemonArgs) {
        return start(isolationSecs, keys, daemonArgs, false);
    }

    /**
     * Like {@link #start(int, Map, List)}; with {@code withWitness}, node 3 is a witness (a
     * server outside replication) instead of a second standby: primary + standby + witness.
     */
    static PartitionCluster start(int isolationSecs, Map<String, String> keys, List<String> daemonArgs,
                                  boolean withWitness) {
        NetReplicaSet set = NetReplicaSet.start(withWitness ? 2 : 3, b -> b.setting("wal_sender_timeout", "60s"));
        PartitionCluster pc = null;
        try {
            Map<String, String> conf = new LinkedHashMap<>();
            conf.put("failover", "automatic");
            conf.put("monitor_interval_secs", "1");
            conf.put("reconnect_attempts", "2");
            conf.put("reconnect_interval", "1");
            conf.put("promote_check_timeout", "30");
            conf.put("standby_reconnect_timeout", "30");
            conf.put("fencing", "readonly");
            conf.put("primary_isolation_timeout", Integer.toString(isolationSecs));
            conf.putAll(keys);
            int wit = withWitness ? set.addStandaloneServer(b -> { }) : 0;
            pc = new PartitionCluster(set, conf, wit);
            try (ReplicationCluster cluster = ReplicationClusters.connect(set.server(1).conninfo())) {
                cluster.registerPrimary(pc.nodeConfig(1)).execute();
                for (int i = 2; i <= set.size(); i++) {
                    if (i == wit) {
                        cluster.registerWitness(pc.nodeConfig(i)).execute();
                    } else {
                        cluster.registerStandby(pc.nodeConfig(i)).waitUntilAttached(Duration.ofSeconds(30)).execute();
                    }
                }
            }
            for (int i = 1; i <= set.size(); i++) {
                set.writeRepmgrConf(i, pc.confOf(i));
                pc.startDaemon(i, daemonArgs);
            }
            pc.observer.start();
            pc.writer = PgWriter.start(pc.data(), Duration.ofMillis(20));
            pc.writer.awaitCommits(20, Duration.ofSeconds(30));
            return pc;
        } catch (RuntimeException | Error e) {
            try {
                if (pc != null) {
                    System.err.println(set.daemonLogs(60));
                    pc.close();
                } else {
                    set.close();
                }
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /** Starts node {@code i}'s daemon and waits (up to 60 s) until it says it started; fails with its output when it ends. */
    void startDaemon(int i, List<String> daemonArgs) {
        io.repmgr4j.testkit.NetProcess p = set.startDaemon(i, DAEMON_MAIN, classpath(), daemonArgs);
        await("the daemon of node " + i + " to start", Duration.ofSeconds(60), () -> {
            if (!p.isAlive()) {
                throw new AssertionError("the daemon of node " + i + " ended with exit code " + p.exitValue() + ":\n"
                        + p.logTail(30));
            }
            return p.output(200).contains("repmgr4j daemon for node \"" + set.server(i).name() + "\"");
        });
    }

    private int priority(int i) {
        return i == witness ? 0 : i == 1 ? 100 : i == 2 ? 80 : 60;
    }

    /** The node's conninfo: the test kit's, with a connect timeout a cold daemon JVM on a busy machine meets. */
    io.repmgr4j.ConnInfo conninfo(int i) {
        return set.server(i).conninfo().with("connect_timeout", "5");
    }

    NodeConfig nodeConfig(int i) {
        return set.server(i).nodeConfig(i).conninfo(conninfo(i)).priority(priority(i)).failover(FailoverMode.AUTOMATIC)
                .monitorIntervalSecs(1).reconnectAttempts(2).reconnectInterval(1).build();
    }

    Map<String, String> confOf(int i) {
        Map<String, String> c = new LinkedHashMap<>(confKeys);
        c.put("priority", Integer.toString(priority(i)));
        c.put("conninfo", conninfo(i).render());
        return c;
    }

    PgServer server(int i) {
        return set.server(i);
    }

    /** The events of a kind stored in the metadata of whichever server is writable now (empty when none answers). */
    List<EventRecord> events(String event) {
        for (PgServer s : data()) {
            if (PgRoleWatch.isWritable(s)) {
                try (ReplicationCluster c = ReplicationClusters.connect(s.conninfo())) {
                    return c.events().event(event).limit(100).list();
                } catch (RuntimeException e) {
                    // try the next one
                }
            }
        }
        return List.of();
    }

    /**
     * Pauses the writer, waits until both standbys replayed everything the primary has, and
     * returns {@link System#nanoTime()}: every commit acknowledged before it is on every node.
     */
    long quiesce(PgServer primary, List<PgServer> standbys) {
        writer.pause();
        String lsn = primary.query("SELECT pg_current_wal_lsn()::text", String.class);
        for (PgServer s : standbys) {
            await(s.name() + " to replay " + lsn, Duration.ofSeconds(30), () -> Boolean.TRUE.equals(
                    s.query("SELECT pg_last_wal_replay_lsn() >= '" + lsn + "'::pg_lsn", Boolean.class)));
        }
        return System.nanoTime();
    }

    /** The servers that accept writes now (asked directly, connect timeout 2 s). */
    List<PgServer> writable() {
        List<PgServer> out = new ArrayList<>();
        for (PgServer s : data()) {
            if (PgRoleWatch.isWritable(s)) {
                out.add(s);
            }
        }
        return out;
    }

    /** Waits (up to 60 s) until exactly one server accepts writes, and checks it still holds 3 s later. */
    PgServer awaitSinglePrimary() {
        await("exactly one writable primary", Duration.ofSeconds(60), () -> writable().size() == 1);
        DaemonSupport.sleep(3000);
        List<PgServer> w = writable();
        assertThat(w).as("writable servers 3 s after there was exactly one" + set.daemonLogs(30)).hasSize(1);
        return w.get(0);
    }

    /** The ids of the writer's table on {@code server}. */
    static Set<Long> idsOn(PgServer server) {
        Set<Long> ids = new HashSet<>();
        try (Connection c = server.connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT id FROM repmgr4j_writes")) {
            while (rs.next()) {
                ids.add(rs.getLong(1));
            }
        } catch (SQLException e) {
            throw new AssertionError("cannot read repmgr4j_writes on " + server.name() + ": " + e.getMessage(), e);
        }
        return ids;
    }

    /**
     * The legitimate acknowledged commits missing on {@code finalPrimary}: those the old
     * primary acknowledged up to {@code legitUntilNanos}, and all those of the other servers.
     */
    List<Long> legitMissing(PgServer oldPrimary, long legitUntilNanos, PgServer finalPrimary) {
        Set<Long> present = idsOn(finalPrimary);
        String old = PgWriter.label(oldPrimary);
        return writer.commits().stream()
                .filter(c -> !c.server().equals(old) || c.ackNanos() <= legitUntilNanos)
                .map(PgWriter.Commit::id).filter(id -> !present.contains(id)).toList();
    }

    static void await(String what, Duration timeout, BooleanSupplier condition) {
        DaemonSupport.await(what, timeout, condition);
    }

    @Override
    public void close() {
        if (writer != null) {
            writer.close();
        }
        observer.close();
        set.close();
    }

    /** Small waits shared by the partition tests. */
    static final class DaemonSupport {
        private DaemonSupport() {
        }

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
    }
}
