package io.repmgr4j.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.EventRecord;
import io.repmgr4j.Events;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.NodeType;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * primary/standby register and unregister on a real 3-node set: the happy paths, the
 * events they write, and every refusal leaving the nodes table as it was.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RegistrationTest {
    private PgReplicaSet set;
    private ReplicationCluster cluster;
    private final List<EventRecord> heard = new CopyOnWriteArrayList<>();

    @BeforeAll
    void start() {
        set = PgReplicaSet.start(3);
        cluster = ReplicationClusters.builder().seed(set.primary().conninfo()).eventListener(heard::add).build();
    }

    @AfterAll
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
        if (set != null) {
            set.close();
        }
    }

    static NodeConfig config(int id, PgServer s) {
        return NodeConfig.builder().nodeId(id).nodeName(s.name()).conninfo(s.conninfo())
                .dataDirectory(s.dataDirectory().toString()).build();
    }

    private List<NodeRecord> nodes() {
        return cluster.metadata().nodes();
    }

    @Test
    @Order(1)
    void registeringAStandbyBeforeAnyPrimaryIsRefused() {
        assertThatThrownBy(() -> cluster.registerStandby(config(2, set.server("pg2"))).execute())
                .isInstanceOfSatisfying(ReplicationException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.DB_CONN);
                    assertThat(e.hint()).hasValueSatisfying(h -> assertThat(h).contains("register the primary first"));
                });
    }

    @Test
    @Order(2)
    void registeringAStandbyServerAsPrimaryIsRefused() {
        assertThatThrownBy(() -> cluster.registerPrimary(config(2, set.server("pg2"))).execute())
                .isInstanceOfSatisfying(ReplicationException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.BAD_CONFIG);
                    assertThat(e.getMessage()).contains("in recovery");
                });
        assertThat(set.primary().query("SELECT count(*) FROM pg_namespace WHERE nspname = 'repmgr'", Long.class)).isZero();
    }

    @Test
    @Order(3)
    void primaryRegisterCreatesTheClusterAndWritesEvents() {
        NodeRecord r = cluster.registerPrimary(config(1, set.primary())).execute();
        assertThat(r.type()).isEqualTo(NodeType.PRIMARY);
        assertThat(r.upstreamNodeId()).isEmpty();
        assertThat(nodes()).extracting(NodeRecord::nodeId).containsExactly(1);
        assertThat(cluster.metadata().votingTerm()).isEqualTo(1);
        List<EventRecord> events = cluster.events().list();
        assertThat(events).extracting(EventRecord::event).containsExactly(Events.PRIMARY_REGISTER, Events.CLUSTER_CREATED);
        assertThat(events).allMatch(EventRecord::successful);
        assertThat(heard).extracting(EventRecord::event).contains(Events.CLUSTER_CREATED, Events.PRIMARY_REGISTER);
    }

    @Test
    @Order(4)
    void primaryRegisterTwiceNeedsForce() {
        List<NodeRecord> before = nodes();
        assertThatThrownBy(() -> cluster.registerPrimary(config(1, set.primary())).execute())
                .isInstanceOfSatisfying(ReplicationException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.BAD_CONFIG);
                    assertThat(e.getMessage()).contains("node ID 1 is already registered");
                    assertThat(e.hint()).hasValueSatisfying(h -> assertThat(h).contains("force"));
                });
        assertThat(nodes()).isEqualTo(before);
        EventRecord failed = cluster.events().event(Events.PRIMARY_REGISTER).limit(1).list().get(0);
        assertThat(failed.successful()).isFalse();

        NodeConfig changed = NodeConfig.builder().from(config(1, set.primary())).priority(90).location("dc1").build();
        NodeRecord r = cluster.registerPrimary(changed).force(true).execute();
        assertThat(r.priority()).isEqualTo(90);
        assertThat(cluster.metadata().node(1)).hasValueSatisfying(n -> assertThat(n.location()).isEqualTo("dc1"));
        assertThat(cluster.metadata().votingTerm()).isEqualTo(1);
    }

    @Test
    @Order(5)
    void registeringThePrimaryServerAsStandbyIsRefused() {
        List<NodeRecord> before = nodes();
        assertThatThrownBy(() -> cluster.registerStandby(config(5, set.primary())).execute())
                .isInstanceOfSatisfying(ReplicationException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.BAD_CONFIG);
                    assertThat(e.getMessage()).contains("not in recovery");
                });
        assertThat(nodes()).isEqualTo(before);
    }

    @Test
    @Order(6)
    void standbyRegisterWaitsForStreamingAndWritesRepmgrDetails() {
        NodeRecord r2 = cluster.registerStandby(config(2, set.server("pg2")))
                .waitUntilAttached(Duration.ofSeconds(30)).execute();
        assertThat(r2.upstreamNodeId()).hasValue(1);
        NodeRecord r3 = cluster.registerStandby(config(3, set.server("pg3"))).upstreamNodeId(1)
                .waitUntilAttached(Duration.ofSeconds(30)).execute();
        assertThat(r3.type()).isEqualTo(NodeType.STANDBY);
        assertThat(nodes()).extracting(NodeRecord::nodeId).containsExactly(1, 2, 3);
        EventRecord last = cluster.events().nodeId(3).limit(1).list().get(0);
        assertThat(last.event()).isEqualTo(Events.STANDBY_REGISTER);
        assertThat(last.details()).hasValue("standby registration succeeded; upstream node ID is 1");
        assertThat(last.nodeName()).hasValue("pg3");
    }

    @Test
    @Order(7)
    void badStandbyRegistrationsChangeNothing() {
        List<NodeRecord> before = nodes();
        // duplicate node id without force
        assertThatThrownBy(() -> cluster.registerStandby(config(2, set.server("pg2"))).execute())
                .isInstanceOfSatisfying(ReplicationException.class,
                        e -> assertThat(e.getMessage()).contains("node ID 2 is already registered"));
        // duplicate node name under another id, even with force
        NodeConfig sameName = NodeConfig.builder().from(config(7, set.server("pg3"))).build();
        assertThatThrownBy(() -> cluster.registerStandby(sameName).force(true).execute())
                .isInstanceOfSatisfying(ReplicationException.class,
                        e -> assertThat(e.getMessage()).contains("node name \"pg3\" is already registered with node ID 3"));
        // an upstream that does not exist
        NodeConfig other = NodeConfig.builder().from(config(8, set.server("pg3"))).nodeName("pg8").build();
        assertThatThrownBy(() -> cluster.registerStandby(other).upstreamNodeId(42).execute())
                .isInstanceOfSatisfying(ReplicationException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.BAD_CONFIG);
                    assertThat(e.getMessage()).isEqualTo("upstream node ID 42 is not registered");
                });
        assertThat(nodes()).isEqualTo(before);
        // force overwrites the same id
        NodeConfig reprioritised = NodeConfig.builder().from(config(2, set.server("pg2"))).priority(80).build();
        cluster.registerStandby(reprioritised).force(true).execute();
        assertThat(cluster.metadata().node(2)).hasValueSatisfying(n -> assertThat(n.priority()).isEqualTo(80));
        assertThat(cluster.events().nodeId(2).limit(1).list().get(0).details())
                .hasValue("standby registration succeeded; upstream node ID is 1 (-F/--force option was used)");
    }

    @Test
    @Order(8)
    void unreachableConninfoNamesHostAndPortButNeverThePassword() {
        int closedPort = PgServerPorts.closedPort();
        ConnInfo bad = ConnInfo.parse("host=127.0.0.1 port=" + closedPort + " user=repmgr password=s3cr3t-pw dbname=repmgr connect_timeout=2");
        NodeConfig cfg = NodeConfig.builder().nodeId(9).nodeName("ghost").conninfo(bad).dataDirectory("/nonexistent").build();
        assertThatThrownBy(() -> cluster.registerStandby(cfg).execute())
                .isInstanceOfSatisfying(ReplicationException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.DB_CONN);
                    assertThat(e.getMessage()).contains("127.0.0.1:" + closedPort);
                    assertThat(e.toReport()).doesNotContain("s3cr3t-pw");
                    assertThat(e.toString()).doesNotContain("s3cr3t-pw");
                });
        assertThat(cfg.toString()).doesNotContain("s3cr3t-pw");
    }

    @Test
    @Order(9)
    void unregisterRoundTripAlsoForANodeThatIsDown() {
        set.server("pg3").kill9();
        NodeRecord removed = cluster.unregisterStandby(3).execute();
        assertThat(removed.nodeName()).isEqualTo("pg3");
        assertThat(nodes()).extracting(NodeRecord::nodeId).containsExactly(1, 2);
        assertThat(cluster.events().limit(1).list().get(0).event()).isEqualTo(Events.STANDBY_UNREGISTER);
        assertThatThrownBy(() -> cluster.unregisterStandby(3).execute())
                .isInstanceOfSatisfying(ReplicationException.class,
                        e -> assertThat(e.getMessage()).isEqualTo("node ID 3 is not registered"));
        set.server("pg3").start();
        cluster.registerStandby(config(3, set.server("pg3"))).waitUntilAttached(Duration.ofSeconds(30)).execute();
        assertThat(nodes()).extracting(NodeRecord::nodeId).containsExactly(1, 2, 3);
    }

    @Test
    @Order(10)
    void unregisterPrimaryRefusesARunningPrimaryAndOneWithStandbys() {
        List<NodeRecord> before = nodes();
        assertThatThrownBy(() -> cluster.unregisterPrimary(1).execute())
                .isInstanceOfSatisfying(ReplicationException.class,
                        e -> assertThat(e.getMessage()).contains("is the upstream of"));
        assertThatThrownBy(() -> cluster.unregisterPrimary(2).execute())
                .isInstanceOfSatisfying(ReplicationException.class,
                        e -> assertThat(e.getMessage()).contains("is a standby, not a primary"));
        cluster.unregisterStandby(3).execute();
        cluster.unregisterStandby(2).execute();
        assertThatThrownBy(() -> cluster.unregisterPrimary(1).execute())
                .isInstanceOfSatisfying(ReplicationException.class,
                        e -> assertThat(e.getMessage()).contains("is an active primary and is running"));
        assertThat(nodes()).extracting(NodeRecord::nodeId).containsExactly(1);
        NodeRecord removed = cluster.unregisterPrimary(1).force(true).execute();
        assertThat(removed.nodeId()).isEqualTo(1);
        assertThat(set.primary().query("SELECT count(*) FROM repmgr.nodes", Long.class)).isZero();
        assertThat(set.primary().query(
                "SELECT count(*) FROM repmgr.events WHERE event = 'primary_unregister' AND successful", Long.class)).isEqualTo(1L);
        assertThat(before).hasSize(3);
    }
}
