package io.repmgr4j.etcd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.repmgr4j.ConsensusConfig;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.spi.ConsensusException;
import io.repmgr4j.spi.ConsensusStore;
import io.repmgr4j.spi.Leadership;
import io.repmgr4j.testkit.EtcdCluster;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The etcd consensus store against a real 3-member etcd cluster. */
class EtcdConsensusStoreTest {
    private static final AtomicInteger CLUSTERS = new AtomicInteger();
    private static EtcdCluster etcd;

    @BeforeAll
    static void startEtcd() {
        etcd = EtcdCluster.start(3);
    }

    @AfterAll
    static void stopEtcd() {
        if (etcd != null) {
            etcd.close();
        }
    }

    /** Settings for a replica set of its own (keys not shared with other tests). */
    private static io.repmgr4j.ImmutableConsensusConfig.Builder config(int ttlSeconds, Duration timeout) {
        return ConsensusConfig.builder()
                .endpoints(Arrays.stream(etcd.endpoints().split(",")).map(URI::create).toList())
                .cluster("rs" + CLUSTERS.incrementAndGet())
                .ttl(Duration.ofSeconds(ttlSeconds))
                .timeout(timeout);
    }

    @Test
    void campaignRenewAndResignMoveTheKeyWithRisingTerms() {
        ConsensusConfig c = config(10, Duration.ofSeconds(2)).build();
        try (ConsensusStore a = ConsensusStore.open(c); ConsensusStore b = ConsensusStore.open(c)) {
            assertThat(a).isInstanceOf(EtcdConsensusStore.class);
            assertThat(a.leader()).isEmpty();

            Leadership won = a.campaign("pg1").orElseThrow();
            assertThat(won.name()).isEqualTo("pg1");
            assertThat(won.remainingNanos(System.nanoTime())).isPositive()
                    .isLessThanOrEqualTo(Duration.ofSeconds(10).toNanos());
            assertThat(b.leader()).contains(new ConsensusStore.Leader("pg1", won.term()));
            assertThat(b.campaign("pg2")).isEmpty();

            Leadership renewed = a.renew(won);
            assertThat(renewed.term()).isEqualTo(won.term());
            assertThat(renewed.validUntilNanos()).isGreaterThan(won.validUntilNanos());

            try (ConsensusStore restarted = ConsensusStore.open(c)) { // the same name again: adopts the lease
                Leadership adopted = restarted.campaign("pg1").orElseThrow();
                assertThat(adopted.term()).isEqualTo(won.term());
                assertThat(adopted.leaseId()).isEqualTo(won.leaseId());
            }

            a.resign(renewed);
            assertThat(b.leader()).isEmpty();
            assertThatThrownBy(() -> a.renew(renewed)).isInstanceOfSatisfying(ConsensusException.class,
                    e -> assertThat(e.lost()).isTrue());
            a.resign(renewed); // a second resign does nothing

            Leadership next = b.campaign("pg2").orElseThrow();
            assertThat(next.term()).isGreaterThan(won.term());
            assertThat(a.leader()).contains(new ConsensusStore.Leader("pg2", next.term()));
            b.resign(next);
        }
    }

    @Test
    void ofTwoContendersAtOnceExactlyOneWins() throws Exception {
        ConsensusConfig c = config(10, Duration.ofSeconds(2)).build();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try (ConsensusStore a = ConsensusStore.open(c); ConsensusStore b = ConsensusStore.open(c)) {
            a.leader(); // connected before the race
            b.leader();
            for (int round = 0; round < 10; round++) {
                CountDownLatch go = new CountDownLatch(1);
                Future<Optional<Leadership>> fa = pool.submit(() -> {
                    go.await();
                    return a.campaign("pg1");
                });
                Future<Optional<Leadership>> fb = pool.submit(() -> {
                    go.await();
                    return b.campaign("pg2");
                });
                go.countDown();
                Optional<Leadership> ra = fa.get();
                Optional<Leadership> rb = fb.get();
                assertThat(ra.isPresent() ^ rb.isPresent()).as("round %d: exactly one winner (%s, %s)", round, ra, rb).isTrue();
                Leadership winner = ra.orElseGet(rb::orElseThrow);
                assertThat(a.leader()).contains(new ConsensusStore.Leader(winner.name(), winner.term()));
                (ra.isPresent() ? a : b).resign(winner);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void anExpiredLeaseFreesTheKey() throws Exception {
        ConsensusConfig c = config(2, Duration.ofMillis(600)).build();
        try (ConsensusStore a = ConsensusStore.open(c); ConsensusStore b = ConsensusStore.open(c)) {
            Leadership won = a.campaign("pg1").orElseThrow();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (b.leader().isPresent()) { // nobody renews: the lease runs out
                assertThat(System.nanoTime()).as("the key outlived its 2 s lease by 30 s").isLessThan(deadline);
                Thread.sleep(100);
            }
            assertThat(System.nanoTime()).as("the key vanished before the lease's lower bound")
                    .isGreaterThanOrEqualTo(won.validUntilNanos());
            Leadership next = b.campaign("pg2").orElseThrow();
            assertThat(next.term()).isGreaterThan(won.term());
            assertThatThrownBy(() -> a.renew(won)).isInstanceOfSatisfying(ConsensusException.class,
                    e -> assertThat(e.lost()).as(e.getMessage()).isTrue());
            b.resign(next);
        }
    }

    @Test
    void aFollowerMemberDownChangesNothing() {
        ConsensusConfig c = config(10, Duration.ofSeconds(2)).build();
        try (ConsensusStore a = ConsensusStore.open(c); ConsensusStore b = ConsensusStore.open(c)) {
            Leadership held = a.campaign("pg1").orElseThrow();
            int follower = (etcd.leaderIndex().orElseThrow() + 1) % etcd.size();
            etcd.killMember(follower);
            try {
                for (int i = 0; i < 5; i++) {
                    held = a.renew(held);
                    assertThat(b.campaign("pg2")).isEmpty();
                    assertThat(b.leader()).contains(new ConsensusStore.Leader("pg1", held.term()));
                }
                b.setPaused(true);
                assertThat(a.paused()).isTrue();
                b.setPaused(false);
                assertThat(a.paused()).isFalse();
            } finally {
                etcd.startMember(follower);
            }
            a.resign(held);
        }
    }

    @Test
    void theLossOfEtcdsLeaderMemberKeepsTheKeyWithTheSameTerm() throws Exception {
        ConsensusConfig c = config(10, Duration.ofSeconds(2)).build();
        try (ConsensusStore a = ConsensusStore.open(c); ConsensusStore b = ConsensusStore.open(c)) {
            Leadership held = a.campaign("pg1").orElseThrow();
            int leader = etcd.leaderIndex().orElseThrow();
            etcd.killMember(leader);
            try {
                // while the other two elect a new Raft leader a renewal may time out; the lease outlasts that
                Leadership renewed = null;
                while (renewed == null) {
                    assertThat(held.remainingNanos(System.nanoTime())).as("renewed before the lease could expire").isPositive();
                    try {
                        renewed = a.renew(held);
                    } catch (ConsensusException e) {
                        assertThat(e.unavailable()).as(e.getMessage()).isTrue();
                    }
                }
                assertThat(renewed.term()).isEqualTo(held.term());
                assertThat(b.campaign("pg2")).isEmpty();
                assertThat(b.leader()).contains(new ConsensusStore.Leader("pg1", held.term()));
                a.resign(renewed);
            } finally {
                etcd.startMember(leader);
            }
        }
    }

    @Test
    @org.junit.jupiter.api.Timeout(120) // the calls below each end within their timeout; a hang fails here
    void withEveryMemberDownACampaignFailsClearlyWithinItsTimeout() {
        ConsensusConfig c = config(10, Duration.ofSeconds(1)).build();
        try (ConsensusStore a = ConsensusStore.open(c)) {
            Leadership held = a.campaign("pg1").orElseThrow();
            for (int i = 0; i < etcd.size(); i++) {
                etcd.killMember(i);
            }
            try {
                assertThatThrownBy(() -> a.campaign("pg2")).isInstanceOfSatisfying(ConsensusException.class, e -> {
                    assertThat(e.unavailable()).isTrue();
                    assertThat(e.code()).isEqualTo(ErrorCode.DB_CONN);
                    assertThat(e.getMessage()).contains("etcd");
                    assertThat(e.hint()).hasValueSatisfying(h -> assertThat(h).contains("majority of the etcd members"));
                });
                assertThatThrownBy(() -> a.renew(held)).isInstanceOfSatisfying(ConsensusException.class,
                        e -> assertThat(e.unavailable()).isTrue());
                assertThatThrownBy(a::leader).isInstanceOf(ConsensusException.class);
            } finally {
                for (int i = 0; i < etcd.size(); i++) {
                    etcd.startMember(i);
                }
            }
        }
    }

    @Test
    void withEtcdAuthenticationTheRightPasswordWorksAndAWrongOneIsRefusedWithoutShowingIt() {
        try (EtcdCluster secured = EtcdCluster.start(1)) {
            secured.enableAuth("r00t-secret");
            io.repmgr4j.ImmutableConsensusConfig.Builder b = ConsensusConfig.builder()
                    .addEndpoints(URI.create(secured.endpoint(0))).timeout(Duration.ofSeconds(2)).user("root");
            try (ConsensusStore ok = ConsensusStore.open(b.password("r00t-secret").build())) {
                Leadership l = ok.campaign("pg1").orElseThrow();
                assertThat(ok.leader()).contains(new ConsensusStore.Leader("pg1", l.term()));
                ok.resign(l);
            }
            try (ConsensusStore wrong = ConsensusStore.open(b.password("wrong-pass").build())) {
                assertThatThrownBy(wrong::leader).isInstanceOfSatisfying(ConsensusException.class, e -> {
                    assertThat(e.unavailable()).as(e.toReport()).isFalse();
                    assertThat(e.toReport()).contains("etcd").doesNotContain("wrong-pass", "r00t-secret");
                    assertThat(e.hint()).hasValueSatisfying(h -> assertThat(h).contains("etcd_user and etcd_password"));
                });
            }
            try (ConsensusStore anonymous = ConsensusStore.open(ConsensusConfig.builder()
                    .addEndpoints(URI.create(secured.endpoint(0))).timeout(Duration.ofSeconds(2)).build())) {
                assertThatThrownBy(() -> anonymous.campaign("pg2")).isInstanceOf(ConsensusException.class);
            }
        }
    }

    @Test
    void badSettingsAreRefusedBeforeAnythingRuns() {
        List<Runnable> bad = new ArrayList<>();
        bad.add(() -> ConsensusConfig.builder().build());
        bad.add(() -> config(10, Duration.ofSeconds(4)).build());
        bad.add(() -> config(10, Duration.ofSeconds(1)).ttl(Duration.ofMillis(2500)).build());
        bad.add(() -> config(10, Duration.ofSeconds(1)).prefix("repmgr/").build());
        bad.add(() -> config(10, Duration.ofSeconds(1)).password("secret").build());
        bad.add(() -> config(10, Duration.ofSeconds(1)).caFile(java.nio.file.Path.of("/nonexistent")).build());
        bad.add(() -> ConsensusConfig.builder().addEndpoints(URI.create("http://u:pw@127.0.0.1:2379")).build());
        for (Runnable r : bad) {
            assertThatThrownBy(r::run).isInstanceOfSatisfying(ReplicationException.class, e -> {
                assertThat(e.code()).isEqualTo(ErrorCode.BAD_CONFIG);
                assertThat(e.getMessage() + e.detail().orElse("") + e.hint().orElse("")).doesNotContain("secret", "pw@");
            });
        }
        assertThat(config(10, Duration.ofSeconds(1)).user("u").password("secret").build().toString()).doesNotContain("secret");
    }
}
