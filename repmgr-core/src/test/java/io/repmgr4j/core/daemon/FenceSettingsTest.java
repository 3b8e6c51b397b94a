package io.repmgr4j.core.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.DaemonOptions;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.FencingMode;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.core.config.RepmgrConf;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The fence settings and the two figures of fence-before-promotion; the repmgr.conf keys;
 * the published figures, the fence marker; and the port probe that tells a refusal from
 * silence (on real loopback sockets).
 */
class FenceSettingsTest {
    private static final NodeConfig BASE = NodeConfig.builder().nodeId(2).nodeName("pg2")
            .conninfo(ConnInfo.parse("host=127.0.0.1 port=5432 user=repmgr")).dataDirectory("/data")
            .monitorIntervalSecs(1).reconnectAttempts(2).reconnectInterval(1).build();

    private static FenceSettings of(NodeConfig n, DaemonOptions o) {
        return FenceSettings.of(DaemonSettings.of(n, o), o);
    }

    @Test
    void defaultsAtMonitorOneSecondAndReconnectTwoTimesOneSecond() {
        FenceSettings f = of(BASE, DaemonOptions.defaults());
        assertThat(f.mode()).isEqualTo(FencingMode.READONLY);
        assertThat(f.probeInterval()).isEqualTo(Duration.ofMillis(250));
        assertThat(f.checkTimeout()).isEqualTo(Duration.ofSeconds(1));
        assertThat(f.isolationTimeout()).isEqualTo(Duration.ofMillis(2500));
        assertThat(f.longestCutToFence()).isEqualTo(Duration.ofMillis(3500));
        assertThat(f.fenceHold()).isEqualTo(Duration.ofMillis(3500));
        assertThat(f.reconnectWindow()).isEqualTo(Duration.ofSeconds(1));
        assertThat(f.shortestCutToPromotion()).isEqualTo(Duration.ofMillis(3500));
    }

    @Test
    void theRuleHoldsByConstructionAndNoneOptsOut() {
        FenceSettings f = of(BASE, DaemonOptions.builder().primaryIsolationTimeout(Duration.ofMillis(1600)).build());
        assertThat(f.shortestCutToPromotion()).isGreaterThanOrEqualTo(f.longestCutToFence());
        assertThat(f.longestCutToFence()).isEqualTo(Duration.ofMillis(2600));
        FenceSettings none = of(BASE, DaemonOptions.builder().fencing(FencingMode.NONE).build());
        assertThat(none.fenceHold()).isZero();
        assertThat(none.shortestCutToPromotion()).isEqualTo(Duration.ofSeconds(1));
        FenceSettings slow = of(NodeConfig.builder().from(BASE).reconnectAttempts(6).reconnectInterval(10).build(),
                DaemonOptions.defaults());
        assertThat(slow.shortestCutToPromotion()).isEqualTo(Duration.ofSeconds(50));
    }

    @Test
    void badFenceSettingsAreRefused() {
        assertThatThrownBy(() -> of(BASE, DaemonOptions.builder().primaryIsolationTimeout(Duration.ofMillis(1250)).build()))
                .isInstanceOfSatisfying(ReplicationException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.BAD_CONFIG);
                    assertThat(e.getMessage()).isEqualTo("primary_isolation_timeout 1250 ms is not longer than one"
                            + " isolation probe round (1250 ms)");
                    assertThat(e.hint().orElse("")).contains("above 1250 ms");
                });
        assertThatThrownBy(() -> of(BASE, DaemonOptions.builder().fencing(FencingMode.COMMAND).build()))
                .isInstanceOf(ReplicationException.class).hasMessage("fencing=command but no fence_command is set");
        assertThatThrownBy(() -> of(BASE, DaemonOptions.builder().fenceCommand(" ").build()))
                .isInstanceOf(ReplicationException.class).hasMessage("fence_command is empty");
        assertThatThrownBy(() -> DaemonOptions.builder().primaryIsolationTimeout(Duration.ZERO).build())
                .isInstanceOf(ReplicationException.class).hasMessageContaining("primaryIsolationTimeout");
    }

    @Test
    void repmgrConfKeys() {
        NodeConfig n = RepmgrConf.parse("node_id=1\nnode_name='pg1'\nconninfo='host=h user=u'\ndata_directory='/d'\n"
                + "fencing=command\nfence_command='/usr/local/bin/fence %n %a %r'\nprimary_isolation_timeout=7\n", "test.conf");
        assertThat(n.fencing()).isEqualTo(FencingMode.COMMAND);
        assertThat(n.fenceCommand()).hasValue("/usr/local/bin/fence %n %a %r");
        assertThat(n.primaryIsolationTimeout()).hasValue(7);
        FenceSettings f = of(NodeConfig.builder().from(n).monitorIntervalSecs(1).build(), DaemonOptions.defaults());
        assertThat(f.isolationTimeout()).isEqualTo(Duration.ofSeconds(7));
        assertThatThrownBy(() -> RepmgrConf.parse("node_id=1\nnode_name='pg1'\nconninfo='host=h'\ndata_directory='/d'\n"
                + "fencing=sometimes\n", "test.conf")).isInstanceOf(ReplicationException.class)
                .hasMessageContaining("\"fencing\"");
        assertThat(RepmgrConf.parse("node_id=1\nnode_name='pg1'\nconninfo='host=h'\ndata_directory='/d'\n", "t").fencing())
                .isEqualTo(FencingMode.READONLY);
    }

    @Test
    void publishedFiguresAndTheMarkerReadBack() {
        FenceGuard.Figures f = FenceGuard.Figures.parse("r4jd safety n=3 fence=2600 promote=2600 auto=1 mode=readonly")
                .orElseThrow();
        assertThat(f).isEqualTo(new FenceGuard.Figures(3, 2600, 2600, true, "readonly"));
        assertThat(FenceGuard.Figures.parse("r4jd n=3 u=1 p=0 a=1 s=5 m=M")).isEmpty();
        assertThat(Beacon.parse("r4jd safety n=3 fence=2600 promote=2600 auto=1 mode=readonly",
                java.util.OptionalLong.empty())).as("not a beacon").isEmpty();
        Fence.Marker m = new Fence.Marker(4, 2, "isolated: no quorum seen for 2000 ms");
        assertThat(Fence.Marker.parse(m.encode() + "\n")).hasValue(m);
        assertThat(Fence.Marker.parse("garbage")).isEmpty();
    }

    @Test
    void aClosedPortIsARefusalAnOpenOneIsOpen() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
            assertThat(PortProbe.probe(ConnInfo.parse("host=127.0.0.1 port=" + port), Duration.ofSeconds(1)))
                    .isEqualTo(PortProbe.Reach.OPEN);
        }
        assertThat(PortProbe.probe(ConnInfo.parse("host=127.0.0.1 port=" + port), Duration.ofSeconds(1)))
                .isEqualTo(PortProbe.Reach.REFUSED);
        assertThat(PortProbe.probe(ConnInfo.parse("host=/tmp port=" + port), Duration.ofSeconds(1)))
                .as("a Unix socket gives no network evidence").isEqualTo(PortProbe.Reach.SILENT);
    }

    @Test
    void majority() {
        assertThat(IsolationWatch.majority(1)).isEqualTo(1);
        assertThat(IsolationWatch.majority(2)).isEqualTo(2);
        assertThat(IsolationWatch.majority(3)).isEqualTo(2);
        assertThat(IsolationWatch.majority(4)).isEqualTo(3);
        assertThat(IsolationWatch.majority(5)).isEqualTo(3);
    }
}
