package io.repmgr4j.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.repmgr4j.spi.Command;
import io.repmgr4j.spi.CommandResult;
import java.nio.file.Files;
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
    void closingAnEmptySandboxRemovesItsDirectories() {
        PgSandbox sandbox = PgSandbox.allocate("empty");
        Path base = sandbox.baseDirectory();
        assertThat(base.resolve("owner.pid")).exists();
        sandbox.close();
        assertThat(base).doesNotExist();
        sandbox.close();
    }
}
