package io.repmgr4j.format;

import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.DaemonMode;
import io.repmgr4j.NodeServiceStatus;
import io.repmgr4j.NodeState;
import io.repmgr4j.NodeStatus;
import io.repmgr4j.NodeType;
import io.repmgr4j.ServiceStatus;
import io.repmgr4j.UpstreamState;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** service status rendered as in the seed's walkthrough (step 15). */
class ServiceStatusFormatTest {

    private static NodeStatus node(int id, String name, NodeType role, NodeState state, Integer upstream, String upName,
                                   UpstreamState us) {
        return NodeStatus.builder().nodeId(id).nodeName(name).role(role).state(state).active(true)
                .upstreamNodeId(upstream == null ? OptionalInt.empty() : OptionalInt.of(upstream))
                .upstreamNodeName(Optional.ofNullable(upName)).upstreamState(us).location("default").priority(100)
                .conninfo(ConnInfo.parse("host=h" + id + " password=secret")).build();
    }

    @Test
    void rendersTheSeedsTableWithAnUnreachablePrimary() {
        ServiceStatus status = ServiceStatus.builder()
                .addNodes(NodeServiceStatus.builder()
                        .node(node(1, "pg50", NodeType.STANDBY, NodeState.STANDBY_RUNNING, 2, "pg49", UpstreamState.UNKNOWN))
                        .daemonRunning(true).daemonPid(OptionalLong.of(80814)).daemonMode(DaemonMode.DEGRADED).paused(true)
                        .upstreamLastSeen(Duration.ofMillis(32_400)).build())
                .addNodes(NodeServiceStatus.builder()
                        .node(node(2, "pg49", NodeType.PRIMARY, NodeState.UNREACHABLE, null, null, UpstreamState.NONE)).build())
                .addNodes(NodeServiceStatus.builder()
                        .node(node(3, "pg149", NodeType.STANDBY, NodeState.STANDBY_RUNNING, 2, "pg49", UpstreamState.UNKNOWN))
                        .daemonRunning(false).paused(false).build())
                .problems(List.of("unable to connect to node \"pg49\" (ID: 2)"))
                .probedAt(OffsetDateTime.now()).probeDuration(Duration.ofMillis(5)).build();
        String[] lines = ServiceStatusFormat.table(status).split("\n");
        assertThat(lines[0]).isEqualTo(" ID | Name  | Role    | Status        | Upstream | repmgrd     | PID   | Paused? | Upstream last seen");
        assertThat(lines[1]).isEqualTo("----+-------+---------+---------------+----------+-------------+-------+---------+--------------------");
        // repmgr pads every row cell, the last one too, and follows each with a space
        assertThat(lines[2]).isEqualTo(" 1  | pg50  | standby |   running     | ? pg49   | running     | 80814 | yes     | 32 second(s) ago   ");
        assertThat(lines[3]).isEqualTo(" 2  | pg49  | primary | ? unreachable | ?        | n/a         | n/a   | n/a     | n/a                ");
        // no pid known: paused and last seen are n/a, as repmgr prints them
        assertThat(lines[4]).isEqualTo(" 3  | pg149 | standby |   running     | ? pg49   | not running | n/a   | n/a     | n/a                ");
        assertThat(lines[5]).isEmpty();
        assertThat(lines[6]).isEqualTo("WARNING: following issues were detected");
        assertThat(lines[7]).isEqualTo("  - unable to connect to node \"pg49\" (ID: 2)");
        assertThat(ServiceStatusFormat.csv(status)).contains("1,pg50,standby,  running,? pg49,running,80814,yes,32 second(s) ago")
                .doesNotContain("secret");
        assertThat(status.node(3)).hasValueSatisfying(n -> assertThat(n.daemonRunning()).hasValue(false));
    }

    @Test
    void agesAreWholeSeconds() {
        assertThat(ServiceStatusFormat.ago(Duration.ofMillis(999))).isEqualTo("0 second(s) ago");
        assertThat(ServiceStatusFormat.ago(Duration.ofSeconds(2))).isEqualTo("2 second(s) ago");
        assertThat(ServiceStatusFormat.ago(Duration.ofSeconds(-1))).isEqualTo("0 second(s) ago");
    }
}
