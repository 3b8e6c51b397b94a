package io.repmgr4j.core.daemon;

import static io.repmgr4j.core.daemon.DaemonTestSupport.await;
import static io.repmgr4j.core.daemon.DaemonTestSupport.config;
import static io.repmgr4j.core.daemon.DaemonTestSupport.fast;
import static io.repmgr4j.core.daemon.DaemonTestSupport.sleep;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.repmgr4j.ClusterStatus;
import io.repmgr4j.DaemonEvents;
import io.repmgr4j.DaemonOptions;
import io.repmgr4j.Events;
import io.repmgr4j.FailoverDaemon;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.NodeState;
import io.repmgr4j.NodeType;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.ServiceStatus;
import io.repmgr4j.core.ReplicationClusters;
import io.repmgr4j.format.ClusterShowFormat;
import io.repmgr4j.format.ServiceStatusFormat;
import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import java.time.Duration;
import java.util.OptionalInt;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * A witness on real servers: pg1 primary, pg2 standby, and a separate server "wit"
 * outside replication registered as witness (node 3). It holds a copy of the metadata
 * that its daemon keeps fresh, shows in cluster show and service status as repmgr shows a
 * witness, and counts in the primary's quorum: with the standby lost, primary + witness
 * are a majority, so the primary is not fenced.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WitnessTest {
    private PgReplicaSet set;
    private PgServer wit;
    private ReplicationCluster cluster;
    private NodeConfig witnessConfig;
    private final FailoverDaemon[] daemons = new FailoverDaemon[4];
    private final DaemonTestSupport.Recorder recorder = new DaemonTestSupport.Recorder();
    private final DaemonOptions options = DaemonOptions.builder().from(fast()).primaryIsolationTimeout(Duration.ofSeconds(2))
            .build();

    @BeforeAll
    void start() {
        set = PgReplicaSet.start(2);
        wit = PgServer.builder().name("wit").start();
        cluster = ReplicationClusters.connect(set.primary().conninfo());
        cluster.registerPrimary(config(1, set.server("pg1"), 100)).execute();
        cluster.registerStandby(config(2, set.server("pg2"), 80)).waitUntilAttached(Duration.ofSeconds(30)).execute();
        witnessConfig = config(3, wit, 0);
    }

    @AfterAll
    void stop() {
        for (FailoverDaemon d : daemons) {
            if (d != null) {
                d.close();
            }
        }
        if (cluster != null) {
            cluster.close();
        }
        if (wit != null) {
            wit.close();
        }
        if (set != null) {
            set.close();
        }
    }

    @Test
    @Order(1)
    void registerWitnessCopiesTheMetadataToIt() {
        assertThatThrownBy(() -> cluster.registerWitness(config(3, set.server("pg2"), 0)).execute())
                .isInstanceOf(ReplicationException.class).hasMessageContaining("is in recovery");
        NodeRecord r = cluster.registerWitness(witnessConfig).execute();
        assertThat(r.type()).isEqualTo(NodeType.WITNESS);
        assertThat(r.upstreamNodeId()).isEqualTo(OptionalInt.of(1));
        assertThat(cluster.metadata().node(3).orElseThrow().type()).isEqualTo(NodeType.WITNESS);
        assertThat(wit.query("SELECT count(*) FROM repmgr.nodes", Long.class)).isEqualTo(3L);
        assertThat(wit.query("SELECT type FROM repmgr.nodes WHERE node_id = 3", String.class)).isEqualTo("witness");
        assertThat(DaemonTestSupport.stored(cluster, Events.WITNESS_REGISTER)).extracting(e -> e.successful())
                .containsExactly(true, false); // newest first: the refused attempt is recorded too, as repmgr does
        assertThatThrownBy(() -> cluster.registerWitness(witnessConfig).execute())
                .isInstanceOf(ReplicationException.class).hasMessageContaining("already registered");
    }

    @Test
    @Order(2)
    void clusterShowAndServiceStatusShowTheWitness() {
        for (int id = 1; id <= 3; id++) {
            PgServer s = id == 3 ? wit : set.server("pg" + id);
            daemons[id] = cluster.daemon(config(id, s, id == 1 ? 100 : id == 2 ? 80 : 0), options).addListener(recorder)
                    .start();
        }
        ClusterStatus status = cluster.show().timeout(Duration.ofSeconds(5)).execute();
        System.out.println(ClusterShowFormat.table(status));
        assertThat(status.node(3).orElseThrow().role()).isEqualTo(NodeType.WITNESS);
        assertThat(status.node(3).orElseThrow().state()).isEqualTo(NodeState.PRIMARY_RUNNING);
        assertThat(status.node(3).orElseThrow().upstreamLabel()).isEqualTo("pg1");
        assertThat(status.problems()).isEmpty();
        await("the witness's daemon to reach the primary", Duration.ofSeconds(10),
                () -> daemons[3].status().upstreamLastSeen().isPresent());
        ServiceStatus service = cluster.serviceStatus().execute();
        String table = ServiceStatusFormat.table(service);
        System.out.println(table);
        assertThat(table).contains("witness");
        assertThat(service.problems()).isEmpty();
    }

    @Test
    @Order(3)
    void theWitnessDaemonKeepsItsCopyFresh() {
        NodeRecord pg2 = cluster.metadata().node(2).orElseThrow();
        cluster.metadata().updateNode(NodeRecord.builder().from(pg2).priority(55).build());
        await("the witness's copy to show the new priority", Duration.ofSeconds(10),
                () -> wit.query("SELECT priority FROM repmgr.nodes WHERE node_id = 2", Integer.class) == 55);
        assertThat(wit.query("SELECT term FROM repmgr.voting_term", Integer.class))
                .isEqualTo(cluster.metadata().votingTerm());
    }

    @Test
    @Order(4)
    void withTheStandbyLostThePrimaryAndTheWitnessAreAQuorum() {
        daemons[2].close();
        set.server("pg2").kill9();
        sleep(6000); // three isolation timeouts
        assertThat(set.server("pg1").inRecovery()).isFalse();
        assertThat(recorder.names()).doesNotContain(DaemonEvents.PRIMARY_ISOLATED, DaemonEvents.PRIMARY_FENCED);
        set.server("pg2").start();
        set.server("pg1").waitForStreaming(set.server("pg2"), Duration.ofSeconds(30));
    }

    /**
     * With the standby and the witness both lost the primary fences itself; the witness back
     * alone makes a quorum again, and the fence is lifted: the witness, a writable server
     * outside replication, is not taken for a second primary.
     */
    @Test
    @Order(5)
    void theWitnessBackLiftsTheFenceWithoutCountingAsAWritablePrimary() {
        PgServer pg1 = set.server("pg1");
        daemons[3].close();
        set.server("pg2").kill9();
        wit.stop();
        await("pg1 to fence itself", Duration.ofSeconds(60), () -> recorder.has(DaemonEvents.PRIMARY_FENCED));
        await("pg1 read-only", Duration.ofSeconds(60), () -> {
            try {
                return pg1.inRecovery();
            } catch (RuntimeException e) {
                return false;
            }
        });
        wit.start();
        await("the fence to be lifted with the witness back", Duration.ofSeconds(60),
                () -> recorder.has(DaemonEvents.PRIMARY_FENCE_LIFTED));
        await("pg1 writable again", Duration.ofSeconds(60), () -> DaemonTestSupport.isPrimary(pg1));
        set.server("pg2").start();
        pg1.waitForStreaming(set.server("pg2"), Duration.ofSeconds(60));
        daemons[3] = cluster.daemon(witnessConfig, options).addListener(recorder).start();
    }

    @Test
    @Order(6)
    void unregisterWitnessRemovesItsRecord() {
        daemons[3].close();
        NodeRecord removed = cluster.unregisterWitness(3).execute();
        assertThat(removed.nodeName()).isEqualTo("wit");
        assertThat(cluster.metadata().node(3)).isEmpty();
        assertThat(wit.query("SELECT count(*) FROM repmgr.nodes WHERE node_id = 3", Long.class)).isZero();
        assertThat(DaemonTestSupport.stored(cluster, Events.WITNESS_UNREGISTER)).hasSize(1);
        assertThatThrownBy(() -> cluster.unregisterWitness(2).execute())
                .isInstanceOf(ReplicationException.class).hasMessageContaining("not a witness");
    }
}
