package io.repmgr4j.core.daemon;

import static io.repmgr4j.core.daemon.DaemonTestSupport.await;
import static io.repmgr4j.core.daemon.DaemonTestSupport.config;
import static io.repmgr4j.core.daemon.DaemonTestSupport.fast;
import static io.repmgr4j.core.daemon.DaemonTestSupport.isPrimary;
import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.DaemonEvents;
import io.repmgr4j.EventRecord;
import io.repmgr4j.FailoverDaemon;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.core.ReplicationClusters;
import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Two standbys with the same priority and the same LSN, a daemon on every node, and the
 * primary killed, round after round (the old primary rejoins as a standby between
 * rounds): a sampler watching both standbys never sees two of them writable at once, and
 * each round has exactly one promotion, whose loser follows the winner.
 */
class TwoStandbysRaceTest {
    private static final int ROUNDS = 5;

    @Test
    void twoEqualStandbysNeverBothPromote() {
        List<FailoverDaemon> daemons = new ArrayList<>();
        try (PgReplicaSet set = PgReplicaSet.start(3, b -> b.setting("wal_retrieve_retry_interval", "200ms"));
             ReplicationCluster cluster = ReplicationClusters.connect(set.primary().conninfo())) {
            Map<PgServer, NodeConfig> configs = new HashMap<>();
            int id = 1;
            for (PgServer s : set.servers()) {
                configs.put(s, config(id++, s, 100));
            }
            cluster.registerPrimary(configs.get(set.server("pg1"))).execute();
            cluster.registerStandby(configs.get(set.server("pg2"))).waitUntilAttached(Duration.ofSeconds(30)).execute();
            cluster.registerStandby(configs.get(set.server("pg3"))).waitUntilAttached(Duration.ofSeconds(30)).execute();
            DaemonTestSupport.Recorder recorder = new DaemonTestSupport.Recorder();
            for (PgServer s : set.servers()) {
                daemons.add(cluster.daemon(configs.get(s), fast()).addListener(recorder).start());
            }

            PgServer primary = set.server("pg1");
            for (int round = 1; round <= ROUNDS; round++) {
                PgServer killed = primary;
                List<PgServer> standbys = set.servers().stream().filter(s -> s != killed).toList();
                waitCaughtUp(primary, standbys);
                int before = recorder.events.size();
                try (Sampler sampler = new Sampler(standbys)) {
                    primary.kill9();
                    await("round " + round + ": a standby promoted", Duration.ofSeconds(30),
                            () -> standbys.stream().anyMatch(DaemonTestSupport::isPrimary));
                    PgServer winner = standbys.stream().filter(DaemonTestSupport::isPrimary).findFirst().orElseThrow();
                    PgServer loser = standbys.stream().filter(s -> s != winner).findFirst().orElseThrow();
                    await("round " + round + ": the loser follows", Duration.ofSeconds(30), () -> recorder.events.stream()
                            .skip(before).anyMatch(e -> e.event().equals(DaemonEvents.REPMGRD_FAILOVER_FOLLOW)));
                    winner.waitForStreaming(loser, Duration.ofSeconds(10));
                    assertThat(sampler.maxWritable()).as("round %d: standbys writable at the same time", round).isLessThanOrEqualTo(1);
                    assertThat(isPrimary(loser)).isFalse();
                    List<EventRecord> promotions = recorder.events.stream().skip(before)
                            .filter(e -> e.event().equals(DaemonEvents.REPMGRD_FAILOVER_PROMOTE)).toList();
                    assertThat(promotions).as("round %d", round).singleElement()
                            .satisfies(e -> assertThat(e.nodeName()).hasValue(winner.name()));

                    cluster.rejoin(configs.get(primary)).forceRewind(true).recoverCrashedNode(true)
                            .timeout(Duration.ofSeconds(60)).execute();
                    winner.waitForStreaming(primary, Duration.ofSeconds(30));
                    primary = winner;
                }
            }
            assertThat(cluster.metadata().votingTerm()).isEqualTo(1 + ROUNDS);
        } finally {
            daemons.forEach(FailoverDaemon::close);
        }
    }

    private static void waitCaughtUp(PgServer primary, List<PgServer> standbys) {
        for (PgServer s : standbys) {
            primary.waitForStreaming(s, Duration.ofSeconds(30));
        }
        String lsn = primary.query("SELECT pg_current_wal_lsn()::text", String.class);
        await("standbys to replay " + lsn, Duration.ofSeconds(30), () -> standbys.stream().allMatch(s ->
                Boolean.TRUE.equals(s.query("SELECT pg_last_wal_receive_lsn() >= '" + lsn + "'::pg_lsn", Boolean.class))));
    }

    /** Checks every few milliseconds how many of the servers accept writes, and keeps the maximum. */
    private static final class Sampler implements AutoCloseable {
        private final AtomicBoolean stop = new AtomicBoolean();
        private final AtomicInteger max = new AtomicInteger();
        private final Thread thread;

        Sampler(List<PgServer> servers) {
            thread = new Thread(() -> {
                Connection[] conns = new Connection[servers.size()];
                while (!stop.get()) {
                    int writable = 0;
                    for (int i = 0; i < servers.size(); i++) {
                        try {
                            if (conns[i] == null) {
                                conns[i] = servers.get(i).connect();
                            }
                            try (Statement st = conns[i].createStatement();
                                 ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery()")) {
                                rs.next();
                                if (!rs.getBoolean(1)) {
                                    writable++;
                                }
                            }
                        } catch (SQLException | RuntimeException e) {
                            close(conns[i]);
                            conns[i] = null;
                        }
                    }
                    max.accumulateAndGet(writable, Math::max);
                    DaemonTestSupport.sleep(5);
                }
                for (Connection c : conns) {
                    close(c);
                }
            }, "race-sampler");
            thread.start();
        }

        int maxWritable() {
            return max.get();
        }

        private static void close(Connection c) {
            if (c != null) {
                try {
                    c.close();
                } catch (SQLException ignored) {
                    // a sampler connection
                }
            }
        }

        @Override
        public void close() {
            stop.set(true);
            try {
                thread.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
