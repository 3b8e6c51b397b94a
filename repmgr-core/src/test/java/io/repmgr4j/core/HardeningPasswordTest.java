package io.repmgr4j.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.repmgr4j.CloneReport;
import io.repmgr4j.ConnInfo;
import io.repmgr4j.EventRecord;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.core.host.RecoveryConfig;
import io.repmgr4j.core.ssh.LogCapture;
import io.repmgr4j.format.OperationReportFormat;
import io.repmgr4j.plan.OperationReport;
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
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A full scenario with a password, on servers that log every statement
 * ({@code log_statement = all}): register the primary, clone two standbys with the
 * library, switch over to one (the old primary is rejoined, the other standby follows),
 * plus a refused clone and a failed connection that carry the password. The password is
 * then looked for in every server log (PostgreSQL's and the library's pg_ctl log), every
 * postgresql.auto.conf, every {@code SHOW primary_conninfo}, the library's log output, every
 * event, report and exception: it is in none of them, only in the standbys' 0600 password
 * files and in repmgr.nodes, where the user's conninfo put it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HardeningPasswordTest {
    private static final String SECRET = "Pw-h17:se\\cret";
    private static final Duration WAIT = Duration.ofSeconds(60);
    private final List<AutoCloseable> closeLater = new ArrayList<>();
    private final List<EventRecord> heard = new CopyOnWriteArrayList<>();

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

    private static String everything(Throwable t) {
        StringBuilder sb = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            sb.append(c).append('\n');
            if (c instanceof ReplicationException r) {
                sb.append(r.toReport()).append('\n');
            }
            for (Throwable s : c.getSuppressed()) {
                sb.append(everything(s));
            }
        }
        return sb.toString();
    }

    private PgServer cloneStarted(ReplicationCluster cluster, int id, String name) {
        PgSandbox s = PgSandbox.allocate(name, null, SECRET);
        closeLater.add(s);
        NodeConfig cfg = s.nodeConfig(id).build();
        CloneReport r = cluster.cloneStandby(cfg).fastCheckpoint(true).serverSetting("unix_socket_directories", s.socketDirectory().toString())
                .serverSetting("log_statement", "all").thenStart().waitUntilStreaming(WAIT).thenRegister().execute();
        assertThat(r.streaming()).isTrue();
        assertThat(r.toString()).doesNotContain(SECRET);
        return s.adopt();
    }

    @Test
    void thePasswordIsOnlyWherePostgresMustKeepIt() {
        PgServer pg1 = PgServer.builder().name("pg1").password(SECRET).setting("log_statement", "all").start();
        closeLater.add(pg1);
        assertThat(pg1.conninfo().password()).hasValue(SECRET);
        List<String> texts = new ArrayList<>();
        List<PgServer> servers = new ArrayList<>(List.of(pg1));
        String logged;
        try (LogCapture log = new LogCapture();
             ReplicationCluster cluster = ReplicationClusters.builder().seed(pg1.conninfo()).eventListener(heard::add).build()) {
            cluster.registerPrimary(pg1.nodeConfig(1).build()).execute();
            PgServer pg2 = cloneStarted(cluster, 2, "pg2");
            PgServer pg3 = cloneStarted(cluster, 3, "pg3");
            servers.add(pg2);
            servers.add(pg3);

            OperationReport r = cluster.switchover(2).siblingsFollow(true).execute();
            assertThat(r.successful()).as(OperationReportFormat.text(r)).isTrue();
            texts.add(OperationReportFormat.text(r));
            texts.add(r.toString());
            assertThat(pg2.inRecovery()).isFalse();
            assertThat(pg1.inRecovery()).isTrue();
            pg2.waitForStreaming(pg1, WAIT);
            pg2.waitForStreaming(pg3, WAIT);

            // a refused clone and a failed connection, both holding the password
            texts.add(everything(catchThrowableOfType(ReplicationException.class, () -> cluster.cloneStandby(
                    pg3.nodeConfig(9).nodeName("pg9").conninfo(ConnInfo.parse(pg3.conninfo().render() + " foo=bar")).build()))));
            try (ReplicationCluster wrong = ReplicationClusters.builder().seed(pg1.conninfo().with("port",
                    String.valueOf(PgServerPorts.closedPort()))).build()) {
                texts.add(everything(catchThrowableOfType(ReplicationException.class, () -> wrong.metadata().nodes())));
            }
            cluster.events().limit(200).list().forEach(e -> texts.add(e.toString() + e.details().orElse("")));
            heard.forEach(e -> texts.add(e.toString() + e.details().orElse("")));
            cluster.metadata().nodes().forEach(n -> texts.add(n.toString()));
            logged = log.text();

            // where PostgreSQL must keep it: the conninfo the user registered, and the standbys' password files
            assertThat(pg2.query("SELECT count(*) FROM repmgr.nodes WHERE conninfo LIKE '%password=%'", Long.class))
                    .isEqualTo(3);
            for (PgServer s : List.of(pg1, pg3)) {
                Path passfile = s.dataDirectory().resolve(RecoveryConfig.PASSFILE);
                assertThat(read(passfile)).as(s.name()).isEqualTo("*:*:*:repmgr:Pw-h17\\:se\\\\cret\n");
                try {
                    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(passfile))).isEqualTo("rw-------");
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                String shown = s.query("SHOW primary_conninfo", String.class);
                assertThat(shown).as(s.name()).contains("passfile=").doesNotContain("password");
                texts.add(shown);
            }
        }
        assertThat(logged).isNotEmpty().doesNotContain(SECRET);
        for (String t : texts) {
            assertThat(t).doesNotContain(SECRET);
        }
        for (PgServer s : servers) {
            // the test kit's log directory (the primary) and the one pg_ctl -l writes for the library (the clones)
            StringBuilder serverLog = new StringBuilder();
            for (Path dir : List.of(s.logFile().getParent(), s.dataDirectory().resolve("log"))) {
                if (Files.isDirectory(dir)) {
                    try (Stream<Path> files = Files.list(dir)) {
                        files.filter(Files::isRegularFile).map(HardeningPasswordTest::read).forEach(serverLog::append);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }
            }
            assertThat(serverLog.toString()).as("server logs of " + s.name()).contains("statement: ")
                    .doesNotContain(SECRET);
            assertThat(read(s.dataDirectory().resolve("postgresql.auto.conf"))).as(s.name()).doesNotContain(SECRET);
        }
    }
}
