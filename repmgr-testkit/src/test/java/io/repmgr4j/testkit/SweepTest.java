package io.repmgr4j.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.spi.Command;
import io.repmgr4j.spi.CommandResult;
import io.repmgr4j.spi.LocalCommandRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class SweepTest {

    @Test
    void removesADirectoryLeftByADeadJvmAndKillsItsPostmaster() throws Exception {
        Path root = Workspace.ensureInitialized();
        String user = Place.defaultOsUser();
        LocalCommandRunner runner = LocalCommandRunner.asUser(user);
        boolean switchUser = runner.switchesTo().isPresent();
        Path bin = PgBinaries.locate();

        // what a JVM killed in the middle of a test leaves: its own dir and a running postmaster
        Path dir = Workspace.createServerRoot("stale", user, switchUser);
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        Files.writeString(dir.resolve("owner.pid"), gone.pid() + "\n");
        Path data = dir.resolve("data");
        int port = Workspace.allocatePort();
        try {
            run(runner, Command.of(bin.resolve("initdb").toString(), "-D", data.toString(), "-U", "postgres",
                    "-A", "trust", "--no-sync", "--locale=C").withWorkingDirectory(dir.toString()));
            run(runner, Command.of(bin.resolve("pg_ctl").toString(), "start", "-D", data.toString(), "-w", "-t", "60",
                    "-l", dir.resolve("log/postgresql.log").toString(),
                    "-o", "-p " + port + " -k " + dir.resolve("sock") + " -c listen_addresses=127.0.0.1")
                    .withWorkingDirectory(dir.toString()));
            long pid = Workspace.postmasterPidFromFile(data).orElseThrow();
            assertThat(Workspace.isPostmasterOf(pid, data)).isTrue();
            assertThat(Workspace.isStale(dir)).isTrue();

            int swept = Workspace.sweep();

            assertThat(swept).isGreaterThanOrEqualTo(1);
            assertThat(Workspace.isAlive(pid)).isFalse();
            assertThat(dir).doesNotExist();
            assertThat(root).isDirectory();
        } finally {
            Workspace.releasePort(port);
            if (Files.exists(dir)) {
                Workspace.killPostmaster(data, Duration.ofSeconds(30));
                Workspace.deleteTree(dir);
            }
        }
    }

    @Test
    void leavesDirectoriesOfLiveOwnersAlone() {
        try (PgSandbox mine = PgSandbox.allocate("mine")) {
            assertThat(Workspace.isStale(mine.baseDirectory())).isFalse();
            Workspace.sweep();
            assertThat(mine.baseDirectory()).isDirectory();
        }
    }

    private static void run(LocalCommandRunner runner, Command command) {
        CommandResult r = runner.run(command.withTimeout(Duration.ofMinutes(2)));
        assertThat(r.succeeded()).as(command + ": " + r.stderr()).isTrue();
    }
}
