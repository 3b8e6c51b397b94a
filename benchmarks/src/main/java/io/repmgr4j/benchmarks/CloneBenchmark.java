package io.repmgr4j.benchmarks;

import io.repmgr4j.CloneReport;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.core.ReplicationClusters;
import io.repmgr4j.spi.Command;
import io.repmgr4j.spi.CommandResult;
import io.repmgr4j.testkit.PgSandbox;
import io.repmgr4j.testkit.PgServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code benchmarks/run clone [ROUNDS]}: what the library's standby clone costs on top of
 * the pg_basebackup it runs. Builds a source of about 300 MB ({@code pgbench -i -s 20}),
 * then, alternating, clones it with the library ({@code cloneStandby(...).execute()}:
 * checks, copy, recovery settings, event) and with plain
 * {@code pg_basebackup -X stream -c fast}, each into a fresh directory, ROUNDS times each
 * (default 11, at least 3) after one warm-up of each, each after a {@code sync} (not
 * timed) so that no run writes back another's data. Prints the runs and their medians:
 * {@code clone_ms}, {@code raw_basebackup_ms}, {@code clone_overhead_ratio} (the ratio of
 * those medians; goal: at most 1.02), the median of the rounds' own ratios
 * ({@code clone_paired_ratio}), and the library's own share ({@code clone_library_ms}:
 * everything but the copy, and {@code clone_library_share}: that over the raw median).
 */
public final class CloneBenchmark {
    /** Copies on this machine vary by ±10 % from run to run: medians of many rounds steady the ratio. */
    private static final int DEFAULT_ROUNDS = 11;

    private CloneBenchmark() {
    }

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Math.max(3, Integer.parseInt(args[0])) : DEFAULT_ROUNDS;
        try (PgServer source = PgServer.builder().name("bench1").start();
             ReplicationCluster cluster = ReplicationClusters.connect(source.conninfo())) {
            CommandResult init = source.runner().run(Command.of(source.bindir().resolve("pgbench").toString(),
                            "-i", "-s", "20", "-q", "-h", source.host(), "-p", String.valueOf(source.port()), "-U", "repmgr", "repmgr")
                    .withTimeout(Duration.ofMinutes(10)));
            if (!init.succeeded()) {
                throw new IllegalStateException("pgbench -i failed: " + init.lastErrorLine());
            }
            long size = source.query("SELECT sum(pg_database_size(oid))::bigint FROM pg_database", Long.class);
            System.out.println("source_bytes=" + size);
            cluster.registerPrimary(NodeConfig.builder().nodeId(1).nodeName("bench1").conninfo(source.conninfo())
                    .dataDirectory(source.dataDirectory().toString()).pgBindir(source.bindir().toString()).build()).execute();

            libraryClone(cluster, 0); // warm-up: class loading, JIT, first connections, page cache
            rawClone(source);
            List<Long> clone = new ArrayList<>();
            List<Long> raw = new ArrayList<>();
            List<Long> library = new ArrayList<>();
            for (int r = 1; r <= rounds; r++) {
                long[] c = libraryClone(cluster, r);
                clone.add(c[0]);
                library.add(c[1]);
                raw.add(rawClone(source));
            }
            double cloneMs = Stats.median(clone);
            double rawMs = Stats.median(raw);
            System.out.println("rounds=" + rounds);
            System.out.println("clone_runs_ms=" + clone);
            System.out.println("raw_basebackup_runs_ms=" + raw);
            System.out.println("clone_library_runs_ms=" + library);
            Stats.figure("clone_library_ms", Stats.median(library));
            Stats.figure("clone_ms", cloneMs);
            Stats.figure("raw_basebackup_ms", rawMs);
            List<Double> paired = new ArrayList<>();
            for (int i = 0; i < clone.size(); i++) {
                paired.add((double) clone.get(i) / raw.get(i));
            }
            java.util.Collections.sort(paired);
            double pairedMedian = paired.size() % 2 == 1 ? paired.get(paired.size() / 2)
                    : (paired.get(paired.size() / 2 - 1) + paired.get(paired.size() / 2)) / 2;
            System.out.println("clone_library_share=" + String.format("%.3f", Stats.median(library) / rawMs));
            System.out.println("clone_paired_ratio=" + String.format("%.3f", pairedMedian));
            System.out.println("clone_overhead_ratio=" + String.format("%.3f", cloneMs / rawMs));
        }
    }

    /** One library clone into a fresh sandbox; returns {total ms, ms spent outside pg_basebackup}. */
    private static long[] libraryClone(ReplicationCluster cluster, int round) {
        try (PgSandbox target = PgSandbox.allocate("bclone" + round)) {
            NodeConfig node = NodeConfig.builder().nodeId(100 + round).nodeName("bclone" + round).conninfo(target.conninfo())
                    .dataDirectory(target.dataDirectory().toString()).pgBindir(target.bindir().toString()).build();
            settle(target);
            long t0 = System.nanoTime();
            CloneReport report = cluster.cloneStandby(node).fastCheckpoint(true).execute();
            long total = (System.nanoTime() - t0) / 1_000_000;
            return new long[] {total, total - report.copyDuration().toMillis()};
        }
    }

    /**
     * Flushes what earlier rounds left in the page cache (their copies and deletions), so
     * that no run pays for writing back another's data. Not timed.
     */
    private static void settle(PgSandbox target) {
        target.runner().run(Command.of("sync").withTimeout(Duration.ofMinutes(2)));
    }

    /** One plain pg_basebackup into a fresh sandbox, run through the same kind of runner; returns ms. */
    private static long rawClone(PgServer source) {
        try (PgSandbox target = PgSandbox.allocate("braw")) {
            Command cmd = Command.of(target.bindir().resolve("pg_basebackup").toString(), "-D", target.dataDirectory().toString(),
                    "-h", source.host(), "-p", String.valueOf(source.port()), "-U", "repmgr", "-X", "stream", "-c", "fast")
                    .withTimeout(Duration.ofMinutes(10));
            settle(target);
            long t0 = System.nanoTime();
            CommandResult r = target.runner().run(cmd);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            if (!r.succeeded()) {
                throw new IllegalStateException("pg_basebackup failed: " + r.lastErrorLine());
            }
            return ms;
        }
    }
}
