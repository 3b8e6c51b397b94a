package io.repmgr4j.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.core.host.ControlData;
import io.repmgr4j.spi.Command;
import io.repmgr4j.spi.CommandResult;
import io.repmgr4j.spi.LocalCommandRunner;
import io.repmgr4j.testkit.PgServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The host-side scripts of a rejoin, run for real: the crash recovery (signal files set
 * aside and put back, pg_controldata after) and the configuration files kept around
 * pg_rewind (whatever the wrapped program does to them, and whatever it exits with).
 */
class RejoinScriptsTest {

    @Test
    void crashRecoverySetsTheSignalFileAsideAndPutsItBack() throws IOException {
        try (PgServer server = PgServer.builder().name("crashscript").start()) {
            server.kill9();
            Path dir = server.dataDirectory();
            server.runner().run(Command.of("sh", "-c", ": > \"$1/standby.signal\"", "sh", dir.toString()));
            CommandResult r = server.runner().run(Command.of("sh", "-c", RejoinOperation.CRASH_RECOVERY_SH, "sh", dir.toString(),
                            server.bindir().resolve("pg_controldata").toString(), server.bindir().resolve("postgres").toString(),
                            "--single", "-D", dir.toString(), "template1")
                    .withEnv("LC_ALL", "C").withTimeout(Duration.ofMinutes(2)));
            assertThat(r.succeeded()).as(r.stderr()).isTrue();
            ControlData cd = ControlData.parse(r.stdout());
            assertThat(cd.shutDownCleanly()).isTrue();
            assertThat(dir.resolve("standby.signal")).exists();
            try (var files = Files.list(dir)) {
                assertThat(files.map(f -> f.getFileName().toString())).noneMatch(n -> n.endsWith(".repmgr4j-aside"));
            }
        }
    }

    @Test
    void theConfigurationFilesComeBackAndTheProgramsExitCodeIsKept(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("postgresql.conf"), "port = 5999\n");
        Files.writeString(dir.resolve("pg_hba.conf"), "local all all trust\n");
        Files.writeString(dir.resolve("base.file"), "data\n");
        // stands in for pg_rewind: overwrites the configuration and the data, then fails
        CommandResult r = LocalCommandRunner.asCurrentUser().run(Command.of("sh", "-c", RejoinOperation.REWIND_SH, "sh",
                dir.toString(), "sh", "-c", "for f in postgresql.conf pg_hba.conf base.file; do echo source > \"$1/$f\"; done; exit 3",
                "fake-rewind", dir.toString()).withTimeout(Duration.ofSeconds(30)));
        assertThat(r.exitCode()).isEqualTo(3);
        assertThat(r.stdout()).contains("repmgr4j-kept: postgresql.conf pg_hba.conf");
        assertThat(Files.readString(dir.resolve("postgresql.conf"))).isEqualTo("port = 5999\n");
        assertThat(Files.readString(dir.resolve("pg_hba.conf"))).isEqualTo("local all all trust\n");
        assertThat(Files.readString(dir.resolve("base.file"))).isEqualTo("source\n");
        String backup = r.stdout().lines().filter(l -> l.startsWith("repmgr4j-backup:")).findFirst().orElseThrow()
                .substring("repmgr4j-backup:".length());
        assertThat(Path.of(backup)).doesNotExist();
    }
}
