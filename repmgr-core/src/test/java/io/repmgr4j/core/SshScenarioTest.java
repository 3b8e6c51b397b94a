package io.repmgr4j.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.CloneReport;
import io.repmgr4j.ClusterStatus;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.NodeType;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.core.ssh.SshCommandRunner;
import io.repmgr4j.core.ssh.SshOptions;
import io.repmgr4j.format.ClusterShowFormat;
import io.repmgr4j.format.OperationReportFormat;
import io.repmgr4j.plan.OperationReport;
import io.repmgr4j.plan.Step;
import io.repmgr4j.spi.Command;
import io.repmgr4j.spi.CommandResult;
import io.repmgr4j.spi.CommandRunner;
import io.repmgr4j.testkit.PgSandbox;
import io.repmgr4j.testkit.PgServer;
import io.repmgr4j.testkit.PgWriter;
import io.repmgr4j.testkit.SshServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The full scenario with every node's host reached through SSH to 127.0.0.1 (a private
 * sshd, logged in as the servers' OS user): a primary from the test kit, two standbys
 * built with the library's clone (pg_basebackup, recovery settings, start — all over
 * SSH), registered and streaming, then switchovers (stop, controldata, restart as a
 * standby — all over SSH) to pg2 and back to pg1 with siblings following, while a writer
 * commits every 10 ms and loses nothing. The cluster's default runner
 * refuses to run anything, so a command that did not go through a node's SSH runner
 * fails the test.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SshScenarioTest {
    private static final String SECRET = "ssh-scenario-s3cret";
    private static final Duration WAIT = Duration.ofSeconds(60);

    private final List<AutoCloseable> closeLater = new ArrayList<>();
    private final List<String> localCommands = new CopyOnWriteArrayList<>();
    private Path tmp;
    private SshServer ssh;
    private SshOptions sshDefaults;
    private PgServer pg1;
    private NodeConfig cfg1;
    private NodeConfig cfg2;
    private NodeConfig cfg3;
    private SshCommandRunner r1;
    private SshCommandRunner r2;
    private SshCommandRunner r3;
    private PgSandbox s2;
    private PgSandbox s3;
    private final java.util.Map<Integer, PgServer> servers = new java.util.LinkedHashMap<>();
    private ReplicationCluster cluster;

    @BeforeAll
    void start() throws IOException {
        tmp = Files.createTempDirectory("repmgr4j-ssh-scenario");
        ssh = SshServer.start();
        closeLater.add(ssh);
        Path knownHosts = tmp.resolve("known_hosts");
        Files.writeString(knownHosts, ssh.knownHostsLine() + "\n");
        // what every node shares; each node's repmgr.conf ssh_options adds port and user
        sshDefaults = SshOptions.builder().identityFile(ssh.clientKey().privateKey()).knownHosts(knownHosts).build();

        pg1 = PgServer.builder().name("sshpg1").password(SECRET).start();
        closeLater.add(pg1);
        servers.put(1, pg1);
        s2 = PgSandbox.allocate("sshpg2", null, SECRET);
        closeLater.add(s2);
        s3 = PgSandbox.allocate("sshpg3", null, SECRET);
        closeLater.add(s3);
        cfg1 = node(1, "sshpg1", pg1.conninfo(), pg1.dataDirectory(), pg1.bindir());
        cfg2 = node(2, "sshpg2", s2.conninfo(), s2.dataDirectory(), s2.bindir());
        cfg3 = node(3, "sshpg3", s3.conninfo(), s3.dataDirectory(), s3.bindir());
        r1 = runner(cfg1);
        r2 = runner(cfg2);
        r3 = runner(cfg3);

        CommandRunner refuseLocal = new CommandRunner() {
            @Override
            public CommandResult run(Command command) {
                localCommands.add(command.toString());
                throw new AssertionError("a command ran through the default (local) runner: " + command);
            }

            @Override
            public String describe() {
                return "nowhere (this test reaches every node over SSH)";
            }
        };
        cluster = ReplicationClusters.builder().seed(pg1.conninfo())
                .node(cfg1, r1).node(cfg2, r2).node(cfg3, r3)
                .defaultCommandRunner(refuseLocal)
                .build();
        cluster.registerPrimary(cfg1).execute();
    }

    private NodeConfig node(int id, String name, io.repmgr4j.ConnInfo conninfo, Path data, Path bindir) {
        return NodeConfig.builder().nodeId(id).nodeName(name).conninfo(conninfo).dataDirectory(data.toString())
                .pgBindir(bindir.toString())
                .sshOptions("-q -o ConnectTimeout=10 -p " + ssh.port() + " -l " + ssh.osUser())
                .build();
    }

    private SshCommandRunner runner(NodeConfig cfg) {
        SshCommandRunner r = SshCommandRunner.forNode(cfg, sshDefaults);
        closeLater.add(r);
        return r;
    }

    @AfterAll
    void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
        for (int i = closeLater.size() - 1; i >= 0; i--) {
            try {
                closeLater.get(i).close();
            } catch (Exception e) {
                // keep closing the rest
            }
        }
        if (tmp != null) {
            try (var files = Files.walk(tmp)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Test
    @Order(1)
    void cloneTwoStandbysOverSsh() {
        for (NodeConfig cfg : List.of(cfg2, cfg3)) {
            PgSandbox s = cfg == cfg2 ? s2 : s3;
            SshCommandRunner r = cfg == cfg2 ? r2 : r3;
            List<long[]> progress = new CopyOnWriteArrayList<>();
            CloneReport report = cluster.cloneStandby(cfg)
                    .serverSetting("unix_socket_directories", s.socketDirectory().toString())
                    .progressListener((done, total) -> progress.add(new long[] {done, total}))
                    .fastCheckpoint(true).thenStart().waitUntilStreaming(WAIT).thenRegister().execute();
            assertThat(report.steps()).allMatch(st -> st.status() == Step.Status.DONE);
            assertThat(report.streaming()).isTrue();
            assertThat(report.toString()).doesNotContain(SECRET);
            // pg_basebackup ran on the node's host through its SSH runner, its progress lines streamed back
            assertThat(r.sessionsOpened()).isPositive();
            assertThat(progress).isNotEmpty();
            assertThat(progress.get(progress.size() - 1)[0]).isEqualTo(report.sizeBytes());
            assertThat(Files.exists(s.dataDirectory().resolve("standby.signal"))).isTrue();
            PgServer adopted = s.adopt();
            closeLater.add(adopted);
            servers.put(cfg.nodeId(), adopted);
        }
        ClusterStatus status = cluster.show().execute();
        assertThat(status.healthy()).as(ClusterShowFormat.table(status)).isTrue();
        assertThat(status.nodes()).hasSize(3);
        assertThat(localCommands).isEmpty();
    }

    @Test
    @Order(2)
    void switchoverToEachStandbyAndBackOverSshLosesNoWrite() {
        int previous = 1;
        try (PgWriter writer = PgWriter.start(List.copyOf(servers.values()), Duration.ofMillis(10))) {
            writer.awaitCommits(5, Duration.ofSeconds(10));
            for (int target : new int[] {2, 1}) {
                OperationReport r = cluster.switchover(target).siblingsFollow(true).execute();
                assertThat(r.successful()).as(OperationReportFormat.text(r)).isTrue();
                assertThat(r.summary()).isEqualTo("node \"" + servers.get(target).name() + "\" (ID: " + target
                        + ") promoted to primary, node \"" + servers.get(previous).name() + "\" (ID: " + previous
                        + ") demoted to standby");
                assertThat(OperationReportFormat.text(r)).doesNotContain(SECRET);
                assertThat(servers.get(target).inRecovery()).isFalse();
                List<String> others = new ArrayList<>();
                for (int id : servers.keySet()) {
                    if (id != target) {
                        assertThat(servers.get(id).inRecovery()).isTrue();
                        others.add(servers.get(id).name());
                    }
                }
                // the operation saw each sibling's WAL receiver attach; the new primary may still list it in
                // "catchup" for a moment, so wait (bounded) for "streaming" there too
                for (String other : others) {
                    servers.get(target).waitForStreaming(other, WAIT);
                }
                assertThat(TopologyFixture.streamingFrom(servers.get(target))).containsExactlyElementsOf(others);
                writer.awaitCommits(5, Duration.ofSeconds(10));
                previous = target;
            }
            writer.stop();
            assertThat(writer.missingOn(servers.get(1))).isEmpty();
        }
        for (NodeRecord n : cluster.metadata().nodes()) {
            assertThat(n.type()).isEqualTo(n.nodeId() == 1 ? NodeType.PRIMARY : NodeType.STANDBY);
            assertThat(n.active()).isTrue();
        }
        ClusterStatus status = cluster.show().execute();
        assertThat(status.healthy()).as(ClusterShowFormat.table(status)).isTrue();
        assertThat(localCommands).isEmpty();
        // dozens of commands per node, over a handful of reused connections
        for (SshCommandRunner r : List.of(r1, r2, r3)) {
            assertThat(r.sessionsOpened()).isBetween(1L, 3L);
        }
    }
}
