package io.repmgr4j.core.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.DaemonOptions;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.FailoverMode;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationException;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The settings a daemon runs with: repmgr's defaults, the Java overrides, and what is refused or warned about. */
class DaemonSettingsTest {
    private static final NodeConfig BASE = NodeConfig.builder().nodeId(2).nodeName("pg2")
            .conninfo(ConnInfo.parse("host=127.0.0.1 port=5432 user=repmgr")).dataDirectory("/data").build();

    @Test
    void repmgrsDefaults() {
        DaemonSettings s = DaemonSettings.of(BASE, DaemonOptions.defaults());
        assertThat(s.monitorInterval()).isEqualTo(Duration.ofSeconds(2));
        assertThat(s.reconnectAttempts()).isEqualTo(6);
        assertThat(s.reconnectInterval()).isEqualTo(Duration.ofSeconds(10));
        assertThat(s.reconnectWindow()).isEqualTo(Duration.ofSeconds(50));
        assertThat(s.checkTimeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(s.promoteTimeout()).isEqualTo(Duration.ofSeconds(60));
        assertThat(s.primaryWaitTimeout()).isEqualTo(Duration.ofSeconds(60));
        assertThat(s.automatic()).isFalse();
        assertThat(s.watchUpstream()).isTrue();
        assertThat(s.warnings()).isEmpty();
    }

    @Test
    void javaOverridesAllowSubSecondIntervals() {
        DaemonSettings s = DaemonSettings.of(BASE, DaemonOptions.builder().monitorInterval(Duration.ofMillis(200))
                .reconnectInterval(Duration.ofMillis(150)).build());
        assertThat(s.monitorInterval()).isEqualTo(Duration.ofMillis(200));
        assertThat(s.reconnectWindow()).isEqualTo(Duration.ofMillis(750));
        assertThat(s.checkTimeout()).isEqualTo(Duration.ofSeconds(1));
    }

    @Test
    void refusesWhatCannotWorkAndWarnsAboutWhatIsIgnored() {
        assertThatThrownBy(() -> DaemonSettings.of(NodeConfig.builder().from(BASE).eventNotificationCommand(" ").build(),
                DaemonOptions.defaults())).isInstanceOfSatisfying(ReplicationException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.BAD_CONFIG));
        assertThatThrownBy(() -> DaemonSettings.of(NodeConfig.builder().from(BASE).followCommand("  ").build(),
                DaemonOptions.defaults())).isInstanceOfSatisfying(ReplicationException.class,
                e -> assertThat(e.getMessage()).contains("follow_command is blank"));
        assertThatThrownBy(() -> DaemonSettings.of(BASE, DaemonOptions.builder().monitorInterval(Duration.ofMillis(5)).build()))
                .isInstanceOfSatisfying(ReplicationException.class, e -> assertThat(e.hint()).isPresent());
        DaemonSettings s = DaemonSettings.of(NodeConfig.builder().from(BASE).failover(FailoverMode.AUTOMATIC).priority(0)
                .promoteCommand("repmgr standby promote").eventNotifications(Set.of("repmgrd_start", "typo_event")).build(),
                DaemonOptions.defaults());
        assertThat(s.warnings()).anySatisfy(w -> assertThat(w).contains("priority 0"))
                .noneSatisfy(w -> assertThat(w).contains("promote_command")) // run by the daemon now
                .anySatisfy(w -> assertThat(w).contains("\"typo_event\""))
                .anySatisfy(w -> assertThat(w).contains("event_notification_command is not"));
    }
}
