package io.repmgr4j.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.CloneReport;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.core.host.PgControl;
import io.repmgr4j.testkit.PgSandbox;
import io.repmgr4j.testkit.PgServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * No shell ever expands a data directory: a standby cloned into a directory whose name
 * holds {@code $(...)}, backticks, double and single quotes and a backslash is started,
 * restarted, reloaded, asked about and stopped through pg_ctl, and no command hidden in
 * the name runs (no marker file appears in the directory pg_ctl runs in, the JVM's
 * working directory, the base directory or the server OS user's home).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HardeningShellTest {
    private static final String SECRET = "shell-s3cret";
    private static final Duration WAIT = Duration.ofSeconds(60);
    private PgServer pg1;
    private ReplicationCluster cluster;
    private final List<AutoCloseable> closeLater = new ArrayList<>();

    @BeforeAll
    void start() {
        pg1 = PgServer.builder().name("pg1").password(SECRET).start();
        closeLater.add(pg1);
        cluster = ReplicationClusters.builder().seed(pg1.conninfo()).build();
        cluster.registerPrimary(pg1.nodeConfig(1).build()).execute();
    }

    @AfterAll
    void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
        for (int i = closeLater.size() - 1; i >= 0; i--) {
            closeLater.get(i).close();
        }
    }

    private static List<Path> markers(Path... roots) throws IOException {
        List<Path> found = new ArrayList<>();
        for (Path root : roots) {
            if (root == null || !Files.isDirectory(root)) {
                continue;
            }
            try (Stream<Path> s = Files.walk(root, 6)) {
                s.filter(p -> p.getFileName() != null && p.getFileName().toString().startsWith("PWNED_")).forEach(found::add);
            }
        }
        return found;
    }

    @Test
    void aDataDirectoryWithShellCharactersIsNeverExecuted() throws Exception {
        PgSandbox s = PgSandbox.allocate("pgsh", null, SECRET);
        closeLater.add(s);
        Path home = Paths.get(new String(new ProcessBuilder("sh", "-c", "getent passwd " + s.osUser() + " | cut -d: -f6")
                .start().getInputStream().readAllBytes()).strip());
        Path homeMarker = home.resolve("PWNED_HOME_h17");
        Files.deleteIfExists(homeMarker);
        String dir = s.baseDirectory().resolve("d $(touch PWNED_A) `touch PWNED_B` \"q\" 'it''s' \\x $(cd;touch PWNED_HOME_h17) e")
                .toString();
        NodeConfig node = NodeConfig.builder().nodeId(2).nodeName("pgsh").conninfo(s.conninfo()).dataDirectory(dir)
                .pgBindir(s.bindir().toString()).build();
        PgControl control = new PgControl(node, s.runner());
        try {
            CloneReport r = cluster.cloneStandby(node).fastCheckpoint(true).serverSetting("unix_socket_directories", s.socketDirectory().toString())
                    .thenStart().waitUntilStreaming(WAIT).thenRegister().execute();
            assertThat(r.streaming()).isTrue();
            assertThat(control.isRunning()).isTrue();
            control.reload();
            control.restart(WAIT);
            assertThat(control.isRunning()).isTrue();
            control.stop(PgControl.StopMode.FAST, WAIT);
            assertThat(control.isRunning()).isFalse();
            control.start(WAIT);
            assertThat(control.isRunning()).isTrue();
            assertThat(Path.of(dir, "log", "repmgr4j-server.log")).exists();
            assertThat(Files.readString(Path.of(dir, "postmaster.opts"))).doesNotContain(dir);
            control.stop(PgControl.StopMode.FAST, WAIT);
        } finally {
            if (Files.exists(Path.of(dir, "postmaster.pid"))) {
                control.stop(PgControl.StopMode.IMMEDIATE, WAIT);
            }
            List<Path> found = markers(Path.of(dir), Paths.get("").toAbsolutePath(), s.baseDirectory());
            boolean homeTouched = Files.exists(homeMarker);
            Files.deleteIfExists(homeMarker);
            assertThat(found).as("files created by commands in the directory's name").isEmpty();
            assertThat(homeTouched).as(homeMarker + " created").isFalse();
        }
    }
}
