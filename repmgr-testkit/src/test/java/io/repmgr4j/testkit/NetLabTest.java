package io.repmgr4j.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.repmgr4j.spi.Command;
import io.repmgr4j.spi.LocalCommandRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The network lab on real namespaces: servers inside them, cuts and heals, and nothing left after close. */
class NetLabTest {
    private static String sh(String... argv) {
        return LocalCommandRunner.asCurrentUser().run(Command.of(argv).withTimeout(Duration.ofSeconds(30))).stdout();
    }

    /** Whether a TCP connection to the server's port opens within a second (a cut link drops the SYN). */
    private static boolean reachable(PgServer s) {
        try (java.net.Socket socket = new java.net.Socket()) {
            socket.connect(new java.net.InetSocketAddress(s.host(), s.port()), 1000);
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
    }

    @Test
    void serversInNamespacesReplicateAndCutsSeparateThem() throws Exception {
        assumeTrue(LocalCommandRunner.jvmIsRoot(), "network namespaces need root");
        NetLab lab = NetLab.create();
        String netns;
        Path dir;
        NetProcess sleeper;
        PgServer pg1;
        try (lab) {
            NetNode n1 = lab.node("n1");
            NetNode n2 = lab.node("n2");
            netns = n1.netns();
            pg1 = n1.startPrimary("pg1", b -> { });
            PgServer pg2 = n2.createStandby(pg1, "pg2");
            assertThat(pg1.host()).isEqualTo(n1.address());
            assertThat(pg1.query("SELECT host(inet_server_addr())", String.class)).isEqualTo(n1.address());
            assertThat(pg1.query("SELECT host(inet_client_addr())", String.class)).isEqualTo(lab.clientAddress());
            assertThat(pg2.inRecovery()).isTrue();
            assertThat(sh("ip", "netns", "exec", n1.netns(), "ip", "-o", "addr", "show", "lo")).contains("127.0.0.1");

            lab.cut(n1, n2);
            assertThat(lab.activeRules()).hasSize(4);
            pg1.execute("CREATE TABLE t (i int)");
            assertThat(reachable(pg1)).isTrue();
            assertThat(reachable(pg2)).isTrue();
            lab.healAll();
            assertThat(lab.activeRules()).isEmpty();
            pg1.waitForStreaming(pg2, Duration.ofSeconds(30));

            lab.isolate(n1);
            assertThat(reachable(pg1)).isFalse();
            assertThat(reachable(pg2)).isTrue();
            lab.unisolate(n1);
            lab.cutFromClient(n2);
            assertThat(reachable(pg1)).isTrue();
            assertThat(reachable(pg2)).isFalse();
            lab.healFromClient(n2);
            assertThat(reachable(pg2)).isTrue();

            dir = lab.directory();
            sleeper = n1.start("sleep", List.of("sleep", "600"), Map.of(), dir.resolve("sleep.log"));
            assertThat(sh("ip", "netns", "pids", n1.netns())).contains(Long.toString(sleeper.pid()));
            assertThatThrownBy(() -> lab.node("n1")).isInstanceOf(IllegalArgumentException.class);
        }
        assertThat(sleeper.isAlive()).isFalse();
        assertThat(pg1.isRunning()).isFalse();
        assertThat(Files.exists(pg1.dataDirectory())).isFalse();
        assertThat(Files.exists(dir)).isFalse();
        assertThat(sh("ip", "netns", "list")).doesNotContain(netns);
        String id = netns.substring(0, netns.indexOf('-'));
        assertThat(sh("ip", "-o", "link", "show")).doesNotContain(id);
        lab.close(); // idempotent
    }

    @Test
    void theNextLabRemovesWhatAKilledJvmLeftBehind() throws Exception {
        assumeTrue(LocalCommandRunner.jvmIsRoot(), "network namespaces need root");
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", cp, NetLabLeftovers.class.getName()).redirectErrorStream(true).start();
        String ready = null;
        try (java.io.BufferedReader r = new java.io.BufferedReader(
                new java.io.InputStreamReader(child.getInputStream(), java.nio.charset.StandardCharsets.UTF_8))) {
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            for (String line; System.nanoTime() < deadline && (line = r.readLine()) != null; ) {
                if (line.startsWith("READY ")) {
                    ready = line;
                    break;
                }
            }
            assertThat(ready).as("the child's lab").isNotNull();
            String[] f = ready.split(" ");
            String netns = f[1];
            long sleeper = Long.parseLong(f[2]);
            child.destroyForcibly(); // SIGKILL: no shutdown hook runs
            assertThat(child.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            assertThat(sh("ip", "netns", "list")).contains(netns);
            assertThat(ProcessHandle.of(sleeper).map(ProcessHandle::isAlive)).hasValue(true);

            NetLab.create().close();
            assertThat(sh("ip", "netns", "list")).doesNotContain(netns);
            PartitionWait.until(() -> ProcessHandle.of(sleeper).map(h -> !h.isAlive()).orElse(true));
            String id = netns.substring(0, netns.indexOf('-'));
            PartitionWait.until(() -> !sh("ip", "-o", "link", "show").contains(id));
        } finally {
            child.destroyForcibly();
        }
    }

    /** Waits up to 10 s for something the kernel finishes asynchronously (a namespace's links, a killed process). */
    private static final class PartitionWait {
        static void until(java.util.function.BooleanSupplier condition) throws InterruptedException {
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (!condition.getAsBoolean()) {
                assertThat(System.nanoTime()).as("still not done after 10 s").isLessThan(deadline);
                Thread.sleep(100);
            }
        }
    }
}
