package io.repmgr4j.core.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.core.host.ControlData;
import io.repmgr4j.core.host.NodeHost;
import io.repmgr4j.core.host.PgControl;
import io.repmgr4j.core.host.RecoveryConfig;
import io.repmgr4j.testkit.PgServer;
import io.repmgr4j.testkit.SshServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * NodeHost, PgControl and RecoveryConfig on a real PostgreSQL server whose host is reached
 * only through SSH (sshd on loopback, logged in as the server's OS user).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SshHostToolsTest {
    private PgServer server;
    private SshServer ssh;
    private SshCommandRunner runner;
    private PgControl control;
    private NodeHost host;
    private Path knownHosts;

    @BeforeAll
    void start() throws IOException {
        server = PgServer.builder().name("sshtools").start();
        ssh = SshServer.start();
        knownHosts = Files.createTempFile("repmgr4j-known-hosts", "");
        Files.writeString(knownHosts, ssh.knownHostsLine() + "\n");
        // as a repmgr.conf would say it: the host from conninfo, port and user from ssh_options
        NodeConfig cfg = NodeConfig.builder().nodeId(1).nodeName("sshtools").conninfo(server.conninfo())
                .dataDirectory(server.dataDirectory().toString()).pgBindir(server.bindir().toString())
                .sshOptions("-q -o ConnectTimeout=10 -p " + ssh.port() + " -l " + ssh.osUser()
                        + " -o UserKnownHostsFile=" + knownHosts)
                .build();
        runner = SshCommandRunner.forNode(cfg, SshOptions.builder().identityFile(ssh.clientKey().privateKey()).build());
        control = new PgControl(cfg, runner);
        host = new NodeHost(runner);
    }

    @AfterAll
    void stop() throws IOException {
        if (runner != null) {
            runner.close();
        }
        if (ssh != null) {
            ssh.close();
        }
        if (server != null) {
            server.close();
        }
        if (knownHosts != null) {
            Files.deleteIfExists(knownHosts);
        }
    }

    @Test
    void theRunnerReachesTheNodeAsItsOsUser() {
        assertThat(runner.describe()).isEqualTo("ssh " + ssh.osUser() + "@127.0.0.1:" + ssh.port());
        assertThat(host.stat(server.dataDirectory().toString())).hasValueSatisfying(s -> {
            assertThat(s.owner()).isEqualTo(server.osUser());
            assertThat(s.octalMode()).isEqualTo("700");
        });
    }

    @Test
    void filesThroughSsh() {
        String scratch = server.dataDirectory().getParent().resolve("scratch dir; $(touch pwned) 'q'").toString();
        assertThat(host.exists(scratch)).isFalse();
        host.mkdirs(scratch, 0700);
        assertThat(host.isEmptyDirectory(scratch)).isTrue();
        String file = scratch + "/it's a \"file\"";
        host.writeFile(file, "line one\nline 'two'\n", 0600);
        host.appendFile(file, "three\n");
        assertThat(host.readFile(file)).isEqualTo("line one\nline 'two'\nthree\n");
        assertThat(host.list(scratch)).containsExactly("it's a \"file\"");
        assertThat(host.stat(file)).hasValueSatisfying(s -> assertThat(s.octalMode()).isEqualTo("600"));
        assertThat(host.isWritableDirectory(scratch)).isTrue();
        host.rename(file, scratch + "/renamed");
        assertThat(host.list(scratch)).containsExactly("renamed");
        host.removeRecursively(scratch);
        assertThat(host.exists(scratch)).isFalse();
        assertThat(host.exists(server.dataDirectory().getParent().resolve("pwned").toString())).isFalse();
        assertThatThrownBy(() -> host.readFile(scratch + "/missing"))
                .isInstanceOfSatisfying(ReplicationException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.LOCAL_COMMAND);
                    assertThat(e.getMessage()).contains(runner.describe());
                });
    }

    @Test
    void stopStartControlDataAndRecoverySettingsThroughSsh() {
        assertThat(control.majorVersion("pg_ctl")).isEqualTo(15);
        assertThat(control.isRunning()).isTrue();
        assertThat(control.controlData().clusterState()).isEqualTo("in production");

        control.stop(PgControl.StopMode.FAST, Duration.ofSeconds(30));
        assertThat(control.isRunning()).isFalse();
        assertThat(server.isRunning()).isFalse();
        ControlData cd = control.controlData();
        assertThat(cd.shutDownCleanly()).isTrue();
        assertThat(cd.checkpointTimeline()).isEqualTo(1);

        // recovery settings written over SSH are the ones the server reads: it comes back as a standby
        RecoveryConfig rc = RecoveryConfig.streamingFrom(control.node(),
                ConnInfo.parse("host=127.0.0.1 port=1 user=repmgr"), Optional.empty());
        rc.writeTo(host, server.dataDirectory().toString());
        assertThat(host.exists(server.dataDirectory() + "/standby.signal")).isTrue();
        control.start(Duration.ofSeconds(60));
        assertThat(server.inRecovery()).isTrue();
        assertThat(server.query("SHOW primary_conninfo", String.class)).contains("port=1")
                .contains("application_name=sshtools");
        assertThat(server.query("SELECT system_identifier FROM pg_control_system()", Long.class))
                .isEqualTo(cd.systemIdentifier());

        // back to a primary for the other tests
        control.stop(PgControl.StopMode.FAST, Duration.ofSeconds(30));
        host.removeRecursively(server.dataDirectory() + "/standby.signal");
        control.start(Duration.ofSeconds(60));
        assertThat(server.inRecovery()).isFalse();
        control.reload();
    }
}
