package io.repmgr4j.core.partition;

import static io.repmgr4j.core.partition.PartitionCluster.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.repmgr4j.DaemonEvents;
import io.repmgr4j.spi.LocalCommandRunner;
import io.repmgr4j.testkit.NetLab;
import io.repmgr4j.testkit.NetNode;
import io.repmgr4j.testkit.PgServer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Network partitions on real servers in real network namespaces (issue 11, point 6): three
 * nodes, a standalone daemon in each node's namespace, a writer through a multi-host URL
 * from the client host, iptables DROP rules for the cuts. Each scenario checks that the old
 * primary acknowledged no write after the new primary became writable, that exactly one
 * writable primary is left after healing, and that every write the legitimate primaries
 * acknowledged is on the final primary.
 */
class PartitionTest {
    /** Twice one 3 s cut of the flapping link: fence after at most 6 s + 1 s. */
    private static final int ISOLATION_SECS = 6;

    private static void assumeRoot() {
        assumeTrue(LocalCommandRunner.jvmIsRoot(), "network namespaces need root");
    }

    /**
     * Primary, one standby and a witness (the smallest safe cluster): the primary keeps its
     * quorum through a cut-off standby, a cut-off witness, and a link to both that flaps
     * faster than the timeouts. No failover, no fence, no write lost.
     */
    @Test
    void aCutOffStandbyACutOffWitnessAndAFlappingLinkCauseNoFailoverAndNoFence() {
        assumeRoot();
        try (PartitionCluster pc = PartitionCluster.start(ISOLATION_SECS, Map.of(), List.of(), true)) {
            PgServer pg1 = pc.server(1);
            PgServer pg2 = pc.server(2);
            NetLab lab = pc.set.lab();
            NetNode n1 = pc.set.node(1);

            // the standby cut off from everything, longer than every timeout
            lab.isolate(pc.set.node(2));
            PartitionCluster.DaemonSupport.sleep(10_000);
            lab.healAll();
            pg1.waitForStreaming(pg2, Duration.ofSeconds(60));

            // the witness cut off from everything
            lab.isolate(pc.set.node(pc.witness));
            PartitionCluster.DaemonSupport.sleep(10_000);
            lab.healAll();
            // a scenario of its own: the primary sees the witness again before the link starts to flap
            PartitionCluster.DaemonSupport.sleep(5_000);

            // the primary's links to the standby and the witness flap: 3 s cut, 3 s healed, five times
            for (int i = 0; i < 5; i++) {
                lab.cutFromNodes(n1);
                PartitionCluster.DaemonSupport.sleep(3000);
                lab.healAll();
                PartitionCluster.DaemonSupport.sleep(3000);
            }
            int before = pc.writer.acknowledged();
            pc.writer.awaitCommits(20, Duration.ofSeconds(30));
            assertThat(pc.writer.acknowledged()).isGreaterThan(before);

            PgServer last = pc.awaitSinglePrimary();
            assertThat(last).isSameAs(pg1);
            assertThat(pc.observer.becameWritable(pg2)).isZero();
            pc.writer.stop();
            assertThat(pc.legitMissing(pg1, Long.MAX_VALUE, pg1)).isEmpty();
            assertThat(pc.events(DaemonEvents.REPMGRD_FAILOVER_PROMOTE)).as(pc.set.daemonLogs(40)).isEmpty();
            assertThat(pc.events(DaemonEvents.PRIMARY_FENCED)).as(pc.set.daemonLogs(40)).isEmpty();
            assertThat(pc.events(DaemonEvents.PRIMARY_ISOLATED)).isEmpty();
        }
    }

    /**
     * Primary and two standbys, one standby cut off from everything for longer than every
     * timeout: the primary keeps its quorum through the other standby, the cut-off standby
     * finds no majority to promote with. No failover, no fence, no write lost; healed, the
     * standby streams again.
     */
    @Test
    void aCutOffStandbyOfThreeNodesCausesNoFailoverAndNoFence() {
        assumeRoot();
        try (PartitionCluster pc = PartitionCluster.start(ISOLATION_SECS, Map.of(), List.of())) {
            PgServer pg1 = pc.server(1);
            PgServer pg3 = pc.server(3);
            pc.set.lab().isolate(pc.set.node(3));
            PartitionCluster.DaemonSupport.sleep(15_000); // fence hold (7 s) + reconnect window + an election, twice over
            int during = pc.writer.acknowledged();
            pc.writer.awaitCommits(20, Duration.ofSeconds(30));
            assertThat(pc.writer.acknowledged()).as("the primary kept taking writes").isGreaterThan(during);
            pc.set.lab().healAll();
            pg1.waitForStreaming(pg3, Duration.ofSeconds(60));

            PgServer last = pc.awaitSinglePrimary();
            assertThat(last).isSameAs(pg1);
            assertThat(pc.observer.becameWritable(pc.server(2))).isZero();
            assertThat(pc.observer.becameWritable(pg3)).isZero();
            pc.writer.stop();
            assertThat(pc.legitMissing(pg1, Long.MAX_VALUE, pg1)).isEmpty();
            assertThat(pc.events(DaemonEvents.REPMGRD_FAILOVER_PROMOTE)).as(pc.set.daemonLogs(40)).isEmpty();
            assertThat(pc.events(DaemonEvents.PRIMARY_FENCED)).as(pc.set.daemonLogs(40)).isEmpty();
            assertThat(pc.events(DaemonEvents.PRIMARY_ISOLATED)).isEmpty();
        }
    }

    /**
     * The primary loses both standbys while clients still reach it: it fences itself before
     * a standby is promoted, so the writer's commits move to the new primary without one lost
     * after the promotion; healed, the fenced node stays read-only.
     */
    @Test
    void aPrimaryCutOffFromItsStandbysFencesItselfBeforeTheirPromotion() {
        assumeRoot();
        try (PartitionCluster pc = PartitionCluster.start(ISOLATION_SECS, Map.of(), List.of())) {
            PgServer pg1 = pc.server(1);
            PgServer pg2 = pc.server(2);
            long cut = pc.quiesce(pg1, List.of(pg2, pc.server(3)));
            pc.set.lab().cutFromNodes(pc.set.node(1));
            pc.writer.resume();

            await("a standby to be promoted" , Duration.ofSeconds(60),
                    () -> pc.observer.becameWritable(pg2) != 0 || pc.observer.becameWritable(pc.server(3)) != 0);
            PgServer promoted = pc.observer.becameWritable(pg2) != 0 ? pg2 : pc.server(3);
            await("pg1 to stop taking writes", Duration.ofSeconds(30), () -> !io.repmgr4j.testkit.PgRoleWatch.isWritable(pg1));
            pc.writer.awaitCommits(20, Duration.ofSeconds(30));
            pc.set.lab().healAll();

            PgServer last = pc.awaitSinglePrimary();
            pc.writer.awaitCommits(20, Duration.ofSeconds(30));
            pc.writer.stop();
            assertThat(last).isSameAs(promoted);
            long promotedAt = pc.observer.becameWritable(promoted);
            assertThat(pc.writer.acknowledgedBy(pg1, promotedAt)).as("writes acknowledged by pg1 after the promotion")
                    .isZero();
            assertThat(pc.legitMissing(pg1, cut, last)).isEmpty();
            // fenced read-only: in recovery, with the readonly fence's marker in its data directory
            assertThat(pg1.inRecovery()).as("pg1 after healing").isTrue();
            assertThat(pg1.dataDirectory().resolve("repmgr4j.fenced")).as(pc.set.daemonLogs(40)).exists();
        }
    }

    /**
     * The primary is cut off from everything, clients included: the writer's commits move
     * to the promoted standby, and after healing the old primary is fenced, not a second
     * primary.
     */
    @Test
    void aPrimaryCutOffFromEverythingIsFencedAndStaysFencedAfterHealing() {
        assumeRoot();
        try (PartitionCluster pc = PartitionCluster.start(ISOLATION_SECS, Map.of(), List.of())) {
            PgServer pg1 = pc.server(1);
            long cut = pc.quiesce(pg1, List.of(pc.server(2), pc.server(3)));
            pc.set.lab().isolate(pc.set.node(1));
            pc.writer.resume();

            await("a standby to be promoted", Duration.ofSeconds(60),
                    () -> pc.observer.becameWritable(pc.server(2)) != 0 || pc.observer.becameWritable(pc.server(3)) != 0);
            PgServer promoted = pc.observer.becameWritable(pc.server(2)) != 0 ? pc.server(2) : pc.server(3);
            pc.writer.awaitCommits(20, Duration.ofSeconds(30));
            pc.set.lab().healAll();

            PgServer last = pc.awaitSinglePrimary();
            pc.writer.awaitCommits(20, Duration.ofSeconds(30));
            pc.writer.stop();
            assertThat(last).isSameAs(promoted);
            assertThat(pg1.inRecovery()).as("pg1 after healing").isTrue();
            assertThat(pc.writer.acknowledgedBy(pg1, pc.observer.becameWritable(promoted)))
                    .as("writes acknowledged by pg1 after the promotion").isZero();
            assertThat(pc.legitMissing(pg1, cut, last)).isEmpty();
        }
    }

    /**
     * The primary's server dies on a host that drops the standbys' packets to the closed port
     * (they meet silence, not a refusal). Its daemon, which still reaches them, sees nothing
     * listen on its own host, puts standby.signal in place and reports the server down on
     * the standbys' servers: a standby promotes on that evidence, without the fence hold, and
     * the old server, started again, comes up read-only.
     */
    @Test
    void aServerDownReportedByItsDaemonIsEvidence() {
        assumeRoot();
        try (PartitionCluster pc = PartitionCluster.start(ISOLATION_SECS, Map.of(), List.of())) {
            PgServer pg1 = pc.server(1);
            long crash = pc.quiesce(pg1, List.of(pc.server(2), pc.server(3)));
            pc.set.lab().dropPortFromNodes(pc.set.node(1), pg1.port());
            pg1.kill9();
            pc.writer.resume();
            await("a standby to be promoted", Duration.ofSeconds(60),
                    () -> pc.observer.becameWritable(pc.server(2)) != 0 || pc.observer.becameWritable(pc.server(3)) != 0);
            PgServer promoted = pc.observer.becameWritable(pc.server(2)) != 0 ? pc.server(2) : pc.server(3);
            String logs = pc.set.daemonLogs(400);
            assertThat(logs).as(logs).contains("reports its server down").doesNotContain("refuses connections on its port");
            pc.writer.awaitCommits(20, Duration.ofSeconds(30));
            pc.set.lab().healAll();
            pg1.start();
            assertThat(pg1.inRecovery()).as("pg1 restarted after its daemon fenced it").isTrue();

            PgServer last = pc.awaitSinglePrimary();
            pc.writer.awaitCommits(20, Duration.ofSeconds(30));
            pc.writer.stop();
            assertThat(last).isSameAs(promoted);
            assertThat(pc.writer.acknowledgedBy(pg1, crash)).as("writes acknowledged by pg1 after it crashed").isZero();
            assertThat(pc.legitMissing(pg1, crash, last)).isEmpty();
        }
    }

    /**
     * The old primary comes back after a failover, with its daemon: restarted while its
     * daemon runs, it starts read-only (the daemon put standby.signal in place while the server
     * was down); restarted as a primary before its daemon, the daemon fences it on start. It
     * never acknowledges a write.
     */
    @Test
    void anOldPrimaryRestartedAfterAFailoverIsFenced() throws Exception {
        assumeRoot();
        try (PartitionCluster pc = PartitionCluster.start(ISOLATION_SECS, Map.of(), List.of())) {
            PgServer pg1 = pc.server(1);
            PgServer pg2 = pc.server(2);
            long crash = pc.quiesce(pg1, List.of(pg2, pc.server(3)));
            pg1.kill9();
            pc.writer.resume();
            await("pg2 to be promoted", Duration.ofSeconds(60), () -> pc.observer.becameWritable(pg2) != 0);
            pc.writer.awaitCommits(20, Duration.ofSeconds(30));

            // the daemon kept running: it fences the stopped server, which then starts read-only
            java.nio.file.Path marker = pg1.dataDirectory().resolve("repmgr4j.fenced");
            await("pg1's daemon to fence its stopped server", Duration.ofSeconds(30), () -> java.nio.file.Files.exists(marker));
            pg1.start();
            assertThat(pg1.inRecovery()).isTrue();

            // restarted as a primary before its daemon: the daemon fences it when it starts
            pc.set.stopDaemon(1);
            pg1.stop();
            java.nio.file.Files.delete(marker);
            java.nio.file.Files.delete(pg1.dataDirectory().resolve("standby.signal"));
            pg1.start();
            pc.startDaemon(1, List.of());
            await("pg1 to be fenced by its daemon", Duration.ofSeconds(30), () -> !io.repmgr4j.testkit.PgRoleWatch.isWritable(pg1));

            PgServer last = pc.awaitSinglePrimary();
            pc.writer.awaitCommits(20, Duration.ofSeconds(30));
            pc.writer.stop();
            assertThat(last).isSameAs(pg2);
            assertThat(pc.writer.acknowledgedBy(pg1, crash)).as("writes acknowledged by pg1 after it crashed").isZero();
            assertThat(pc.legitMissing(pg1, crash, last)).isEmpty();
            // the first fence's event was queued in the daemon stopped before a primary could store it
            assertThat(pc.events(DaemonEvents.PRIMARY_FENCED)).as(pc.set.daemonLogs(40))
                    .anySatisfy(e -> assertThat(e.nodeId()).isEqualTo(1));
        }
    }
}
