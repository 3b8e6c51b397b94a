package io.repmgr4j.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.repmgr4j.ErrorCode;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.core.host.RecoveryConfig;
import io.repmgr4j.format.OperationReportFormat;
import io.repmgr4j.plan.OperationReport;
import io.repmgr4j.spi.Command;
import io.repmgr4j.spi.CommandResult;
import io.repmgr4j.spi.CommandRunner;
import io.repmgr4j.spi.LocalCommandRunner;
import io.repmgr4j.testkit.PgSandbox;
import io.repmgr4j.testkit.PgServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A follow on a cluster handle that was given no node configuration (only a seed) keeps
 * the password out of primary_conninfo like every other path: the standby's data
 * directory is asked of its server, the 0600 password file written through the default
 * runner and checked through the server, and no server log line (the reload's
 * "parameter "primary_conninfo" changed to ..." included, with log_statement = all) holds
 * the password. With a runner that does not reach the server's host (its writes land
 * elsewhere), the follow is refused with a hint and nothing changes.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FollowPasswordFileTest {
    private static final String SECRET = "Fw-17:pa\\ss";
    private static final Duration WAIT = Duration.ofSeconds(60);
    private final List<AutoCloseable> closeLater = new ArrayList<>();

    @AfterAll
    void stop() throws Exception {
        for (int i = closeLater.size() - 1; i >= 0; i--) {
            closeLater.get(i).close();
        }
    }

    private static String read(Path p) {
        try {
            return Files.exists(p) ? Files.readString(p) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private PgServer cloneStarted(ReplicationCluster cluster, int id, String name) {
        PgSandbox s = PgSandbox.allocate(name, null, SECRET);
        closeLater.add(s);
        NodeConfig cfg = s.nodeConfig(id).build();
        cluster.cloneStandby(cfg).fastCheckpoint(true).serverSetting("unix_socket_directories", s.socketDirectory().toString())
                .serverSetting("log_statement", "all").thenStart().waitUntilStreaming(WAIT).thenRegister().execute();
        return s.adopt();
    }

    private static String serverLogs(PgServer s) {
        StringBuilder out = new StringBuilder();
        for (Path dir : List.of(s.logFile().getParent(), s.dataDirectory().resolve("log"))) {
            if (Files.isDirectory(dir)) {
                try (Stream<Path> files = Files.list(dir)) {
                    files.filter(Files::isRegularFile).map(FollowPasswordFileTest::read).forEach(out::append);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
        return out.toString();
    }

    /** The default runner, except that every path under {@code from} is written under {@code to}: another host. */
    private static CommandRunner elsewhere(String from, String to) {
        CommandRunner local = LocalCommandRunner.asUser("postgres");
        return new CommandRunner() {
            @Override
            public CommandResult run(Command command) {
                List<String> argv = command.argv().stream().map(a -> a.replace(from, to)).toList();
                Command moved = Command.of(argv).withTimeout(command.timeout());
                if (command.stdin().isPresent()) {
                    moved = moved.withStdin(command.stdin().get());
                }
                for (var e : command.environment().entrySet()) {
                    moved = moved.withEnv(e.getKey(), e.getValue());
                }
                return local.run(moved);
            }

            @Override
            public String describe() {
                return "another host";
            }
        };
    }

    @Test
    void aFollowWithoutTheNodesConfigurationWritesThePasswordFile() throws Exception {
        PgServer pg1 = PgServer.builder().name("pg1").password(SECRET).setting("log_statement", "all").start();
        closeLater.add(pg1);
        PgServer pg2;
        PgServer pg3;
        try (ReplicationCluster builder = ReplicationClusters.builder().seed(pg1.conninfo()).build()) {
            builder.registerPrimary(pg1.nodeConfig(1).build()).execute();
            pg2 = cloneStarted(builder, 2, "pg2");
            pg3 = cloneStarted(builder, 3, "pg3");
        }
        Path passfile = pg3.dataDirectory().resolve(RecoveryConfig.PASSFILE);
        Files.delete(passfile); // the clone's file: the follow must write its own
        String before = pg3.query("SHOW primary_conninfo", String.class);

        // a runner whose files land on "another host": refused, nothing changed
        Path other = Files.createTempDirectory("repmgr4j-other-host-");
        closeLater.add(() -> {
            try (Stream<Path> w = Files.walk(other)) {
                w.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        });
        Files.setPosixFilePermissions(other, PosixFilePermissions.fromString("rwxrwxrwx"));
        try (ReplicationCluster wrongHost = ReplicationClusters.builder().seed(pg1.conninfo())
                .defaultCommandRunner(elsewhere(pg3.dataDirectory().toString(), other.toString())).build()) {
            ReplicationException e = catchThrowableOfType(ReplicationException.class,
                    () -> wrongHost.follow(3).upstreamNodeId(2).execute());
            assertThat(e).isNotNull();
            assertThat(e.code()).isEqualTo(ErrorCode.FOLLOW_FAIL);
            assertThat(e.getMessage()).contains("unable to keep the password out of the primary_conninfo").contains("its primary_conninfo was not changed");
            assertThat(e.detail()).hasValueSatisfying(d -> assertThat(d).contains("is not the one the server reads there"));
            assertThat(e.hint()).hasValueSatisfying(h -> assertThat(h).contains("node(config, runner)"));
            assertThat(e.toReport()).doesNotContain(SECRET);
        }
        assertThat(pg3.query("SHOW primary_conninfo", String.class)).isEqualTo(before);
        assertThat(passfile).doesNotExist();
        try (Stream<Path> left = Files.list(other)) {
            assertThat(left.toList()).as("the staged file on the other host is removed").isEmpty();
        }
        pg1.waitForStreaming(pg3, WAIT);

        // the default runner reaches the server's host: the file is written, the password stays out of primary_conninfo
        try (ReplicationCluster seedOnly = ReplicationClusters.connect(pg1.conninfo())) {
            OperationReport r = seedOnly.follow(3).upstreamNodeId(2).execute();
            assertThat(r.successful()).as(OperationReportFormat.text(r)).isTrue();
            assertThat(OperationReportFormat.text(r)).contains("write the password file").doesNotContain(SECRET);
        }
        pg2.waitForStreaming(pg3, WAIT);
        assertThat(read(passfile)).isEqualTo("*:*:*:repmgr:Fw-17\\:pa\\\\ss\n");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(passfile))).isEqualTo("rw-------");
        try (Stream<Path> files = Files.list(pg3.dataDirectory())) {
            assertThat(files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(RecoveryConfig.PASSFILE + ".")))
                    .as("no staged file left").isEmpty();
        }
        String shown = pg3.query("SHOW primary_conninfo", String.class);
        assertThat(shown).contains("passfile=").contains("port=" + pg2.port()).doesNotContain("password");
        String logs = serverLogs(pg3);
        assertThat(logs).contains("parameter \"primary_conninfo\" changed to").doesNotContain(SECRET);
        assertThat(read(pg3.dataDirectory().resolve("postgresql.auto.conf"))).doesNotContain(SECRET);
    }
}
