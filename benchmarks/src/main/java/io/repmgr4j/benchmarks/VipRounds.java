package io.repmgr4j.benchmarks;

import io.repmgr4j.DaemonOptions;
import io.repmgr4j.FailoverDaemon;
import io.repmgr4j.FailoverMode;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.core.ReplicationClusters;
import io.repmgr4j.spi.Command;
import io.repmgr4j.spi.CommandResult;
import io.repmgr4j.spi.LocalCommandRunner;
import io.repmgr4j.testkit.AddressWatch;
import io.repmgr4j.testkit.NetLab;
import io.repmgr4j.testkit.NetNode;
import io.repmgr4j.testkit.NetReplicaSet;
import io.repmgr4j.testkit.PgServer;
import io.repmgr4j.testkit.PgWriter;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * The virtual-IP half of {@code benchmarks/run routing-lb}: three nodes, each in its own
 * network namespace of a {@link NetLab}, with the built-in virtual IP ({@code vip},
 * {@code vip_interface = eth0}) and a daemon per node in this JVM at the same fast settings
 * as the HAProxy rounds; the daemons run {@code ip} and {@code arping} inside the nodes'
 * namespaces. Each node forwards the VIP's port to its own server (a DNAT rule), so a
 * client needs one address and one port, as with a real VIP. A writer commits every 10 ms
 * through the VIP from the client host; each round kills the primary's postmaster with
 * SIGKILL, measures from the new primary accepting writes to the first commit through the
 * VIP, and rejoins the old primary. A sampler reads every node's addresses throughout and
 * counts the samples that find the VIP on two nodes. Needs root, ip, iptables and arping.
 * Not thread-safe (one run).
 */
final class VipRounds {
    /** What the rounds measured. */
    record Result(List<Long> firstCommitAfterWritableMs, List<Long> vipAfterWritableMs, long samples, long samplesOnTwo,
                  int readOnlyRejections) {
    }

    private VipRounds() {
    }

    /** Whether this host can run the rounds: root, with ip, iptables and arping. */
    static boolean available() {
        if (!"root".equals(System.getProperty("user.name"))) {
            return false;
        }
        for (String tool : List.of("ip", "iptables", "arping")) {
            CommandResult r = LocalCommandRunner.asCurrentUser().run(Command.of("sh", "-c", "command -v " + tool)
                    .withTimeout(Duration.ofSeconds(10)));
            if (!r.succeeded()) {
                return false;
            }
        }
        return true;
    }

    static Result run(int rounds) throws Exception {
        List<Long> firstCommit = new ArrayList<>();
        List<Long> vipAfter = new ArrayList<>();
        AddressWatch watch = null;
        List<FailoverDaemon> daemons = new ArrayList<>();
        int rejections;
        try (NetReplicaSet set = NetReplicaSet.start(3, b -> b.setting("wal_retrieve_retry_interval", "200ms"))) {
            NetLab lab = set.lab();
            String vip = lab.spareAddress(100);
            int vipPort = set.server(1).port();
            List<NodeConfig> configs = new ArrayList<>();
            ReplicationClusters.Builder builder = ReplicationClusters.builder();
            for (int i = 1; i <= 3; i++) {
                NetNode n = set.node(i);
                PgServer s = set.server(i);
                lab.forward(n, vip, vipPort, s.port());
                NodeConfig c = NodeConfig.builder().nodeId(i).nodeName(s.name()).conninfo(s.conninfo())
                        .dataDirectory(s.dataDirectory().toString()).pgBindir(s.bindir().toString())
                        .failover(FailoverMode.AUTOMATIC).monitorIntervalSecs(1).reconnectAttempts(3).reconnectInterval(1)
                        .vip(vip + "/24").vipInterface("eth0").build();
                configs.add(c);
                builder.seed(s.conninfo()).node(c, n.hostRunner(s.runner()));
            }
            try (ReplicationCluster cluster = builder.build()) {
                cluster.registerPrimary(configs.get(0)).execute();
                cluster.registerStandby(configs.get(1)).waitUntilAttached(Duration.ofSeconds(30)).execute();
                cluster.registerStandby(configs.get(2)).waitUntilAttached(Duration.ofSeconds(30)).execute();
                DaemonOptions fast = DaemonOptions.builder().monitorInterval(Duration.ofMillis(500))
                        .reconnectInterval(Duration.ofMillis(200)).build();
                for (NodeConfig c : configs) {
                    daemons.add(cluster.daemon(c, fast).start());
                }
                watch = AddressWatch.start(List.of(set.node(1), set.node(2), set.node(3)), vip);
                await("the VIP on n1", Duration.ofSeconds(30), () -> set.node(1).hasAddress(vip));
                try (PgWriter writer = startWriter(vip, vipPort, set.server(1))) {
                    writer.awaitCommits(20, Duration.ofSeconds(20));
                    int primary = 1;
                    for (int r = 1; r <= rounds; r++) {
                        long[] round = killRound(set, cluster, configs, writer, primary, vip);
                        System.out.printf("vip round %d: new primary pg%d, kill to writable %d ms, writable to VIP on its host"
                                + " %d ms, writable to first commit through the VIP %d ms%n", r, round[2], round[3], round[1],
                                round[0]);
                        firstCommit.add(round[0]);
                        vipAfter.add(round[1]);
                        primary = (int) round[2];
                    }
                    writer.stop();
                    rejections = writer.readOnlyRejections();
                }
            } finally {
                if (watch != null) {
                    watch.close();
                }
                daemons.forEach(FailoverDaemon::close);
            }
        }
        return new Result(firstCommit, vipAfter, watch.samples(), watch.samplesOnTwo(), rejections);
    }

    private static PgWriter startWriter(String vip, int port, PgServer any) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (true) {
            try {
                return PgWriter.startVia(vip, port, any, Duration.ofMillis(10), 2_000_000_000L);
            } catch (RuntimeException e) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("no connection through the VIP " + vip + ":" + port + ": " + e.getMessage(), e);
                }
                Thread.sleep(100);
            }
        }
    }

    /** {writable-to-first-commit ms, writable-to-VIP-on-the-new-host ms, new primary's index (1-based), kill-to-writable ms}. */
    private static long[] killRound(NetReplicaSet set, ReplicationCluster cluster, List<NodeConfig> configs, PgWriter writer,
                                    int primary, String vip) throws Exception {
        PgServer old = set.server(primary);
        List<Integer> standbys = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            if (i != primary) {
                standbys.add(i);
                old.waitForStreaming(set.server(i), Duration.ofSeconds(60));
            }
        }
        writer.awaitCommits(50, Duration.ofSeconds(60));
        List<Connection> watch = new ArrayList<>();
        try {
            for (int i : standbys) {
                watch.add(set.server(i).connect());
            }
            long t0 = System.nanoTime();
            old.kill9();
            long deadline = t0 + Duration.ofMinutes(2).toNanos();
            Probes.Promoted p = Probes.firstWritable(watch, deadline);
            long writableAt = p.writableAt();
            int winner = standbys.get(p.index());
            long vipAt = 0;
            OptionalLong first = OptionalLong.empty();
            while (first.isEmpty() || vipAt == 0) {
                if (vipAt == 0 && set.node(winner).hasAddress(vip)) {
                    vipAt = System.nanoTime();
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("no commit through the VIP within 2 minutes of the kill");
                }
                first = writer.firstCommitAfter(writableAt);
                Thread.sleep(2);
            }
            cluster.rejoin(configs.get(primary - 1)).forceRewind(true).recoverCrashedNode(true)
                    .timeout(Duration.ofSeconds(120)).execute();
            set.server(winner).waitForStreaming(old, Duration.ofSeconds(60));
            return new long[] {(first.getAsLong() - writableAt) / 1_000_000, (vipAt - writableAt) / 1_000_000, winner,
                    (writableAt - t0) / 1_000_000};
        } finally {
            for (Connection c : watch) {
                c.close();
            }
        }
    }

    private static void await(String what, Duration timeout, java.util.function.BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }
}
