package io.repmgr4j.core.daemon;

import static io.repmgr4j.core.daemon.DaemonTestSupport.await;
import static io.repmgr4j.core.daemon.DaemonTestSupport.config;
import static io.repmgr4j.core.daemon.DaemonTestSupport.fast;
import static io.repmgr4j.core.daemon.DaemonTestSupport.isPrimary;
import static io.repmgr4j.core.daemon.DaemonTestSupport.sleep;
import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.ConsensusConfig;
import io.repmgr4j.DaemonEvents;
import io.repmgr4j.DaemonOptions;
import io.repmgr4j.FailoverDaemon;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.core.ReplicationClusters;
import io.repmgr4j.spi.ConsensusStore;
import io.repmgr4j.spi.EventListener;
import io.repmgr4j.testkit.EtcdCluster;
import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import io.repmgr4j.testkit.PgWriter;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/**
 * The daemons with {@code consensus = etcd} on real servers (pg1 primary, pg2 and pg3
 * standbys, a daemon on each) and a real 3-member etcd: the primary holds the leader key; a
 * kill -9 of its PostgreSQL promotes exactly one standby, which took the key first, also
 * when etcd's Raft leader is lost at the same moment; one etcd member down changes nothing;
 * with every etcd member down the primary fences itself before its lease can end and
 * nobody is promoted.
 */
class EtcdFailoverTest {
    private static final Duration TTL = Duration.ofSeconds(4);
    private static final Duration CALL_TIMEOUT = Duration.ofMillis(800);

    /** A replica set with its daemons on etcd; closes everything. */
    private static final class Rig implements AutoCloseable {
        final DaemonTestSupport.Recorder recorder = new DaemonTestSupport.Recorder();
        final Map<String, Long> firstSeen = new ConcurrentHashMap<>();
        final List<FailoverDaemon> daemons = new ArrayList<>();
        EtcdCluster etcd;
        PgReplicaSet set;
        ReplicationCluster cluster;
        ConsensusStore store;

        Rig() {
            try {
                etcd = EtcdCluster.start(3);
                set = PgReplicaSet.start(3);
                cluster = ReplicationClusters.connect(set.primary().conninfo());
                ConsensusConfig consensus = ConsensusConfig.builder()
                        .endpoints(Arrays.stream(etcd.endpoints().split(",")).map(URI::create).toList())
                        .ttl(TTL).timeout(CALL_TIMEOUT).build();
                // the test's own reads: a longer timeout than the daemons' (a loaded machine), never campaigning
                store = ConsensusStore.open(ConsensusConfig.builder().from(consensus).ttl(Duration.ofSeconds(10))
                        .timeout(Duration.ofSeconds(3)).build());
                cluster.registerPrimary(config(1, set.server("pg1"), 100)).execute();
                cluster.registerStandby(config(2, set.server("pg2"), 80)).waitUntilAttached(Duration.ofSeconds(30)).execute();
                cluster.registerStandby(config(3, set.server("pg3"), 20)).waitUntilAttached(Duration.ofSeconds(30)).execute();
                DaemonOptions options = DaemonOptions.builder().from(fast()).consensus(consensus).build();
                EventListener clock = e -> firstSeen.putIfAbsent(e.event() + "@" + e.nodeId(), System.nanoTime());
                for (int id = 1; id <= 3; id++) {
                    int priority = id == 1 ? 100 : id == 2 ? 80 : 20;
                    daemons.add(cluster.daemon(config(id, set.server("pg" + id), priority), options)
                            .addListener(recorder).addListener(clock).start());
                }
                await("pg1 to hold the leader key", Duration.ofSeconds(30), () -> {
                    try {
                        return store.leader().map(l -> l.name().equals("pg1")).orElse(false);
                    } catch (io.repmgr4j.spi.ConsensusException e) {
                        return false; // the first calls may be slow: ask again
                    }
                });
                await("the standbys' daemons monitoring", Duration.ofSeconds(10),
                        () -> daemons.get(1).status().upstreamLastSeen().isPresent()
                                && daemons.get(2).status().upstreamLastSeen().isPresent());
            } catch (RuntimeException | AssertionError e) {
                close();
                throw e;
            }
        }

        @Override
        public void close() {
            for (FailoverDaemon d : daemons) {
                d.close();
            }
            if (store != null) {
                store.close();
            }
            if (cluster != null) {
                cluster.close();
            }
            if (set != null) {
                set.close();
            }
            if (etcd != null) {
                etcd.close();
            }
        }
    }

    @Test
    void aKilledPrimaryIsReplacedByExactlyOneStandbyThatTookTheKey() {
        try (Rig rig = new Rig()) {
            PgServer pg1 = rig.set.server("pg1");
            long term1 = rig.store.leader().orElseThrow().term();
            try (PgWriter writer = PgWriter.start(List.of(pg1, rig.set.server("pg2"), rig.set.server("pg3")),
                    Duration.ofMillis(5))) {
                writer.awaitCommits(50, Duration.ofSeconds(10));
                long killed = System.nanoTime();
                pg1.kill9();

                await("a standby to be promoted", Duration.ofSeconds(60),
                        () -> isPrimary(rig.set.server("pg2")) || isPrimary(rig.set.server("pg3")));
                writer.awaitCommits(50, Duration.ofSeconds(30));
                sleep(TTL.toMillis()); // time for a second, wrong promotion to show
                writer.stop();

                List<PgServer> primaries = rig.set.servers().stream().filter(s -> s != pg1).filter(DaemonTestSupport::isPrimary)
                        .toList();
                assertThat(primaries).hasSize(1);
                PgServer promoted = primaries.get(0);
                assertThat(rig.recorder.events).filteredOn(e -> e.event().equals(DaemonEvents.REPMGRD_FAILOVER_PROMOTE))
                        .singleElement().satisfies(e -> assertThat(e.nodeName()).hasValue(promoted.name()));
                ConsensusStore.Leader leader = rig.store.leader().orElseThrow();
                assertThat(leader.name()).isEqualTo(promoted.name());
                assertThat(leader.term()).isGreaterThan(term1);

                String label = PgWriter.label(promoted);
                long writable = writer.commits().stream().filter(c -> c.server().equals(label) && c.ackNanos() > killed)
                        .mapToLong(PgWriter.Commit::ackNanos).min().orElseThrow();
                assertThat(writer.acknowledgedBy(pg1, writable)).isZero();
                Set<Long> afterPromotion = new HashSet<>();
                writer.commits().stream().filter(c -> c.ackNanos() >= writable).forEach(c -> afterPromotion.add(c.id()));
                assertThat(writer.missingOn(promoted)).doesNotContainAnyElementsOf(afterPromotion);
                long promoteSeen = rig.firstSeen.get(DaemonEvents.REPMGRD_FAILOVER_PROMOTE + "@"
                        + (promoted.name().equals("pg2") ? 2 : 3));
                System.out.printf("etcd failover: pg1 killed -> %s promoted %d ms, first write on it %d ms"
                                + " (loaded machine; lease %d s)%n", promoted.name(), (promoteSeen - killed) / 1_000_000,
                        (writable - killed) / 1_000_000, TTL.toSeconds());
            }
        }
    }

    @Test
    void oneEtcdMemberDownChangesNothingThenTheRaftLeadersLossDuringAFailoverStillPromotesExactlyOne() {
        try (Rig rig = new Rig()) {
            PgServer pg1 = rig.set.server("pg1");
            int raftLeader = rig.etcd.awaitLeader(Duration.ofSeconds(30));
            int follower = (raftLeader + 1) % rig.etcd.size();
            rig.etcd.killMember(follower);
            sleep(TTL.multipliedBy(2).toMillis()); // several renewals with one member gone
            assertThat(rig.recorder.names()).doesNotContain(DaemonEvents.PRIMARY_FENCED, DaemonEvents.REPMGRD_FAILOVER_PROMOTE);
            assertThat(isPrimary(pg1)).isTrue();
            assertThat(rig.store.leader().orElseThrow().name()).isEqualTo("pg1");
            rig.etcd.startMember(follower);

            raftLeader = rig.etcd.awaitLeader(Duration.ofSeconds(30));
            try (PgWriter writer = PgWriter.start(List.of(pg1, rig.set.server("pg2"), rig.set.server("pg3")),
                    Duration.ofMillis(5))) {
                writer.awaitCommits(50, Duration.ofSeconds(10));
                long killed = System.nanoTime();
                rig.etcd.killMember(raftLeader); // etcd elects a new leader while the standbys elect theirs
                pg1.kill9();
                await("a standby to be promoted", Duration.ofSeconds(60),
                        () -> isPrimary(rig.set.server("pg2")) || isPrimary(rig.set.server("pg3")));
                writer.awaitCommits(50, Duration.ofSeconds(30));
                sleep(TTL.toMillis());
                writer.stop();
                List<PgServer> primaries = rig.set.servers().stream().filter(x -> x != pg1)
                        .filter(DaemonTestSupport::isPrimary).toList();
                assertThat(primaries).hasSize(1);
                assertThat(rig.recorder.events).filteredOn(e -> e.event().equals(DaemonEvents.REPMGRD_FAILOVER_PROMOTE))
                        .singleElement().satisfies(e -> assertThat(e.nodeName()).hasValue(primaries.get(0).name()));
                assertThat(rig.store.leader().orElseThrow().name()).isEqualTo(primaries.get(0).name());
                String label = PgWriter.label(primaries.get(0));
                long writable = writer.commits().stream().filter(c -> c.server().equals(label) && c.ackNanos() > killed)
                        .mapToLong(PgWriter.Commit::ackNanos).min().orElseThrow();
                assertThat(writer.acknowledgedBy(pg1, writable)).isZero();
                System.out.printf("etcd leader lost with the primary: first write on %s %d ms after the kill (loaded machine)%n",
                        primaries.get(0).name(), (writable - killed) / 1_000_000);
            }
        }
    }

    @Test
    void withEveryEtcdMemberDownThePrimaryFencesItselfBeforeItsLeaseCanEndAndNobodyIsPromoted() {
        try (Rig rig = new Rig()) {
            PgServer pg1 = rig.set.server("pg1");
            try (PgWriter writer = PgWriter.start(List.of(pg1), Duration.ofMillis(5))) {
                writer.awaitCommits(50, Duration.ofSeconds(10));
                // etcd's own word: the key cannot vanish before this (renewals after it only move it later)
                long leaseEnd = rig.etcd.leaseEndsNotBefore("/repmgr4j/default/leader").orElseThrow();
                long cut = System.nanoTime();
                for (int i = 0; i < rig.etcd.size(); i++) {
                    rig.etcd.killMember(i);
                }
                await("pg1 to fence itself", Duration.ofSeconds(60),
                        () -> rig.firstSeen.containsKey(DaemonEvents.PRIMARY_FENCED + "@1"));
                await("pg1 back as a read-only standby", Duration.ofSeconds(60), () -> {
                    try {
                        return pg1.isRunning() && pg1.inRecovery();
                    } catch (RuntimeException e) {
                        return false;
                    }
                });
                writer.stop();
                assertThat(writer.firstCommitAfter(leaseEnd)).isEmpty(); // no write acknowledged once the key could be gone
                assertThat(writer.acknowledged()).isPositive();
                assertThat(rig.recorder.events).filteredOn(e -> e.event().equals(DaemonEvents.PRIMARY_FENCED))
                        .singleElement().satisfies(e -> assertThat(e.details().orElse("")).contains("consensus:"));
                System.out.printf("etcd down: primary fenced %d ms after the cut, last write %d ms after it"
                                + " (lease %d s; etcd said the key lasts at least %d ms more)%n",
                        (rig.firstSeen.get(DaemonEvents.PRIMARY_FENCED + "@1") - cut) / 1_000_000,
                        (writer.lastCommitNanos() - cut) / 1_000_000, TTL.toSeconds(), (leaseEnd - cut) / 1_000_000);
            }
            sleep(TTL.multipliedBy(2).toMillis()); // the standbys find no writable primary, and no key to take
            assertThat(rig.recorder.names()).doesNotContain(DaemonEvents.REPMGRD_FAILOVER_PROMOTE);
            assertThat(rig.set.server("pg2").inRecovery()).isTrue();
            assertThat(rig.set.server("pg3").inRecovery()).isTrue();
        }
    }
}
