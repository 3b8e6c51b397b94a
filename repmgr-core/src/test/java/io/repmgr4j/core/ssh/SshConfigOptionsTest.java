package io.repmgr4j.core.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationException;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** repmgr.conf's ssh_options mapped onto SshOptions, and the per-node factory. */
class SshConfigOptionsTest {
    private static final Path HOME = Path.of(System.getProperty("user.home"));

    @Test
    void mapsWhatHasAnEquivalent() {
        SshOptions.Builder b = SshOptions.builder();
        SshConfigOptions.Result r = SshConfigOptions.apply("-q -o ConnectTimeout=10 -o StrictHostKeyChecking=no -p 2222"
                + " -i ~/.ssh/id_rsa -l postgres -o UserKnownHostsFile=/etc/repmgr/known_hosts -o BatchMode=yes", b);
        SshOptions o = b.host("pg1").build();
        assertThat(r.warnings()).isEmpty();
        assertThat(o.port()).isEqualTo(2222);
        assertThat(o.user()).isEqualTo("postgres");
        assertThat(o.identityFile()).contains(HOME.resolve(".ssh/id_rsa"));
        assertThat(o.connectTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(o.strictHostKeyChecking()).isFalse();
        assertThat(o.knownHosts()).isEqualTo(Path.of("/etc/repmgr/known_hosts"));
        assertThat(o.target()).isEqualTo("postgres@pg1:2222");
    }

    @Test
    void acceptsTheOtherSpellings() {
        SshOptions.Builder b = SshOptions.builder();
        SshConfigOptions.Result r = SshConfigOptions.apply("-p2200 -lrepmgr -oPort=2201 -o 'User admin'"
                + " -o \"IdentityFile=/keys/my key\" -o StrictHostKeyChecking=yes -o ServerAliveInterval=5", b);
        SshOptions o = b.build();
        assertThat(r.warnings()).isEmpty();
        assertThat(o.port()).isEqualTo(2201);
        assertThat(o.user()).isEqualTo("admin");
        assertThat(o.identityFile()).contains(Path.of("/keys/my key"));
        assertThat(o.strictHostKeyChecking()).isTrue();
        assertThat(o.serverAliveInterval()).isEqualTo(Duration.ofSeconds(5));
    }

    @Test
    void warnsAboutWhatItCannotMap() {
        SshOptions.Builder b = SshOptions.builder();
        SshConfigOptions.Result r = SshConfigOptions.apply("-A -J bastion -o ProxyCommand=nc -o StrictHostKeyChecking=accept-new"
                + " stray", b);
        assertThat(r.warnings()).hasSize(5);
        assertThat(r.warnings().get(0)).contains("\"-A\"").contains("ignored");
        assertThat(r.warnings().get(1)).contains("\"-J bastion\"");
        assertThat(r.warnings().get(2)).contains("ProxyCommand=nc");
        assertThat(r.warnings().get(3)).contains("accept-new").contains("\"yes\"");
        assertThat(r.warnings().get(4)).contains("\"stray\"");
        assertThat(b.build().strictHostKeyChecking()).isTrue();
    }

    @Test
    void refusesMalformedValuesAsBadConfig() {
        for (String bad : new String[] {"-p", "-p abc", "-p 70000", "-o ConnectTimeout=soon", "-o 'unbalanced",
                "-o StrictHostKeyChecking=maybe", "-o Port"}) {
            assertThatThrownBy(() -> SshConfigOptions.apply(bad, SshOptions.builder()))
                    .as(bad)
                    .isInstanceOfSatisfying(ReplicationException.class, e -> {
                        assertThat(e.code()).isEqualTo(ErrorCode.BAD_CONFIG);
                        assertThat(e.getMessage()).contains("ssh_options");
                        assertThat(e.detail()).isPresent();
                    });
        }
    }

    @Test
    void splitsLikeAShell() {
        assertThat(SshConfigOptions.split("  a 'b c' \"d \\\"e\\\"\" f\\ g ''  ")).containsExactly("a", "b c", "d \"e\"",
                "f g", "");
    }

    @Test
    void forNodeTakesTheConninfoHostAndTheNodesSshOptions() {
        NodeConfig node = node("host=db2.example.com port=5433 user=repmgr dbname=repmgr", "-p 2222 -l postgres");
        SshOptions defaults = SshOptions.builder().user("admin").connectTimeout(Duration.ofSeconds(3)).build();
        try (SshCommandRunner r = SshCommandRunner.forNode(node, defaults)) {
            assertThat(r.describe()).isEqualTo("ssh postgres@db2.example.com:2222");
            assertThat(r.options().connectTimeout()).isEqualTo(Duration.ofSeconds(3));
            assertThat(r.sessionsOpened()).isZero();
        }
        try (SshCommandRunner r = SshCommandRunner.forNode(node, defaults.toBuilder().host("10.0.0.2").build())) {
            assertThat(r.describe()).isEqualTo("ssh postgres@10.0.0.2:2222");
        }
    }

    @Test
    void forNodeRefusesASocketDirectoryAsHost() {
        NodeConfig node = node("host=/var/run/postgresql user=repmgr dbname=repmgr", null);
        assertThatThrownBy(() -> SshCommandRunner.forNode(node, SshOptions.defaults()))
                .isInstanceOfSatisfying(ReplicationException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.BAD_CONFIG);
                    assertThat(e.getMessage()).contains("pg2");
                });
    }

    @Test
    void secretsStayOutOfToString() {
        SshOptions o = SshOptions.builder().host("h").user("u").privateKey("-----BEGIN KEY-----secretkey")
                .passphrase("hunter2").password("pa55word").build();
        assertThat(o.toString()).doesNotContain("hunter2", "pa55word", "secretkey")
                .contains("passphrase set", "password set", "key in memory");
        assertThat(o.hasPassword()).isTrue();
        assertThat(SshOptions.builder().host("h").strictHostKeyChecking(false).build().toString())
                .contains("strict host key checking OFF");
    }

    @Test
    void createNeedsAHost() {
        assertThatThrownBy(() -> SshCommandRunner.create(SshOptions.defaults())).isInstanceOf(IllegalArgumentException.class);
    }

    private static NodeConfig node(String conninfo, String sshOptions) {
        return NodeConfig.builder().nodeId(2).nodeName("pg2").conninfo(ConnInfo.parse(conninfo))
                .dataDirectory("/var/lib/postgresql/15/main").sshOptions(java.util.Optional.ofNullable(sshOptions)).build();
    }
}
