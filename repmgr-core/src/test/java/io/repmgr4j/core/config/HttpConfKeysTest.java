package io.repmgr4j.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.repmgr4j.ErrorCode;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** repmgr4j's own repmgr.conf keys for the daemon's HTTP health endpoints. */
class HttpConfKeysTest {
    private static final String BASE = "node_id=1\nnode_name=pg1\nconninfo='host=127.0.0.1 port=5433 user=repmgr'\n"
            + "data_directory=/var/lib/pg\n";

    @Test
    void httpKeysMakeAnEndpoint() {
        RepmgrConf.Result r = RepmgrConf.parseWithWarnings(BASE + "http_listen_address=0.0.0.0\nhttp_port=8008\n"
                + "http_user=haproxy\nhttp_password='pw secret'\nhttp_keystore=/etc/repmgr/health.p12\n"
                + "http_keystore_password=kspw\n", "repmgr.conf");
        assertThat(r.warnings()).isEmpty();
        NodeConfig c = r.config();
        assertThat(c.http()).hasValueSatisfying(h -> {
            assertThat(h.listenAddress()).isEqualTo("0.0.0.0");
            assertThat(h.port()).isEqualTo(8008);
            assertThat(h.user()).hasValue("haproxy");
            assertThat(h.password()).hasValue("pw secret");
            assertThat(h.keystore()).hasValue(Path.of("/etc/repmgr/health.p12"));
            assertThat(h.toString()).doesNotContain("pw secret", "kspw");
        });
        assertThat(c.toString()).doesNotContain("pw secret", "kspw");
    }

    @Test
    void noHttpKeysNoEndpoint() {
        assertThat(RepmgrConf.parse(BASE, "repmgr.conf").http()).isEmpty();
        assertThat(RepmgrConf.parse(BASE + "http_port=8009\n", "repmgr.conf").http())
                .hasValueSatisfying(h -> assertThat(h.listenAddress()).isEqualTo("127.0.0.1"));
    }

    @Test
    void badHttpSettingsAreRefusedWithAHint() {
        assertThatThrownBy(() -> RepmgrConf.parse(BASE + "http_user=a\nhttp_password=secretpw\n", "repmgr.conf"))
                .isInstanceOfSatisfying(ReplicationException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.BAD_CONFIG);
                    assertThat(e.getMessage()).contains("http_port is not set");
                    assertThat(e.hint()).hasValueSatisfying(h -> assertThat(h).contains("http_port = 8008"));
                    assertThat(e.toReport()).doesNotContain("secretpw");
                });
        assertThatThrownBy(() -> RepmgrConf.parse(BASE + "http_port=8008\nhttp_user=a\n", "repmgr.conf"))
                .isInstanceOf(ReplicationException.class).hasMessageContaining("http_user and http_password");
        assertThatThrownBy(() -> RepmgrConf.parse(BASE + "http_port=99999\n", "repmgr.conf"))
                .isInstanceOf(ReplicationException.class).hasMessageContaining("out of range");
        assertThatThrownBy(() -> RepmgrConf.parse(BASE + "http_port=eighty\n", "repmgr.conf"))
                .isInstanceOf(ReplicationException.class).hasMessageContaining("http_port");
    }
}
