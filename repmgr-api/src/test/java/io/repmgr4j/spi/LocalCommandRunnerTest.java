package io.repmgr4j.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.repmgr4j.ErrorCode;
import io.repmgr4j.ReplicationException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * The local runner's contract: argv, output, stdin, environment (never on any process's
 * argv), and a timeout that kills the whole tree.
 */
class LocalCommandRunnerTest {
    private final LocalCommandRunner runner = LocalCommandRunner.asCurrentUser();

    @Test
    void exitCodeAndBothOutputs() {
        CommandResult r = runner.run(Command.of("sh", "-c", "echo out; echo err >&2; exit 3"));
        assertThat(r.exitCode()).isEqualTo(3);
        assertThat(r.stdout()).isEqualTo("out\n");
        assertThat(r.stderr()).isEqualTo("err\n");
        assertThat(r.timedOut()).isFalse();
        assertThat(r.succeeded()).isFalse();
        assertThat(r.lastErrorLine()).isEqualTo("err");
    }

    @Test
    void argumentsArriveLiterally() {
        String arg = "a b 'c' \"d\" ; $(touch x) `id` \n e";
        CommandResult r = runner.run(Command.of("printf", "%s", arg));
        assertThat(r.stdout()).isEqualTo(arg);
    }

    @Test
    void stdinEnvironmentAndWorkingDirectory() {
        CommandResult r = runner.run(Command.of("sh", "-c", "cat; printf '%s|%s' \"$GREETING\" \"$(pwd)\"")
                .withStdin("from stdin\n").withEnv("GREETING", "hello world").withWorkingDirectory("/tmp"));
        assertThat(r.stdout()).isEqualTo("from stdin\nhello world|/tmp");
    }

    @Test
    void linesAndProgressLinesReachTheListener() {
        List<String> lines = new CopyOnWriteArrayList<>();
        CommandResult r = runner.run(Command.of("sh", "-c", "printf '1/3\\r2/3\\r3/3\\ndone\\n'; echo oops >&2")
                .withOutputListener((stream, line) -> lines.add(stream + ":" + line)));
        assertThat(r.succeeded()).isTrue();
        assertThat(lines).containsSubsequence("STDOUT:1/3", "STDOUT:2/3", "STDOUT:3/3", "STDOUT:done")
                .contains("STDERR:oops");
    }

    @Test
    void aMissingProgramIsLocalCommandError() {
        assertThatThrownBy(() -> runner.run(Command.of("/nonexistent/program")))
                .isInstanceOfSatisfying(ReplicationException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.LOCAL_COMMAND));
    }

    @Test
    void timeoutKillsChildrenAndGrandchildren() throws IOException {
        killsTheWholeTree(runner);
    }

    @Test
    void timeoutKillsTheTreeWhenSwitchingUser() throws IOException {
        assumeTrue(LocalCommandRunner.jvmIsRoot() && userExists("postgres"), "needs root and OS user postgres");
        LocalCommandRunner asPostgres = LocalCommandRunner.asUser("postgres");
        assertThat(asPostgres.run(Command.of("id", "-un")).stdout().strip()).isEqualTo("postgres");
        killsTheWholeTree(asPostgres);
    }

    @Test
    void addedVariablesReachTheCommandButNotTheArgumentsOfAnyProcess() {
        LocalCommandRunner runner = LocalCommandRunner.asUser("postgres");
        assumeTrue(runner.switchesTo().isPresent(), "only a root JVM switches users");
        // the command prints its variable, then the argument vectors of itself and its parent
        // (the JVM when setpriv exec'd it, runuser otherwise)
        CommandResult r = runner.run(Command.of("sh", "-c",
                        "echo \"value=$SECRET_FOR_TEST\"; tr '\\0' ' ' < /proc/$$/cmdline; echo; tr '\\0' ' ' < /proc/$PPID/cmdline")
                .withEnv("SECRET_FOR_TEST", "s3cr3t"));
        assertThat(r.succeeded()).as(r.stderr()).isTrue();
        String[] lines = r.stdout().split("\n");
        assertThat(lines[0]).isEqualTo("value=s3cr3t");
        assertThat(lines[1]).doesNotContain("s3cr3t");
        assertThat(lines[2]).isNotEmpty().doesNotContain("s3cr3t");
    }

    @Test
    void aSwitchedUserGetsItsOwnIdentityGroupsAndHome() {
        LocalCommandRunner runner = LocalCommandRunner.asUser("postgres");
        assumeTrue(runner.switchesTo().isPresent(), "only a root JVM switches users");
        String passwd = LocalCommandRunner.asCurrentUser().run(Command.of("getent", "passwd", "postgres")).stdout().strip();
        String home = passwd.split(":")[5];
        String groups = LocalCommandRunner.asCurrentUser().run(Command.of("id", "-G", "postgres")).stdout().strip();
        CommandResult r = runner.run(Command.of("sh", "-c", "id -un; id -gn; id -G; echo \"$HOME|$USER|$LOGNAME\"; umask"));
        assertThat(r.succeeded()).as(r.stderr()).isTrue();
        String[] lines = r.stdout().split("\n");
        assertThat(lines[0]).isEqualTo("postgres");
        assertThat(lines[2].split(" ")).containsExactlyInAnyOrder(groups.split(" "));
        assertThat(lines[3]).isEqualTo(home + "|postgres|postgres");
        // and root's capabilities are gone: the user cannot read a root-only file
        assertThat(runner.run(Command.of("cat", "/etc/shadow")).succeeded()).isFalse();
    }

    private static void killsTheWholeTree(LocalCommandRunner r) throws IOException {
        // sh starts two background sleeps (its children; grandchildren of runuser when
        // switching user) and waits: every one must be gone after the timeout
        CommandResult result = r.run(Command.of("sh", "-c", "sleep 300 & echo $!; sleep 301 & echo $!; echo $$; wait")
                .withTimeout(Duration.ofSeconds(1)));
        assertThat(result.timedOut()).isTrue();
        assertThat(result.succeeded()).isFalse();
        List<Long> pids = Arrays.stream(result.stdout().strip().split("\n")).map(Long::parseLong).toList();
        assertThat(pids).hasSize(3);
        for (long pid : pids) {
            awaitGone(pid);
        }
    }

    /** Waits (up to 10 s) until a process no longer runs: gone, or a zombie nobody reaped. */
    static void awaitGone(long pid) throws IOException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (running(pid) && System.nanoTime() < deadline) {
            sleep(20);
        }
        assertThat(running(pid)).as("process %d still runs", pid).isFalse();
    }

    private static boolean running(long pid) throws IOException {
        Path stat = Path.of("/proc", Long.toString(pid), "stat");
        String s;
        try {
            s = Files.readString(stat);
        } catch (java.nio.file.NoSuchFileException e) {
            return false;
        }
        char state = s.charAt(s.lastIndexOf(')') + 2);
        return state != 'Z' && state != 'X';
    }

    private static boolean userExists(String user) {
        return LocalCommandRunner.asCurrentUser().run(Command.of("id", "-u", user)).succeeded();
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}
