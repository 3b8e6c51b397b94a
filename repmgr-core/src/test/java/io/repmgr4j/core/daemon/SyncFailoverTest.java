package io.repmgr4j.core.daemon;

import static io.repmgr4j.core.daemon.DaemonTestSupport.await;
import static io.repmgr4j.core.daemon.DaemonTestSupport.config;
import static io.repmgr4j.core.daemon.DaemonTestSupport.fast;
import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.FailoverDaemon;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.SyncMode;
import io.repmgr4j.SynchronousRecord;
import io.repmgr4j.core.ReplicationClusters;
import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import io.repmgr4j.testkit.PgWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Repeated kill -9 failovers with a writer counting acknowledged commits, first in priority
 * mode ({@code FIRST 1}), then in quorum mode ({@code ANY 1} of 2): no acknowledged commit is
 * ever missing on the new primary, and there are never two writable primaries. Rounds per
 * mode: {@code -Drepmgr4j.syncRounds} (default 5; the benchmark runs 30).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SyncFailoverTest {
    private static final int ROUNDS = Integer.getInteger("repmgr4j.syncRounds", 5);
    private PgReplicaSet set;
    private ReplicationCluster cluster;
    private final List<FailoverDaemon> daemons = new ArrayList<>();
    private final Map<PgServer, Integer> ids = new LinkedHashMap<>();
    private PgWriter writer;
    private PgServer primary;
    private final AtomicBoolean watching = new AtomicBoolean(true);
    private final AtomicInteger twoPrimaries = new AtomicInteger();
    private Thread watcher;

    @BeforeAll
    void start() {
        set = PgReplicaSet.start(3, b -> b.setting("wal_retrieve_retry_interval", "200ms"));
        ReplicationClusters.Builder builder = ReplicationClusters.builder();
        int id = 1;
        for (PgServer s : set.servers()) {
            ids.put(s, id++);
            builder.seed(s.conninfo());
        }
        cluster = builder.build();
        cluster.registerPrimary(cfg(set.server("pg1"))).execute();
        cluster.registerStandby(cfg(set.server("pg2"))).waitUntilAttached(Duration.ofSeconds(30)).execute();
        cluster.registerStandby(cfg(set.server("pg3"))).waitUntilAttached(Duration.ofSeconds(30)).execute();
        primary = set.server("pg1");
        for (PgServer s : set.servers()) {
            daemons.add(cluster.daemon(cfg(s), fast()).start());
        }
        writer = PgWriter.start(set.servers(), Duration.ofMillis(10));
        watcher = new Thread(() -> {
            while (watching.get()) {
                if (set.servers().stream().filter(SyncTestSupport::writable).count() > 1) {
                    twoPrimaries.incrementAndGet();
                }
                DaemonTestSupport.sleep(20);
            }
        }, "two-primaries-watch");
        watcher.setDaemon(true);
        watcher.start();
    }

    @AfterAll
    void stop() throws InterruptedException {
        watching.set(false);
        if (watcher != null) {
            watcher.join(5000);
        }
        if (writer != null) {
            writer.close();
        }
        daemons.forEach(FailoverDaemon::close);
        if (cluster != null) {
            cluster.close();
        }
        if (set != null) {
            set.close();
        }
    }

    private NodeConfig cfg(PgServer s) {
        return config(ids.get(s), s, 100);
    }

    private void rounds(SynchronousRecord.Kind kind, int members) {
        for (int r = 1; r <= ROUNDS; r++) {
            PgServer p = primary;
            List<PgServer> standbys = set.servers().stream().filter(s -> s != p).toList();
            for (PgServer s : standbys) {
                p.waitForStreaming(s, Duration.ofSeconds(60));
            }
            await("round " + r + ": " + p.name() + " to run " + kind + " with " + members + " member(s)",
                    Duration.ofSeconds(30), () -> SyncTestSupport.settled(p, kind, members));
            writer.awaitCommits(20, Duration.ofSeconds(30));
            p.kill9();
            long dead = System.nanoTime();
            await("round " + r + ": a new primary", Duration.ofSeconds(60),
                    () -> standbys.stream().anyMatch(SyncTestSupport::writable));
            PgServer winner = standbys.stream().filter(SyncTestSupport::writable).findFirst().orElseThrow();
            await("round " + r + ": a commit on " + winner.name(), Duration.ofSeconds(60),
                    () -> writer.firstCommitAfter(dead).isPresent());
            assertThat(writer.missingOn(winner, System.nanoTime())).as("acknowledged commits missing after round " + r)
                    .isEmpty();
            cluster.rejoin(cfg(p)).forceRewind(true).recoverCrashedNode(true).timeout(Duration.ofSeconds(120)).execute();
            winner.waitForStreaming(p, Duration.ofSeconds(60));
            primary = winner;
        }
        assertThat(twoPrimaries.get()).as("moments with two writable primaries").isZero();
    }

    @Test
    @Order(1)
    void priorityModeLosesNoAcknowledgedCommitOverRepeatedFailovers() {
        cluster.synchronousReplication().mode(SyncMode.PRIORITY).count(1).strict(false)
                .degradeTimeout(Duration.ofSeconds(30)).apply();
        rounds(SynchronousRecord.Kind.PRIORITY, 1);
    }

    @Test
    @Order(2)
    void quorumModeLosesNoAcknowledgedCommitOverRepeatedFailovers() {
        cluster.synchronousReplication().mode(SyncMode.QUORUM).count(1).apply();
        rounds(SynchronousRecord.Kind.QUORUM, 2);
    }
}
