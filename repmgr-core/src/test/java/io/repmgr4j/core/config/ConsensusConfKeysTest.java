package io.repmgr4j.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.repmgr4j.ErrorCode;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationException;
import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** repmgr4j's own repmgr.conf keys for the consensus store (consensus = etcd). */
class ConsensusConfKeysTest {
    private static final String BASE = "node_id=1\nnode_name=pg1\nconninfo='host=127.0.0.1 port=5433 user=repmgr'\n"
            + "data_directory=/var/lib/pg\n";

    @Test
    void etcdKeysMakeAConsensusConfig() {
        RepmgrConf.Result r = RepmgrConf.parseWithWarnings(BASE + "consensus=etcd\n"
                + "etcd_endpoints='http://10.0.0.1:2379, http://10.0.0.2:2379,http://10.0.0.3:2379'\n"
                + "etcd_prefix=/db\netcd_cluster=orders\netcd_ttl=15\netcd_timeout=1500\n"
                + "etcd_user=repmgr\netcd_password='etcd secret'\n", "repmgr.conf");
        assertThat(r.warnings()).isEmpty();
        NodeConfig c = r.config();
        assertThat(c.consensus()).hasValueSatisfying(e -> {
            assertThat(e.endpoints()).containsExactly(URI.create("http://10.0.0.1:2379"), URI.create("http://10.0.0.2:2379"),
                    URI.create("http://10.0.0.3:2379"));
            assertThat(e.leaderKey()).isEqualTo("/db/orders/leader");
            assertThat(e.ttl()).isEqualTo(Duration.ofSeconds(15));
            assertThat(e.timeout()).isEqualTo(Duration.ofMillis(1500));
            assertThat(e.user()).hasValue("repmgr");
            assertThat(e.password()).hasValue("etcd secret");
            assertThat(e.toString()).doesNotContain("etcd secret");
        });
        assertThat(c.toString()).doesNotContain("etcd secret");
    }

    @Test
    void peersIsTheDefaultAndTakesNoEtcdKeys() {
        assertThat(RepmgrConf.parse(BASE, "repmgr.conf").consensus()).isEmpty();
        assertThat(RepmgrConf.parse(BASE + "consensus=peers\n", "repmgr.conf").consensus()).isEmpty();
        assertThat(RepmgrConf.parse(BASE + "consensus=etcd\netcd_endpoints=http://127.0.0.1:2379\n", "repmgr.conf")
                .consensus()).hasValueSatisfying(e -> {
                    assertThat(e.leaderKey()).isEqualTo("/repmgr4j/default/leader");
                    assertThat(e.ttl()).isEqualTo(Duration.ofSeconds(10));
                });
        assertThatThrownBy(() -> RepmgrConf.parse(BASE + "etcd_endpoints=http://127.0.0.1:2379\netcd_password=hunter22\n",
                "repmgr.conf")).isInstanceOfSatisfying(ReplicationException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.BAD_CONFIG);
                    assertThat(e.getMessage()).contains("consensus is \"peers\"");
                    assertThat(e.hint()).hasValueSatisfying(h -> assertThat(h).contains("consensus = etcd"));
                    assertThat(e.toReport()).doesNotContain("hunter22");
                });
    }

    @Test
    void badEtcdSettingsAreRefusedWithTheLineAndAHint() {
        assertThatThrownBy(() -> RepmgrConf.parse(BASE + "consensus=etcd\n", "repmgr.conf"))
                .isInstanceOfSatisfying(ReplicationException.class, e -> {
                    assertThat(e.getMessage()).contains("no etcd endpoint", "repmgr.conf line 5");
                    assertThat(e.hint()).hasValueSatisfying(h -> assertThat(h).contains("etcd_endpoints"));
                });
        assertThatThrownBy(() -> RepmgrConf.parse(BASE + "consensus=raft\n", "repmgr.conf"))
                .isInstanceOf(ReplicationException.class).hasMessageContaining("consensus");
        assertThatThrownBy(() -> RepmgrConf.parse(BASE + "consensus=etcd\netcd_endpoints=http://127.0.0.1:2379\n"
                + "etcd_ttl=3\netcd_timeout=2000\n", "repmgr.conf"))
                .isInstanceOf(ReplicationException.class).hasMessageContaining("etcd timeout");
        assertThatThrownBy(() -> RepmgrConf.parse(BASE + "consensus=etcd\netcd_endpoints='http://h:2379,https://g:2379'\n",
                "repmgr.conf")).isInstanceOf(ReplicationException.class).hasMessageContaining("mix http and https");
        assertThatThrownBy(() -> RepmgrConf.parse(BASE + "consensus=etcd\netcd_endpoints=http://127.0.0.1:2379\n"
                + "etcd_password=sekrit99\n", "repmgr.conf")).isInstanceOfSatisfying(ReplicationException.class,
                e -> assertThat(e.toReport()).contains("etcd_user").doesNotContain("sekrit99"));
    }
}
