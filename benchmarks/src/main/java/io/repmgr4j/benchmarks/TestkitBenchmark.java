package io.repmgr4j.benchmarks;

import io.repmgr4j.testcontainers.PgContainerReplicaSet;
import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code benchmarks/run testkit [ROUNDS]}: how long a test waits for a replica set of three
 * streaming nodes. {@code replica_set_start_ms}: {@code PgReplicaSet.start(3)} with local
 * PostgreSQL programs, from nothing to pg2 and pg3 streaming (median of ROUNDS, default 5),
 * with where the time goes: the primary (initdb, start, role and database) and each standby
 * (pg_basebackup, start, streaming). {@code replica_set_start_containers_ms}: the same with
 * {@code PgContainerReplicaSet.start(3)} (container start included; the image must exist),
 * or {@code n/a} with the reason when no Docker engine answers. Closing is not timed.
 */
public final class TestkitBenchmark {
    private TestkitBenchmark() {
    }

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        // warm-up: class loading, the first initdb's cold page cache
        PgReplicaSet.start(1).close();

        List<Long> total = new ArrayList<>();
        List<Long> primary = new ArrayList<>();
        List<Long> standby = new ArrayList<>();
        for (int i = 0; i < rounds; i++) {
            long t0 = System.nanoTime();
            try (PgReplicaSet set = PgReplicaSet.start(3)) {
                total.add(ms(t0));
            }
            // the same steps one by one, for the breakdown
            long p0 = System.nanoTime();
            try (PgServer pg1 = PgServer.builder().name("bench1").start()) {
                primary.add(ms(p0));
                long s0 = System.nanoTime();
                try (PgServer pg2 = pg1.createStandby("bench2")) {
                    standby.add(ms(s0));
                }
            }
        }
        System.out.println("replica_set_start_runs_ms=" + total);
        System.out.println("primary_start_runs_ms=" + primary);
        System.out.println("standby_clone_runs_ms=" + standby);

        String containers;
        List<Long> ct = new ArrayList<>();
        try {
            int crounds = Math.max(1, Math.min(rounds, 3));
            PgContainerReplicaSet.start(1).close(); // warm-up: the Docker client, the image's first use
            for (int i = 0; i < crounds; i++) {
                long t0 = System.nanoTime();
                try (PgContainerReplicaSet set = PgContainerReplicaSet.start(3)) {
                    ct.add(ms(t0));
                }
            }
            System.out.println("replica_set_start_containers_runs_ms=" + ct);
            containers = null;
        } catch (RuntimeException e) {
            containers = e.getClass().getSimpleName() + ": " + e.getMessage();
        }

        System.out.println("rounds=" + rounds);
        Stats.figure("primary_start_ms", Stats.median(primary));
        Stats.figure("standby_clone_ms", Stats.median(standby));
        Stats.figure("replica_set_start_ms", Stats.median(total));
        if (containers == null) {
            Stats.figure("replica_set_start_containers_ms", Stats.median(ct));
        } else {
            System.out.println("# containers not measured: " + containers.lines().findFirst().orElse(""));
            System.out.println("replica_set_start_containers_ms=n/a");
        }
    }

    private static long ms(long t0) {
        return (System.nanoTime() - t0) / 1_000_000;
    }
}
