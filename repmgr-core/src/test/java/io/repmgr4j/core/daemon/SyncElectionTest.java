package io.repmgr4j.core.daemon;

import static io.repmgr4j.core.daemon.DaemonTestSupport.await;
import static io.repmgr4j.core.daemon.DaemonTestSupport.config;
import static io.repmgr4j.core.daemon.DaemonTestSupport.fast;
import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.DaemonEvents;
import io.repmgr4j.FailoverDaemon;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.SyncEvents;
import io.repmgr4j.SyncMode;
import io.repmgr4j.SynchronousRecord;
import io.repmgr4j.core.ReplicationClusters;
import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import io.repmgr4j.testkit.PgWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Elections that read the synchronous record, on real servers: an asynchronous standby with
 * the best priority and its replay paused is not promoted while the sync standby holds
 * more; in quorum mode, with the primary and a voter gone together, the one voter left does
 * not promote itself and says why.
 */
class SyncElectionTest {
    private PgReplicaSet set;
    private ReplicationCluster cluster;
    private final List<FailoverDaemon> daemons = new ArrayList<>();
    private final DaemonTestSupport.Recorder recorder = new DaemonTestSupport.Recorder();

    @AfterEach
    void stop() {
        daemons.forEach(FailoverDaemon::close);
        if (cluster != null) {
            cluster.close();
        }
        if (set != null) {
            set.close();
        }
    }

    private void startSet(int pg2Priority, int pg3Priority) {
        set = PgReplicaSet.start(3);
        cluster = ReplicationClusters.connect(set.primary().conninfo());
        cluster.registerPrimary(config(1, set.server("pg1"), 100)).execute();
        cluster.registerStandby(config(2, set.server("pg2"), pg2Priority)).waitUntilAttached(Duration.ofSeconds(30)).execute();
        cluster.registerStandby(config(3, set.server("pg3"), pg3Priority)).waitUntilAttached(Duration.ofSeconds(30)).execute();
    }

    private void startDaemons(int pg2Priority, int pg3Priority) {
        daemons.add(cluster.daemon(config(1, set.server("pg1"), 100), fast()).addListener(recorder).start());
        daemons.add(cluster.daemon(config(2, set.server("pg2"), pg2Priority), fast()).addListener(recorder).start());
        daemons.add(cluster.daemon(config(3, set.server("pg3"), pg3Priority), fast()).addListener(recorder).start());
    }

    @Test
    void aLaggingAsynchronousStandbyIsNotPromotedWhileTheSyncOneHoldsMore() {
        startSet(100, 50);
        PgServer pg1 = set.server("pg1");
        PgServer pg2 = set.server("pg2");
        PgServer pg3 = set.server("pg3");
        cluster.synchronousReplication().mode(SyncMode.PRIORITY).candidate("pg2", false).apply();
        startDaemons(100, 50);
        await("pg3 synchronous", Duration.ofSeconds(20), () -> SyncTestSupport.settled(pg1, SynchronousRecord.Kind.PRIORITY, 1));
        assertThat(SyncTestSupport.syncStates(pg1)).containsExactly("pg2=async", "pg3=sync");
        pg2.execute("SELECT pg_wal_replay_pause()");
        try (PgWriter w = PgWriter.start(set.servers(), Duration.ofMillis(10))) {
            w.awaitCommits(50, Duration.ofSeconds(20));
            pg1.kill9();
            long dead = System.nanoTime();
            await("a new primary", Duration.ofSeconds(30), () -> SyncTestSupport.writable(pg2) || SyncTestSupport.writable(pg3));
            assertThat(SyncTestSupport.writable(pg3)).as("the sync standby pg3 is promoted").isTrue();
            assertThat(SyncTestSupport.writable(pg2)).as("the lagging async standby pg2 (priority 100) is not").isFalse();
            await("a commit on pg3", Duration.ofSeconds(30), () -> w.firstCommitAfter(dead).isPresent());
            assertThat(w.missingOn(pg3, System.nanoTime())).isEmpty();
        }
        await("the promotion event", Duration.ofSeconds(10), () -> recorder.has(DaemonEvents.REPMGRD_FAILOVER_PROMOTE));
        assertThat(recorder.events).filteredOn(e -> e.event().equals(DaemonEvents.REPMGRD_FAILOVER_PROMOTE))
                .extracting(e -> e.nodeId()).containsExactly(3);
    }

    @Test
    void aSyncStandbyBehindAnAsynchronousSiblingFetchesTheRestFromItBeforePromoting() throws Exception {
        startSet(100, 50);
        PgServer pg1 = set.server("pg1");
        PgServer pg2 = set.server("pg2");
        PgServer pg3 = set.server("pg3");
        cluster.synchronousReplication().mode(SyncMode.PRIORITY).candidate("pg3", false).apply();
        startDaemons(100, 50);
        await("pg2 synchronous", Duration.ofSeconds(20), () -> SyncTestSupport.settled(pg1, SynchronousRecord.Kind.PRIORITY, 1));
        assertThat(SyncTestSupport.syncStates(pg1)).containsExactly("pg2=sync", "pg3=async");
        // hold pg1's WAL sender to pg2, so that WAL written without waiting for pg2 reaches only pg3
        long sender = pg1.query("SELECT pid FROM pg_stat_replication WHERE application_name = 'pg2'", Integer.class);
        signal("STOP", sender);
        boolean killed = false;
        try {
            try (java.sql.Connection c = pg1.connect(); java.sql.Statement st = c.createStatement()) {
                st.execute("SET synchronous_commit = local");
                st.execute("CREATE TABLE only_on_pg3 AS SELECT g AS i FROM generate_series(1, 1000) g");
            }
            await("pg3 to replay the table", Duration.ofSeconds(20),
                    () -> pg3.query("SELECT count(*) FROM pg_class WHERE relname = 'only_on_pg3'", Long.class) == 1L);
            assertThat(pg2.query("SELECT count(*) FROM pg_class WHERE relname = 'only_on_pg3'", Long.class)).isZero();
            pg1.kill9();
            killed = true;
        } finally {
            // the held sender would keep pg2's connection open; once the postmaster is gone it may go
            signal(killed ? "KILL" : "CONT", sender);
        }
        await("a new primary", Duration.ofSeconds(30), () -> SyncTestSupport.writable(pg2) || SyncTestSupport.writable(pg3));
        assertThat(SyncTestSupport.writable(pg2)).as("the recorded synchronous standby pg2 is promoted").isTrue();
        // it fetched from pg3 what only pg3 had received, so pg3 follows it without diverging
        assertThat(pg2.query("SELECT count(*) FROM only_on_pg3", Long.class)).isEqualTo(1000L);
        await("pg3 streaming from pg2", Duration.ofSeconds(30), () -> pg2.query(
                "SELECT count(*) FROM pg_stat_replication WHERE application_name = 'pg3' AND state = 'streaming'",
                Long.class) == 1L);
        await("pg3's follow event", Duration.ofSeconds(10), () -> recorder.has(DaemonEvents.REPMGRD_FAILOVER_FOLLOW));
        assertThat(recorder.events).filteredOn(e -> e.event().equals(DaemonEvents.REPMGRD_FAILOVER_FOLLOW))
                .allSatisfy(e -> assertThat(e.successful()).as(e.details().orElse("")).isTrue());
    }

    private static void signal(String sig, long pid) throws Exception {
        Process p = new ProcessBuilder("kill", "-" + sig, Long.toString(pid)).redirectErrorStream(true).start();
        if (!p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new AssertionError("kill -" + sig + " " + pid + " failed: " + new String(p.getInputStream().readAllBytes()));
        }
    }

    @Test
    void quorumWithTooFewVotersDoesNotPromoteAndSaysWhy() {
        startSet(100, 100);
        PgServer pg1 = set.server("pg1");
        PgServer pg2 = set.server("pg2");
        PgServer pg3 = set.server("pg3");
        cluster.synchronousReplication().mode(SyncMode.QUORUM).count(1).apply();
        startDaemons(100, 100);
        await("ANY 1 of 2", Duration.ofSeconds(20), () -> SyncTestSupport.settled(pg1, SynchronousRecord.Kind.QUORUM, 2));
        pg1.execute("CREATE TABLE quorum_probe (i int)");
        await("pg3 to hold the record", Duration.ofSeconds(10), () -> SyncTestSupport.record(pg3)
                .map(r -> r.kind() == SynchronousRecord.Kind.QUORUM && r.members().size() == 2).orElse(false));
        daemons.get(1).close(); // pg2's daemon and server go away with the primary
        pg2.kill9();
        pg1.kill9();
        await("synchronous_failover_blocked", Duration.ofSeconds(30), () -> recorder.has(SyncEvents.SYNCHRONOUS_FAILOVER_BLOCKED));
        assertThat(recorder.events).filteredOn(e -> e.event().equals(SyncEvents.SYNCHRONOUS_FAILOVER_BLOCKED)).first()
                .satisfies(e -> {
                    assertThat(e.nodeId()).isEqualTo(3);
                    assertThat(e.details().orElse("")).startsWith("only 1 of the 2 recorded synchronous standbys (pg2, pg3)"
                            + " answer; with a quorum of 1 at least 2 must answer");
                });
        DaemonTestSupport.sleep(2000); // several more monitor intervals: the daemon keeps trying, and still refuses
        assertThat(pg3.inRecovery()).isTrue();
        assertThat(recorder.has(DaemonEvents.REPMGRD_FAILOVER_PROMOTE)).isFalse();
        assertThat(recorder.events).filteredOn(e -> e.event().equals(SyncEvents.SYNCHRONOUS_FAILOVER_BLOCKED)).hasSize(1);
    }
}
