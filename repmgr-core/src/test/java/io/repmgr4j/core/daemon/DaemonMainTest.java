package io.repmgr4j.core.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.DaemonEvents;
import io.repmgr4j.DaemonMode;
import io.repmgr4j.DaemonState;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.core.ReplicationClusters;
import io.repmgr4j.testkit.PgServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The standalone daemon: arguments, repmgr.conf, exit codes, and a start and stop on a real primary. */
class DaemonMainTest {
    @TempDir
    Path dir;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return DaemonMain.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), d -> { });
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void badArgumentsAndFilesExitWithBadConfig() throws IOException {
        assertThat(run()).isEqualTo(1);
        assertThat(err()).contains("ERROR: no configuration file given").contains("usage: DaemonMain -f");
        assertThat(run("--frobnicate")).isEqualTo(1);
        assertThat(run("-f")).isEqualTo(1);
        assertThat(run("-f", "x.conf", "--monitor-interval-ms", "soon")).isEqualTo(1);
        assertThat(err()).contains("invalid value \"soon\" for --monitor-interval-ms");
        assertThat(run("-f", dir.resolve("missing.conf").toString())).isEqualTo(1);
        assertThat(err()).contains("not found");
        Path incomplete = Files.writeString(dir.resolve("incomplete.conf"), "node_id=1\n");
        assertThat(run("-f", incomplete.toString())).isEqualTo(1);
        assertThat(run("--help")).isZero();
    }

    @Test
    void runsTheDaemonOfTheConfiguredNodeAndStopsCleanly() throws IOException {
        try (PgServer pg = PgServer.builder().name("solo").start();
             ReplicationCluster cluster = ReplicationClusters.connect(pg.conninfo())) {
            cluster.registerPrimary(DaemonTestSupport.config(1, pg, 100)).execute();
            Path conf = Files.writeString(dir.resolve("repmgr.conf"), String.join("\n",
                    "node_id=1",
                    "node_name='solo'",
                    "conninfo='" + pg.conninfo().render() + "'",
                    "data_directory='" + pg.dataDirectory() + "'",
                    "failover=automatic",
                    "monitor_interval_secs=1", ""));
            AtomicReference<DaemonState> seen = new AtomicReference<>();
            AtomicReference<DaemonMode> mode = new AtomicReference<>();
            int code = DaemonMain.run(new String[] {"-f", conf.toString(), "--monitor-interval-ms", "200"},
                    new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8), d -> {
                        seen.set(d.state());
                        mode.set(d.status().mode());
                    });
            assertThat(code).as(err()).isZero();
            assertThat(seen.get()).isEqualTo(DaemonState.RUNNING);
            assertThat(mode.get()).isEqualTo(DaemonMode.MONITORING);
            assertThat(out.toString(StandardCharsets.UTF_8)).contains("repmgr4j daemon for node \"solo\" (ID: 1) started")
                    .contains("stopped");
            assertThat(cluster.events().event(DaemonEvents.REPMGRD_SHUTDOWN).list()).hasSize(1);
            DaemonTestSupport.assertNoLeftovers(pg);

            Path other = Files.writeString(dir.resolve("other.conf"), Files.readString(conf).replace("node_id=1", "node_id=7"));
            assertThat(run("-f", other.toString())).isEqualTo(1);
            assertThat(err()).contains("no metadata record found for node 7");
        }
    }
}
