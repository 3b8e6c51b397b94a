package io.repmgr4j.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.spi.Command;
import io.repmgr4j.spi.CommandResult;
import io.repmgr4j.spi.LocalCommandRunner;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The test sshd, checked with OpenSSH's own client: logins, host key, cleanup. */
class SshServerTest {

    @Test
    void letsTheClientKeyInAsTheServersUserAndCleansUp(@TempDir Path tmp) throws IOException {
        SshServer.KeyFiles other = SshServer.generateKey(tmp, "other", null);
        Path dir;
        long pid;
        int port;
        try (SshServer ssh = SshServer.start(List.of(other.publicKeyLine()))) {
            dir = ssh.directory();
            pid = ssh.pid();
            port = ssh.port();
            Path knownHosts = tmp.resolve("known_hosts");
            Files.writeString(knownHosts, ssh.knownHostsLine() + "\n");
            assertThat(ssh.knownHostsLine()).startsWith("[127.0.0.1]:" + port + " ssh-ed25519 ");
            assertThat(ssh.hostKeyFingerprint()).startsWith("SHA256:");

            CommandResult r = ssh(ssh, ssh.clientKey().privateKey(), knownHosts, "id -un; echo $HOME >/dev/null");
            assertThat(r.succeeded()).as(r.stderr() + ssh.logTail(20)).isTrue();
            assertThat(r.stdout().strip()).isEqualTo(ssh.osUser());
            assertThat(ssh(ssh, other.privateKey(), knownHosts, "true").succeeded()).isTrue();

            SshServer.KeyFiles stranger = SshServer.generateKey(tmp, "stranger", null);
            CommandResult refused = ssh(ssh, stranger.privateKey(), knownHosts, "true");
            assertThat(refused.exitCode()).isEqualTo(255);
            assertThat(refused.stderr()).contains("Permission denied");
        }
        assertThat(Workspace.isAlive(pid)).isFalse();
        assertThat(dir).doesNotExist();
        assertThat(accepts(port)).isFalse();
    }

    @Test
    void theSweepKillsAnSshdLeftByADeadJvm() throws Exception {
        SshServer ssh = SshServer.start();
        try {
            Process gone = new ProcessBuilder("true").start();
            gone.waitFor();
            Files.writeString(ssh.directory().resolve(Workspace.OWNER_FILE), gone.pid() + "\n");
            assertThat(Workspace.isStale(ssh.directory())).isTrue();

            Workspace.sweep();

            assertThat(Workspace.isAlive(ssh.pid())).isFalse();
            assertThat(ssh.directory()).doesNotExist();
        } finally {
            ssh.close();
        }
    }

    private static CommandResult ssh(SshServer server, Path key, Path knownHosts, String remote) {
        return LocalCommandRunner.asCurrentUser().run(Command.of("ssh", "-i", key.toString(), "-p",
                String.valueOf(server.port()), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
                "-o", "UserKnownHostsFile=" + knownHosts, "-o", "IdentitiesOnly=yes", "-o", "ConnectTimeout=10",
                "-l", server.osUser(), server.host(), remote).withTimeout(Duration.ofSeconds(30)));
    }

    private static boolean accepts(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
