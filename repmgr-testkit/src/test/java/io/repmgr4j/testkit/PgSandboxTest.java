package io.repmgr4j.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.repmgr4j.spi.Command;
import io.repmgr4j.spi.CommandResult;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.ResultSet;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class PgSandboxTest {

    @Test
    void cloneIntoASandboxThenAdopt() throws Exception {
        try (PgServer primary = PgServer.builder().name("upstream").start();
             PgSandbox sandbox = PgSandbox.allocate("clone")) {
            assertThat(sandbox.dataDirectory()).doesNotExist();
            assertThat(sandbox.socketDirectory()).isDirectory();
            assertThat(Files.getOwner(sandbox.baseDirectory()).getName()).isEqualTo(sandbox.osUser());
            assertThat(sandbox.port()).isNotIn(5432, primary.port());
            assertThat(sandbox.conninfo().render()).isEqualTo(
                    "host=127.0.0.1 port=" + sandbox.port() + " user=repmgr dbname=repmgr connect_timeout=2");
            assertThatThrownBy(sandbox::adopt).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("pg_basebackup");

            CommandResult r = sandbox.runner().run(Command.of(
                    sandbox.bindir().resolve("pg_basebackup").toString(),
                    "-D", sandbox.dataDirectory().toString(),
                    "-d", primary.conninfo().with("application_name", "clone").render(),
                    "-X", "stream", "-R", "-c", "fast")
                    .withWorkingDirectory("/")
                    .withTimeout(Duration.ofMinutes(2)));
            assertThat(r.succeeded()).as(r.stderr()).isTrue();

            PgServer standby = sandbox.adopt();
            assertThat(standby.port()).isEqualTo(sandbox.port());
            assertThat(standby.name()).isEqualTo("clone");
            assertThat(standby.isRunning()).isTrue();
            assertThat(standby.inRecovery()).isTrue();
            assertThat(standby.query("SHOW port", String.class)).isEqualTo(Integer.toString(sandbox.port()));
            primary.waitForStreaming(standby, Duration.ofSeconds(30));
            assertThatThrownBy(sandbox::adopt).isInstanceOf(IllegalStateException.class);

            sandbox.close();
            assertThat(standby.isRunning()).isFalse();
            assertThat(sandbox.baseDirectory()).doesNotExist();
            // the primary is untouched
            assertThat(primary.query("SELECT 1", Integer.class)).isEqualTo(1);
        }
    }

    @Test
    void aTakenPortFailsAdoptWithTheLogTailButAnInternalStartMovesOn() throws Exception {
        try (PgSandbox sandbox = PgSandbox.allocate("porttaken")) {
            CommandResult r = sandbox.runner().run(Command.of(sandbox.bindir().resolve("initdb").toString(),
                    "-D", sandbox.dataDirectory().toString(), "-U", "postgres", "-A", "trust", "--no-sync", "--locale=C")
                    .withWorkingDirectory("/").withTimeout(Duration.ofMinutes(2)));
            assertThat(r.succeeded()).as(r.stderr()).isTrue();
            int port = sandbox.port();
            try (ServerSocket squatter = new ServerSocket()) {
                squatter.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port));

                assertThatThrownBy(sandbox::adopt)
                        .isInstanceOf(PgTestkitException.class)
                        .hasMessageContaining("could not start porttaken on 127.0.0.1:" + port)
                        .hasMessageContaining("Address already in use");
                assertThat(sandbox.dataDirectory()).isDirectory(); // the sandbox keeps its directories

                PgServer server = sandbox.adopt(true);
                assertThat(server.port()).isNotEqualTo(port);
                assertThat(sandbox.port()).isEqualTo(server.port());
                try (Connection c = server.connect("postgres", "postgres");
                     ResultSet rs = c.createStatement().executeQuery("SHOW port")) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getString(1)).isEqualTo(Integer.toString(server.port()));
                }
            }
        }
    }

    @Test
    void aServerAlreadyStartedByTheCodeUnderTestIsTakenOverNotRestarted() throws Exception {
        try (PgServer primary = PgServer.builder().name("upstream2").start();
             PgSandbox sandbox = PgSandbox.allocate("started")) {
            String data = sandbox.dataDirectory().toString();
            CommandResult copy = sandbox.runner().run(Command.of(sandbox.bindir().resolve("pg_basebackup").toString(),
                    "-D", data, "-d", primary.conninfo().render(), "-X", "stream", "-c", "fast")
                    .withWorkingDirectory("/").withTimeout(Duration.ofMinutes(2)));
            assertThat(copy.succeeded()).as(copy.stderr()).isTrue();
            // started the way a library would: its own pg_ctl, its own log, on the sandbox's port and socket directory
            CommandResult start = sandbox.runner().run(Command.of(sandbox.bindir().resolve("pg_ctl").toString(), "start", "-w",
                    "-D", data, "-l", sandbox.baseDirectory().resolve("library.log").toString(),
                    "-o", "-p " + sandbox.port() + " -k " + sandbox.socketDirectory() + " -c listen_addresses=127.0.0.1")
                    .withWorkingDirectory("/").withTimeout(Duration.ofMinutes(1)));
            assertThat(start.succeeded()).as(start.stderr()).isTrue();
            long pid = Long.parseLong(Files.readAllLines(sandbox.dataDirectory().resolve("postmaster.pid")).get(0).strip());

            PgServer adopted = sandbox.adopt();
            assertThat(adopted.postmasterPid()).isEqualTo(pid);
            assertThat(adopted.query("SELECT 1", Integer.class)).isEqualTo(1);

            sandbox.close();
            assertThat(adopted.isRunning()).isFalse();
            assertThat(sandbox.baseDirectory()).doesNotExist();
        }
    }

    @Test
    void closingAnEmptySandboxRemovesItsDirectories() {
        PgSandbox sandbox = PgSandbox.allocate("empty");
        Path base = sandbox.baseDirectory();
        assertThat(base.resolve("owner.pid")).exists();
        sandbox.close();
        assertThat(base).doesNotExist();
        sandbox.close();
    }
}
