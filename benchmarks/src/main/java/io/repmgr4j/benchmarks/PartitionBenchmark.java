package io.repmgr4j.benchmarks;

import io.repmgr4j.DaemonEvents;
import io.repmgr4j.EventRecord;
import io.repmgr4j.FailoverMode;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.core.ReplicationClusters;
import io.repmgr4j.testkit.NetProcess;
import io.repmgr4j.testkit.NetReplicaSet;
import io.repmgr4j.testkit.PgRoleWatch;
import io.repmgr4j.testkit.PgServer;
import io.repmgr4j.testkit.PgWriter;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * {@code benchmarks/run partition}: three nodes, each in its own network namespace with a
 * standalone {@code DaemonMain} (monitor 1 s, reconnect 2 × 1 s, readonly fence), a writer
 * committing every 10 ms from the client host through a pgjdbc multi-host URL
 * (targetServerType=primary). Each round cuts the primary off from both standbys (iptables
 * DROP; clients still reach it), waits for the failover, heals, and rejoins the fenced old
 * primary as a standby (pg_rewind) for the next round. Then the old primary of the last
 * round is restarted as a primary (its fence removed, as an operator might) before its
 * daemon, and last a healthy run counts fences and failovers that should not happen.
 * Prints:
 * <ul>
 *   <li>{@code partition_failover_ms}: cut → first commit acknowledged by the new primary (median);</li>
 *   <li>{@code acked_after_promotion}: commits the old primary acknowledged after the new one
 *       became writable (at the latest when it was last seen in recovery), all rounds;</li>
 *   <li>{@code two_primary_ms}: how long the old and the new primary both accepted writes as
 *       seen from the client (polled every 50 ms), longest round;</li>
 *   <li>{@code fence_returning_primary_ms}: the old primary's daemon reported it started → its
 *       server no longer accepts writes (as polled from the client);</li>
 *   <li>{@code false_fences}: fences and promotions during the healthy run.</li>
 * </ul>
 * Options: {@code --rounds N} (default 10), {@code --healthy-seconds N} (default 300),
 * {@code --isolation-timeout-secs N} ({@code primary_isolation_timeout}, default 2: the
 * smallest whole number of seconds above one probe round at monitor 1 s), {@code --verbose}
 * (the daemons' last log lines after each round).
 * Needs root (network namespaces).
 */
public final class PartitionBenchmark {
    private static final String DAEMON_MAIN = "io.repmgr4j.core.daemon.DaemonMain";

    private PartitionBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int rounds = 10;
        int healthySeconds = 300;
        int isolationSecs = 2;
        boolean verbose = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--healthy-seconds" -> healthySeconds = Integer.parseInt(args[++i]);
                case "--isolation-timeout-secs" -> isolationSecs = Integer.parseInt(args[++i]);
                case "--verbose" -> verbose = true;
                default -> throw new IllegalArgumentException("unknown argument " + args[i]
                        + " (options: --rounds N, --healthy-seconds N, --isolation-timeout-secs N, --verbose)");
            }
        }
        List<Long> failover = new ArrayList<>();
        long ackedAfter = 0;
        long twoPrimary = 0;
        long fenceReturning;
        int falseFences;
        try (Bench b = new Bench(isolationSecs)) {
            for (int r = 1; r <= rounds; r++) {
                long[] round = b.round();
                failover.add(round[0]);
                ackedAfter += round[1];
                twoPrimary = Math.max(twoPrimary, round[2]);
                if (verbose) {
                    System.out.println(b.set.daemonLogs(60));
                }
                System.out.printf("round %d: failover %d ms, acked after promotion %d, two primaries %d ms%n",
                        r, round[0], round[1], round[2]);
            }
            fenceReturning = b.returningPrimary();
            System.out.printf("returning primary fenced %d ms after its daemon said it started%n", fenceReturning);
            falseFences = b.healthyRun(Duration.ofSeconds(healthySeconds));
        }
        Stats.figure("partition_failover_ms", Stats.median(failover));
        Stats.figure("acked_after_promotion", ackedAfter);
        Stats.figure("two_primary_ms", twoPrimary);
        Stats.figure("fence_returning_primary_ms", fenceReturning);
        Stats.figure("false_fences", falseFences);
    }

    /** The cluster under test. */
    private static final class Bench implements AutoCloseable {
        private final NetReplicaSet set;
        private final PgRoleWatch watch;
        private final PgWriter writer;
        private final Map<String, String> conf = new LinkedHashMap<>();
        private int primary = 1;

        Bench(int isolationSecs) {
            set = NetReplicaSet.start(3, b -> { });
            try {
                conf.put("failover", "automatic");
                conf.put("monitor_interval_secs", "1");
                conf.put("reconnect_attempts", "2");
                conf.put("reconnect_interval", "1");
                conf.put("promote_check_timeout", "30");
                conf.put("standby_reconnect_timeout", "30");
                conf.put("fencing", "readonly");
                conf.put("primary_isolation_timeout", Integer.toString(isolationSecs));
                try (ReplicationCluster c = cluster()) {
                    c.registerPrimary(config(1)).execute();
                    for (int i = 2; i <= 3; i++) {
                        c.registerStandby(config(i)).waitUntilAttached(Duration.ofSeconds(30)).execute();
                    }
                }
                for (int i = 1; i <= 3; i++) {
                    Map<String, String> c = new LinkedHashMap<>(conf);
                    c.put("priority", Integer.toString(priority(i)));
                    set.writeRepmgrConf(i, c);
                    startDaemon(i);
                }
                watch = new PgRoleWatch(set.servers());
                watch.start();
                writer = PgWriter.start(set.servers(), Duration.ofMillis(10));
                writer.awaitCommits(20, Duration.ofSeconds(30));
            } catch (RuntimeException e) {
                System.err.println(set.daemonLogs(40));
                set.close();
                throw e;
            }
        }

        private static int priority(int i) {
            return i == 1 ? 100 : i == 2 ? 80 : 60;
        }

        private NodeConfig config(int i) {
            return set.server(i).nodeConfig(i).priority(priority(i)).failover(FailoverMode.AUTOMATIC).monitorIntervalSecs(1).reconnectAttempts(2)
                    .reconnectInterval(1).build();
        }

        /** A handle on the cluster that runs each node's programs inside its namespace. */
        private ReplicationCluster cluster() {
            ReplicationClusters.Builder b = ReplicationClusters.builder();
            for (int i = 1; i <= 3; i++) {
                b.seed(set.server(i).conninfo()).node(config(i), set.server(i).runner());
            }
            return b.build();
        }

        /**
         * Starts node i's daemon and waits until it says it started. The nodes' conninfo has
         * the test kit's connect_timeout of 2 s, which a cold JVM on a busy machine may miss
         * on its very first connection: a daemon that ends at once is started again (3 tries).
         */
        private void startDaemon(int i) {
            for (int attempt = 1; ; attempt++) {
                NetProcess p = set.startDaemon(i, DAEMON_MAIN, System.getProperty("java.class.path"), List.of());
                String started = "repmgr4j daemon for node \"" + set.server(i).name() + "\"";
                await("the daemon of node " + i + " to start", Duration.ofSeconds(60),
                        () -> !p.isAlive() || p.output(200).contains(started));
                if (p.isAlive()) {
                    return;
                }
                if (attempt == 3) {
                    throw new IllegalStateException("the daemon of node " + i + " ended: " + p.logTail(30));
                }
                System.err.println("the daemon of node " + i + " ended at start (" + p.logTail(3).strip() + "); again");
            }
        }

        /** One round: {failover ms, acked after promotion, two-primary ms}. */
        long[] round() {
            PgServer old = set.server(primary);
            List<PgServer> standbys = set.servers().stream().filter(s -> s != old).toList();
            writer.pause();
            String lsn = old.query("SELECT pg_current_wal_lsn()::text", String.class);
            for (PgServer s : standbys) {
                await(s.name() + " to replay " + lsn, Duration.ofSeconds(30), () -> Boolean.TRUE.equals(
                        s.query("SELECT pg_last_wal_replay_lsn() >= '" + lsn + "'::pg_lsn", Boolean.class)));
            }
            long cut = System.nanoTime();
            set.lab().cutFromNodes(set.node(primary));
            writer.resume();
            await("a standby to be promoted", Duration.ofSeconds(120),
                    () -> standbys.stream().anyMatch(s -> watch.becameWritable(s) > cut));
            PgServer promoted = standbys.stream().filter(s -> watch.becameWritable(s) > cut).findFirst().orElseThrow();
            String label = PgWriter.label(promoted);
            await("a commit on " + promoted.name(), Duration.ofSeconds(60),
                    () -> writer.commits().stream().anyMatch(c -> c.server().equals(label) && c.ackNanos() > cut));
            long firstCommit = writer.commits().stream().filter(c -> c.server().equals(label) && c.ackNanos() > cut)
                    .mapToLong(PgWriter.Commit::ackNanos).min().orElseThrow();
            await(old.name() + " to stop taking writes", Duration.ofSeconds(60), () -> !PgRoleWatch.isWritable(old));
            awaitReadOnly(old);
            Probes.sleep(1000);
            set.lab().healAll();
            long promotedAt = watch.becameWritable(promoted);
            long acked = writer.acknowledgedBy(old, promotedAt);
            long overlap = Math.max(0, watch.lastWritable(old) - promotedAt);

            // the fenced old primary rejoins as a standby of the new one
            int oldId = primary;
            primary = set.servers().indexOf(promoted) + 1;
            set.stopDaemon(oldId);
            old.stop();
            deleteFence(old);
            try (ReplicationCluster c = cluster()) {
                c.rejoin(config(oldId)).forceRewind(true).recoverCrashedNode(true).timeout(Duration.ofSeconds(120))
                        .execute();
            }
            promoted.waitForStreaming(old, Duration.ofSeconds(60));
            startDaemon(oldId);
            for (PgServer s : set.servers()) {
                if (s != promoted) {
                    promoted.waitForStreaming(s, Duration.ofSeconds(60));
                }
            }
            return new long[] {(firstCommit - cut) / 1_000_000, acked, overlap / 1_000_000};
        }

        /**
         * Waits until a fenced server is up again as a read-only standby: the readonly fence
         * stops and starts it, and stopping it between the two would race with that start.
         */
        private static void awaitReadOnly(PgServer s) {
            await(s.name() + " to run read-only", Duration.ofSeconds(60), () -> {
                try {
                    return s.inRecovery();
                } catch (RuntimeException e) {
                    return false;
                }
            });
        }

        private static void deleteFence(PgServer s) {
            try {
                Files.deleteIfExists(s.dataDirectory().resolve("repmgr4j.fenced"));
            } catch (java.io.IOException e) {
                throw new IllegalStateException(e);
            }
        }

        /**
         * One more cut of the primary from its standbys; once the old primary is fenced and
         * the link healed, its daemon is stopped, its fence removed and its server started
         * as the primary it was (as an operator restarting it by hand might), then its daemon
         * started: the time from the daemon's start until the server no longer accepts
         * writes. The node then rejoins as a standby.
         */
        long returningPrimary() {
            // a last partition round leaves a fenced old primary; restart it as a primary before its daemon
            PgServer old = set.server(primary);
            List<PgServer> standbys = set.servers().stream().filter(s -> s != old).toList();
            long cut = System.nanoTime();
            set.lab().cutFromNodes(set.node(primary));
            await("a standby to be promoted", Duration.ofSeconds(120),
                    () -> standbys.stream().anyMatch(s -> watch.becameWritable(s) > cut));
            await(old.name() + " to be fenced", Duration.ofSeconds(60), () -> !PgRoleWatch.isWritable(old));
            awaitReadOnly(old);
            set.lab().healAll();
            PgServer promoted = standbys.stream().filter(s -> watch.becameWritable(s) > cut).findFirst().orElseThrow();
            int oldId = primary;
            primary = set.servers().indexOf(promoted) + 1;
            set.stopDaemon(oldId);
            old.stop();
            deleteFence(old);
            try {
                Files.deleteIfExists(old.dataDirectory().resolve("standby.signal"));
            } catch (java.io.IOException e) {
                throw new IllegalStateException(e);
            }
            old.start();
            if (!PgRoleWatch.isWritable(old)) {
                throw new IllegalStateException(old.name() + " did not come back as a writable primary");
            }
            startDaemon(oldId);
            long started = System.nanoTime(); // the daemon said it started
            await(old.name() + " to be fenced by its daemon", Duration.ofSeconds(60), () -> !PgRoleWatch.isWritable(old));
            long fenced = System.nanoTime();
            awaitReadOnly(old);
            // rejoin it so the healthy run has three nodes
            set.stopDaemon(oldId);
            old.stop();
            deleteFence(old);
            try (ReplicationCluster c = cluster()) {
                c.rejoin(config(oldId)).forceRewind(true).recoverCrashedNode(true).timeout(Duration.ofSeconds(120))
                        .execute();
            }
            promoted.waitForStreaming(old, Duration.ofSeconds(60));
            startDaemon(oldId);
            return (fenced - started) / 1_000_000;
        }

        /** A healthy run: fences and promotions that happened anyway. */
        int healthyRun(Duration d) {
            PgServer p = set.server(primary);
            int before = count(p, DaemonEvents.PRIMARY_FENCED) + count(p, DaemonEvents.REPMGRD_FAILOVER_PROMOTE);
            int commits = writer.acknowledged();
            Probes.sleep(d.toMillis());
            int after = count(p, DaemonEvents.PRIMARY_FENCED) + count(p, DaemonEvents.REPMGRD_FAILOVER_PROMOTE);
            boolean still = PgRoleWatch.isWritable(p);
            System.out.printf("healthy run: %d s, %d commits, primary still %s: %s%n", d.toSeconds(),
                    writer.acknowledged() - commits, p.name(), still);
            return after - before + (still ? 0 : 1);
        }

        private int count(PgServer p, String event) {
            try (ReplicationCluster c = ReplicationClusters.connect(p.conninfo())) {
                List<EventRecord> list = c.events().event(event).limit(1000).list();
                return list.size();
            }
        }

        @Override
        public void close() {
            writer.close();
            watch.close();
            set.close();
        }
    }

    static void await(String what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("timed out after " + timeout.toSeconds() + " s waiting for " + what);
            }
            Probes.sleep(20);
        }
    }

}
