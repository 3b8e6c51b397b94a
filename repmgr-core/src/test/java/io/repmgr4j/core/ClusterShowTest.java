package io.repmgr4j.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.ClusterStatus;
import io.repmgr4j.ConnInfo;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.NodeState;
import io.repmgr4j.NodeStatus;
import io.repmgr4j.NodeType;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.UpstreamState;
import io.repmgr4j.format.ClusterShowFormat;
import io.repmgr4j.format.EventTableFormat;
import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import io.repmgr4j.testkit.SilentServer;
import java.time.Duration;
import java.util.OptionalInt;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/** cluster show on a real 3-node set: healthy, with a killed standby, with hung hosts, with the primary gone. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterShowTest {
    private PgReplicaSet set;
    private ReplicationCluster cluster;

    @BeforeAll
    void start() {
        set = PgReplicaSet.start(3);
        cluster = ReplicationClusters.connect(set.primary().conninfo());
        cluster.registerPrimary(config(1, set.server("pg1"), 100)).execute();
        cluster.registerStandby(config(2, set.server("pg2"), 80)).waitUntilAttached(Duration.ofSeconds(30)).execute();
        cluster.registerStandby(config(3, set.server("pg3"), 20)).waitUntilAttached(Duration.ofSeconds(30)).execute();
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

    private static NodeConfig config(int id, PgServer s, int priority) {
        return NodeConfig.builder().nodeId(id).nodeName(s.name())
                .conninfo(s.conninfo().with("password", "not-shown-anywhere"))
                .dataDirectory(s.dataDirectory().toString()).priority(priority).build();
    }

    @Test
    @Order(1)
    void healthySetShowsRepmgrsTable() {
        ClusterStatus status = cluster.show().execute();
        assertThat(status.healthy()).as("problems: %s", status.problems()).isTrue();
        assertThat(status.nodes()).extracting(NodeStatus::state)
                .containsExactly(NodeState.PRIMARY_RUNNING, NodeState.STANDBY_RUNNING, NodeState.STANDBY_RUNNING);
        assertThat(status.node("pg2")).hasValueSatisfying(n -> {
            assertThat(n.upstreamState()).isEqualTo(UpstreamState.ATTACHED);
            assertThat(n.upstreamLabel()).isEqualTo("pg1");
            assertThat(n.timeline()).hasValue(1);
            assertThat(n.priority()).isEqualTo(80);
        });
        String table = ClusterShowFormat.table(status);
        String[] lines = table.split("\n");
        assertThat(lines[0].stripTrailing()).isEqualTo(" ID | Name | Role    | Status    | Upstream | Location | Priority | Timeline | Connection string");
        assertThat(lines[1]).startsWith("----+------+---------+-----------+----------+----------+----------+----------+-----");
        assertThat(lines[2]).startsWith(" 1  | pg1  | primary | * running |          | default  | 100      | 1        | host=127.0.0.1");
        assertThat(lines[3]).startsWith(" 2  | pg2  | standby |   running | pg1      | default  | 80       | 1        | host=127.0.0.1");
        assertThat(lines).hasSize(5);
        assertThat(table).doesNotContain("not-shown-anywhere").contains("password=********");
        assertThat(ClusterShowFormat.csv(status).split("\n")).hasSize(4);
        assertThat(ClusterShowFormat.repmgrCsv(status)).isEqualTo("1,0,0\n2,0,1\n3,0,1\n");
        assertThat(EventTableFormat.table(cluster.events().list())).contains("standby_register").contains("cluster_created");
    }

    @Test
    @Order(2)
    void killedStandbyShowsUnreachableAndWarnings() {
        set.server("pg3").kill9();
        ClusterStatus status = cluster.show().timeout(Duration.ofSeconds(5)).execute();
        NodeStatus pg3 = status.node(3).orElseThrow();
        assertThat(pg3.state()).isEqualTo(NodeState.UNREACHABLE);
        assertThat(pg3.state().label()).isEqualTo("? unreachable");
        assertThat(pg3.upstreamLabel()).isEqualTo("? pg1");
        assertThat(pg3.timeline()).isEmpty();
        assertThat(pg3.connectionError()).isPresent();
        assertThat(status.problems()).containsExactly("unable to connect to node \"pg3\" (ID: 3)");
        String table = ClusterShowFormat.table(status);
        assertThat(table).contains("| ? unreachable |").contains("WARNING: following issues were detected")
                .contains("  - unable to connect to node \"pg3\" (ID: 3)").contains("HINT:");
        assertThat(ClusterShowFormat.table(status, true)).doesNotContain("not-shown-anywhere");
        set.server("pg3").start();
    }

    @Test
    @Order(3)
    void hungHostsAreShownUnreachableWithinTheProbeTimeout() throws Exception {
        try (SilentServer a = SilentServer.start(); SilentServer b = SilentServer.start(); SilentServer c = SilentServer.start()) {
            int id = 10;
            for (SilentServer s : new SilentServer[] {a, b, c}) {
                cluster.metadata().insertNode(NodeRecord.builder().nodeId(id).upstreamNodeId(OptionalInt.of(1))
                        .nodeName("hung" + id).type(NodeType.STANDBY)
                        .conninfo(ConnInfo.parse("host=127.0.0.1 port=" + s.port() + " user=repmgr dbname=repmgr connect_timeout=30"))
                        .repluser("repmgr").configFile("test").build());
                id++;
            }
            ClusterStatus status = cluster.show().timeout(Duration.ofSeconds(2)).execute();
            assertThat(status.nodes()).filteredOn(n -> n.nodeName().startsWith("hung"))
                    .extracting(NodeStatus::state).containsOnly(NodeState.UNREACHABLE);
            assertThat(status.node(1).orElseThrow().state()).isEqualTo(NodeState.PRIMARY_RUNNING);
            assertThat(status.nodes()).filteredOn(n -> n.nodeName().startsWith("hung"))
                    .allSatisfy(n -> assertThat(n.connectionError()).isPresent());
        } finally {
            for (int id = 10; id < 13; id++) {
                cluster.metadata().deleteNode(id);
            }
        }
    }

    @Test
    @Order(4)
    void primaryGoneIsSeenThroughAStandbysCopyOfTheMetadata() {
        set.primary().kill9();
        try (ReplicationCluster viaStandby = ReplicationClusters.connect(set.server("pg2").conninfo())) {
            ClusterStatus status = viaStandby.show().timeout(Duration.ofSeconds(5)).execute();
            assertThat(status.node(1).orElseThrow().state()).isEqualTo(NodeState.UNREACHABLE);
            assertThat(status.node(2).orElseThrow().upstreamLabel()).isEqualTo("? pg1");
            assertThat(status.problems()).contains(
                    "unable to connect to node \"pg1\" (ID: 1)",
                    "node \"pg1\" (ID: 1) is registered as an active primary but is unreachable",
                    "unable to connect to node \"pg2\" (ID: 2)'s upstream node \"pg1\" (ID: 1)",
                    "unable to determine if node \"pg2\" (ID: 2) is attached to its upstream node \"pg1\" (ID: 1)");
            assertThat(ClusterShowFormat.table(status)).contains(" 1  | pg1  | primary | ? unreachable | ?  ");
        } finally {
            set.primary().start();
        }
    }
}
