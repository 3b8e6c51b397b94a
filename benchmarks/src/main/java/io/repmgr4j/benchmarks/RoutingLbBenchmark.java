package io.repmgr4j.benchmarks;

import io.repmgr4j.DaemonOptions;
import io.repmgr4j.FailoverDaemon;
import io.repmgr4j.FailoverMode;
import io.repmgr4j.HttpEndpoint;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.core.ReplicationClusters;
import io.repmgr4j.testkit.HaProxy;
import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import io.repmgr4j.testkit.PgWriter;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * {@code benchmarks/run routing-lb}: a 3-node set with a daemon on every node serving the
 * health endpoints, a real HAProxy in front (Patroni-style: {@code option httpchk GET
 * /primary}, {@code inter 500ms fall 2 rise 1}, {@code on-marked-down shutdown-sessions}),
 * and a writer committing every 10 ms through HAProxy only. Each round kills the primary's
 * postmaster with SIGKILL (daemons at the fast settings: monitor 500 ms, 3 reconnect
 * attempts 200 ms apart) and measures
 * <ul>
 *   <li>{@code first_commit_after_writable_haproxy_ms}: from the moment the new primary
 *       accepts writes (polled every 2 ms over a kept connection) to the first commit
 *       acknowledged through HAProxy: the routing's share of the outage (median of the
 *       rounds);</li>
 *   <li>{@code readonly_rejections}: writes that reached a node in recovery (must be 0);</li>
 * </ul>
 * then rejoins the old primary as a standby for the next round. Last,
 * {@code health_endpoint_p99_us}: the 99th percentile of {@code GET /primary} answered by
 * the primary's daemon, at 200 requests per second from one bounded local loop (a new
 * connection per request, as HAProxy checks), for 10 s.
 *
 * <p>A second HAProxy with the same checks plus {@link HaProxy.Builder#failFast} (redispatch,
 * layer-4 observation) and a second writer run beside the first:
 * {@code first_commit_after_writable_haproxy_failfast_ms}. {@code primary_endpoint_after_writable_ms}:
 * from writable to the new primary's {@code /primary} answering 200.
 *
 * <p>Then, beside them in the same run, the same rounds with the built-in virtual IP
 * ({@link VipRounds}: nodes in network namespaces, a writer through the VIP):
 * {@code first_commit_after_writable_vip_ms} (median) and {@code vip_on_two_nodes_samples}
 * (samples of every node's addresses that found the VIP on two nodes, goal 0); skipped,
 * with a line saying why, without root, ip, iptables or arping.
 * Options: {@code --rounds N} (default 5), {@code --vip-only} (only the virtual-IP rounds).
 */
public final class RoutingLbBenchmark {
    private RoutingLbBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int rounds = 5;
        boolean vipOnly = false;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--rounds")) {
                rounds = Integer.parseInt(args[++i]);
            } else if (args[i].equals("--vip-only")) {
                vipOnly = true;
            } else {
                throw new IllegalArgumentException("unknown argument " + args[i] + " (options: --rounds N, --vip-only)");
            }
        }
        if (rounds < 1) {
            throw new IllegalArgumentException("--rounds must be 1 or more");
        }
        if (vipOnly) {
            VipRounds.Result vip = VipRounds.run(rounds);
            System.out.println();
            System.out.println("vip_after_writable_runs_ms=" + vip.vipAfterWritableMs());
            System.out.println("first_commit_after_writable_vip_runs_ms=" + vip.firstCommitAfterWritableMs());
            System.out.println("vip_samples=" + vip.samples());
            Stats.figure("readonly_rejections", vip.readOnlyRejections());
            Stats.figure("first_commit_after_writable_vip_ms", Stats.median(vip.firstCommitAfterWritableMs()));
            Stats.figure("vip_on_two_nodes_samples", vip.samplesOnTwo());
            return;
        }
        List<Long> gaps = new ArrayList<>();
        List<Long> gapsFast = new ArrayList<>();
        List<Long> outages = new ArrayList<>();
        List<Long> endpoint = new ArrayList<>();
        long p99;
        int rejections;
        try (PgReplicaSet set = PgReplicaSet.start(3, b -> b.setting("wal_retrieve_retry_interval", "200ms"))) {
            Map<PgServer, Integer> ids = new LinkedHashMap<>();
            Map<PgServer, Integer> ports = new LinkedHashMap<>();
            ReplicationClusters.Builder builder = ReplicationClusters.builder();
            int id = 1;
            for (PgServer s : set.servers()) {
                ids.put(s, id++);
                ports.put(s, HaProxy.freePort());
                builder.seed(s.conninfo());
            }
            List<FailoverDaemon> daemons = new ArrayList<>();
            try (ReplicationCluster cluster = builder.build()) {
                cluster.registerPrimary(config(set.server("pg1"), ids)).execute();
                cluster.registerStandby(config(set.server("pg2"), ids)).waitUntilAttached(Duration.ofSeconds(30)).execute();
                cluster.registerStandby(config(set.server("pg3"), ids)).waitUntilAttached(Duration.ofSeconds(30)).execute();
                HaProxy.Builder lb = HaProxy.builder();
                HaProxy.Builder lbFast = HaProxy.builder().failFast(true);
                for (PgServer s : set.servers()) {
                    DaemonOptions o = DaemonOptions.builder().monitorInterval(Duration.ofMillis(500))
                            .reconnectInterval(Duration.ofMillis(200))
                            .http(HttpEndpoint.builder().port(ports.get(s)).build()).build();
                    daemons.add(cluster.daemon(config(s, ids), o).start());
                    lb.server(s.name(), s, ports.get(s));
                    lbFast.server(s.name(), s, ports.get(s));
                }
                try (HaProxy haproxy = lb.start(); HaProxy haproxyFast = lbFast.start()) {
                    PgWriter writer = startWriter(haproxy, set.server("pg1"), 1);
                    PgWriter writerFast = startWriter(haproxyFast, set.server("pg1"), 1_000_000_000L);
                    try (writer; writerFast) {
                        writer.awaitCommits(20, Duration.ofSeconds(20));
                        writerFast.awaitCommits(20, Duration.ofSeconds(20));
                        PgServer primary = set.server("pg1");
                        for (int r = 1; r <= rounds; r++) {
                            long[] round = killRound(set, cluster, ids, ports, writer, writerFast, primary);
                            primary = set.servers().get((int) round[2]);
                            gaps.add(round[0]);
                            outages.add(round[1]);
                            endpoint.add(round[3]);
                            gapsFast.add(round[4]);
                            System.out.printf("round %d: new primary %s, kill to writable %d ms, writable to /primary 200 %d ms,"
                                    + " writable to first commit through haproxy %d ms (fail-fast haproxy %d ms)%n", r,
                                    primary.name(), round[1], round[3], round[0], round[4]);
                        }
                        writer.stop();
                        writerFast.stop();
                        rejections = writer.readOnlyRejections() + writerFast.readOnlyRejections();
                        p99 = healthP99(ports.get(primary));
                    }
                }
            } finally {
                daemons.forEach(FailoverDaemon::close);
            }
        }
        VipRounds.Result vip = null;
        if (VipRounds.available()) {
            vip = VipRounds.run(rounds);
        } else {
            System.out.println("virtual IP rounds skipped: they need root, ip, iptables and arping (bin/prereqs --for test)");
        }
        System.out.println();
        System.out.println("settings=daemons: monitor 500 ms, reconnect_attempts=3 200 ms apart; haproxy: inter 500ms fall 2"
                + " rise 1, httpchk GET /primary; writer every 10 ms through haproxy");
        System.out.println("rounds=" + rounds);
        System.out.println("kill_to_writable_runs_ms=" + outages);
        System.out.println("primary_endpoint_after_writable_runs_ms=" + endpoint);
        System.out.println("first_commit_after_writable_haproxy_runs_ms=" + gaps);
        System.out.println("first_commit_after_writable_haproxy_failfast_runs_ms=" + gapsFast);
        if (vip != null) {
            System.out.println("vip_after_writable_runs_ms=" + vip.vipAfterWritableMs());
            System.out.println("first_commit_after_writable_vip_runs_ms=" + vip.firstCommitAfterWritableMs());
            System.out.println("vip_samples=" + vip.samples());
            rejections += vip.readOnlyRejections();
        }
        Stats.figure("readonly_rejections", rejections);
        Stats.figure("primary_endpoint_after_writable_ms", Stats.median(endpoint));
        Stats.figure("first_commit_after_writable_haproxy_failfast_ms", Stats.median(gapsFast));
        Stats.figure("first_commit_after_writable_haproxy_ms", Stats.median(gaps));
        Stats.figure("health_endpoint_p99_us", p99);
        if (vip != null) {
            Stats.figure("first_commit_after_writable_vip_ms", Stats.median(vip.firstCommitAfterWritableMs()));
            Stats.figure("vip_on_two_nodes_samples", vip.samplesOnTwo());
        }
    }

    private static NodeConfig config(PgServer s, Map<PgServer, Integer> ids) {
        return NodeConfig.builder().nodeId(ids.get(s)).nodeName(s.name()).conninfo(s.conninfo())
                .dataDirectory(s.dataDirectory().toString()).pgBindir(s.bindir().toString())
                .failover(FailoverMode.AUTOMATIC).monitorIntervalSecs(1).reconnectAttempts(3).reconnectInterval(1).build();
    }

    private static PgWriter startWriter(HaProxy haproxy, PgServer any, long firstId) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (true) {
            try {
                return PgWriter.startVia(haproxy.host(), haproxy.port(), any, Duration.ofMillis(10), firstId);
            } catch (RuntimeException e) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("no connection through haproxy: " + e.getMessage() + "\n" + haproxy.log(), e);
                }
                Thread.sleep(100);
            }
        }
    }

    /** {writable-to-first-commit ms, kill-to-writable ms, index of the new primary, writable-to-/primary-200 ms, the same as the first through the fail-fast haproxy}. */
    private static long[] killRound(PgReplicaSet set, ReplicationCluster cluster, Map<PgServer, Integer> ids,
                                    Map<PgServer, Integer> ports, PgWriter writer, PgWriter writerFast, PgServer primary)
            throws SQLException, InterruptedException {
        List<PgServer> standbys = set.servers().stream().filter(s -> s != primary).toList();
        for (PgServer s : standbys) {
            primary.waitForStreaming(s, Duration.ofSeconds(60));
        }
        writer.awaitCommits(50, Duration.ofSeconds(60));
        writerFast.awaitCommits(50, Duration.ofSeconds(60));
        List<Connection> watch = new ArrayList<>();
        try {
            for (PgServer s : standbys) {
                watch.add(s.connect());
            }
            long t0 = System.nanoTime();
            primary.kill9();
            long deadline = t0 + Duration.ofMinutes(2).toNanos();
            Probes.Promoted p = Probes.firstWritable(watch, deadline);
            long writableAt = p.writableAt();
            int winner = p.index();
            PgServer winnerServer = standbys.get(winner);
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
            HttpRequest check = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + ports.get(winnerServer) + "/primary"))
                    .timeout(Duration.ofSeconds(2)).build();
            long endpointAt = 0;
            OptionalLong first = OptionalLong.empty();
            OptionalLong firstFast = OptionalLong.empty();
            while (first.isEmpty() || firstFast.isEmpty() || endpointAt == 0) {
                if (endpointAt == 0) {
                    try {
                        if (http.send(check, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                            endpointAt = System.nanoTime();
                        }
                    } catch (IOException e) {
                        // not answering yet
                    }
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("no commit through haproxy within 2 minutes of the kill");
                }
                first = writer.firstCommitAfter(writableAt);
                firstFast = writerFast.firstCommitAfter(writableAt);
                Thread.sleep(2);
            }
            cluster.rejoin(config(primary, ids)).forceRewind(true).recoverCrashedNode(true).timeout(Duration.ofSeconds(120))
                    .execute();
            winnerServer.waitForStreaming(primary, Duration.ofSeconds(60));
            return new long[] {(first.getAsLong() - writableAt) / 1_000_000, (writableAt - t0) / 1_000_000,
                    set.servers().indexOf(winnerServer), (endpointAt - writableAt) / 1_000_000,
                    (firstFast.getAsLong() - writableAt) / 1_000_000};
        } finally {
            for (Connection c : watch) {
                c.close();
            }
        }
    }

    /** 200 requests per second for 10 s, one at a time from a paced loop; the 99th percentile in microseconds. */
    private static long healthP99(int port) throws IOException, InterruptedException {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/primary"))
                .timeout(Duration.ofSeconds(5)).build();
        for (int i = 0; i < 200; i++) { // warm-up
            client.send(req, HttpResponse.BodyHandlers.discarding());
        }
        List<Long> us = new ArrayList<>();
        long period = 5_000_000L; // 200/s
        long next = System.nanoTime();
        int non200 = 0;
        for (int i = 0; i < 2000; i++) {
            long wait = next - System.nanoTime();
            if (wait > 0) {
                Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
            }
            long t = System.nanoTime();
            HttpResponse<Void> r = client.send(req, HttpResponse.BodyHandlers.discarding());
            us.add((System.nanoTime() - t) / 1_000);
            if (r.statusCode() != 200) {
                non200++;
            }
            next += period;
        }
        Collections.sort(us);
        System.out.printf("health endpoint: %d requests, median %d us, p99 %d us, max %d us, non-200 answers %d%n", us.size(),
                us.get(us.size() / 2), us.get((int) Math.ceil(us.size() * 0.99) - 1), us.get(us.size() - 1), non200);
        return us.get((int) Math.ceil(us.size() * 0.99) - 1);
    }
}
