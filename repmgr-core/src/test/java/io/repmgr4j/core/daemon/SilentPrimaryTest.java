package io.repmgr4j.core.daemon;

import static io.repmgr4j.core.daemon.DaemonTestSupport.await;
import static io.repmgr4j.core.daemon.DaemonTestSupport.config;
import static io.repmgr4j.core.daemon.DaemonTestSupport.fast;
import static io.repmgr4j.core.daemon.DaemonTestSupport.isPrimary;
import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.DaemonEvents;
import io.repmgr4j.DaemonMode;
import io.repmgr4j.DaemonOptions;
import io.repmgr4j.FailoverDaemon;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.core.ReplicationClusters;
import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A primary that goes silent without refusing connections: every process of pg1 is
 * stopped with SIGSTOP, so the kernel still accepts TCP connections on its port but
 * nothing answers (a hung host, the way a standby sees a partition). The standbys find
 * no positive evidence, hold the promotion for the fence hold, then fail over; when pg1
 * resumes (SIGCONT) as a writable primary on its old timeline, its own daemon finds the
 * newer primary and fences it.
 */
class SilentPrimaryTest {

    @Test
    void silenceHoldsThePromotionAndTheResumedOldPrimaryIsFenced() throws Exception {
        List<FailoverDaemon> daemons = new ArrayList<>();
        DaemonTestSupport.Recorder recorder = new DaemonTestSupport.Recorder();
        Map<String, Long> firstSeen = new ConcurrentHashMap<>();
        DaemonOptions options = DaemonOptions.builder().from(fast()).primaryIsolationTimeout(Duration.ofSeconds(2)).build();
        List<Long> stopped = new ArrayList<>();
        try (PgReplicaSet set = PgReplicaSet.start(3);
             ReplicationCluster cluster = ReplicationClusters.connect(set.primary().conninfo())) {
            PgServer pg1 = set.server("pg1");
            cluster.registerPrimary(config(1, pg1, 100)).execute();
            cluster.registerStandby(config(2, set.server("pg2"), 80)).waitUntilAttached(Duration.ofSeconds(30)).execute();
            cluster.registerStandby(config(3, set.server("pg3"), 20)).waitUntilAttached(Duration.ofSeconds(30)).execute();
            int id = 1;
            for (PgServer s : set.servers()) {
                daemons.add(cluster.daemon(config(id, s, id == 1 ? 100 : id == 2 ? 80 : 20), options).addListener(recorder)
                        .addListener(e -> firstSeen.putIfAbsent(e.event() + "@" + e.nodeId(), System.nanoTime())).start());
                id++;
            }
            await("standbys to see pg1", Duration.ofSeconds(10), () -> daemons.get(1).status().upstreamLastSeen().isPresent()
                    && daemons.get(2).status().upstreamLastSeen().isPresent());

            ProcessHandle postmaster = ProcessHandle.of(pg1.postmasterPid()).orElseThrow();
            stopped.add(postmaster.pid());
            postmaster.descendants().forEach(p -> stopped.add(p.pid()));
            long t0 = System.nanoTime();
            signal("STOP", stopped);
            try {
                await("pg2 promoted", Duration.ofSeconds(60), () -> isPrimary(set.server("pg2")));
                long promoted = firstSeen.getOrDefault(DaemonEvents.REPMGRD_FAILOVER_PROMOTE + "@2", System.nanoTime());
                FenceSettings fs = FenceSettings.of(DaemonSettings.of(config(2, set.server("pg2"), 80), options), options);
                System.out.printf("silent primary: SIGSTOP -> promotion %d ms (fence hold %d ms, counted from the"
                        + " standby's first failed check)%n", (promoted - t0) / 1_000_000, fs.fenceHold().toMillis());
                assertThat(recorder.names()).doesNotContain(DaemonEvents.PRIMARY_FENCED);
            } finally {
                signal("CONT", stopped);
            }
            await("pg1, resumed as a stale primary, fenced by its own daemon", Duration.ofSeconds(60), () -> {
                try {
                    return pg1.isRunning() && pg1.inRecovery();
                } catch (RuntimeException e) {
                    return false;
                }
            });
            await("pg1's daemon in fenced mode", Duration.ofSeconds(20), () -> daemons.get(0).status().mode() == DaemonMode.FENCED);
            assertThat(recorder.events).filteredOn(e -> e.event().equals(DaemonEvents.PRIMARY_FENCED) && e.nodeId() == 1)
                    .isNotEmpty().allSatisfy(e -> assertThat(e.details().orElse("")).contains("stale primary"));
            assertThat(isPrimary(set.server("pg2"))).isTrue();
            assertThat(set.server("pg3").inRecovery()).isTrue();
        } finally {
            if (!stopped.isEmpty()) {
                signal("CONT", stopped);
            }
            daemons.forEach(FailoverDaemon::close);
        }
    }

    private static void signal(String sig, List<Long> pids) throws IOException, InterruptedException {
        List<String> argv = new ArrayList<>(List.of("kill", "-" + sig));
        pids.forEach(p -> argv.add(String.valueOf(p)));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
    }
}
