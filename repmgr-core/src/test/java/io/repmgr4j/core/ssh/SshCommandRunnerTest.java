package io.repmgr4j.core.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.repmgr4j.ErrorCode;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.spi.Command;
import io.repmgr4j.spi.CommandResult;
import io.repmgr4j.testkit.SilentServer;
import io.repmgr4j.testkit.SshServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** SshCommandRunner against a real OpenSSH sshd on loopback (the test kit's SshServer). */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SshCommandRunnerTest {
    private static final String PASSPHRASE = "correct horse battery staple";
    private static final String PASSWORD = "pa55-w0rd-never-shown";

    private Path tmp;
    private SshServer server;
    private SshServer.KeyFiles encryptedKey;
    private Path knownHosts;
    private SshCommandRunner runner;

    @BeforeAll
    void start() throws IOException {
        tmp = Files.createTempDirectory("repmgr4j-ssh-test");
        encryptedKey = SshServer.generateKey(tmp, "encrypted", PASSPHRASE);
        server = SshServer.start(List.of(encryptedKey.publicKeyLine()));
        knownHosts = tmp.resolve("known_hosts");
        Files.writeString(knownHosts, server.knownHostsLine() + "\n");
        runner = SshCommandRunner.create(options().build());
    }

    @AfterAll
    void stop() throws IOException {
        if (runner != null) {
            runner.close();
        }
        if (server != null) {
            server.close();
        }
        if (tmp != null) {
            try (var files = Files.walk(tmp)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** Options that reach the test server with its client key and a known_hosts that holds its key. */
    private SshOptions.Builder options() {
        return SshOptions.builder().host(server.host()).port(server.port()).user(server.osUser())
                .identityFile(server.clientKey().privateKey()).knownHosts(knownHosts)
                .connectTimeout(Duration.ofSeconds(10));
    }

    // ------------------------------------------------------------------ commands

    @Test
    void exitCodesAndOutput() {
        CommandResult ok = runner.run(Command.of("sh", "-c", "echo out; echo err >&2; id -un"));
        assertThat(ok.exitCode()).isZero();
        assertThat(ok.succeeded()).isTrue();
        assertThat(ok.stdout()).isEqualTo("out\n" + server.osUser() + "\n");
        assertThat(ok.stderr()).isEqualTo("err\n");
        CommandResult failed = runner.run(Command.of("sh", "-c", "echo boom >&2; exit 7"));
        assertThat(failed.exitCode()).isEqualTo(7);
        assertThat(failed.timedOut()).isFalse();
        assertThat(failed.lastErrorLine()).isEqualTo("boom");
        CommandResult missing = runner.run(Command.of("/no/such/program", "x"));
        assertThat(missing.exitCode()).isEqualTo(127);
        assertThat(missing.stderr()).contains("/no/such/program");
        assertThat(runner.describe()).isEqualTo("ssh " + server.osUser() + "@127.0.0.1:" + server.port());
    }

    @Test
    void stdinEnvironmentAndWorkingDirectory() {
        String secret = "s3cret 'value' $(id) \"quoted\" \\back\\slash\nsecond line ünï\n";
        try (LogCapture log = new LogCapture()) {
            CommandResult r = runner.run(Command.of("sh", "-c", "cat; printf '%s|%s' \"$SECRET_VALUE\" \"$(pwd)\"")
                    .withStdin("line one\nline 'two'\n").withEnv("SECRET_VALUE", secret).withWorkingDirectory("/tmp"));
            assertThat(r.succeeded()).as(r.stderr()).isTrue();
            assertThat(r.stdout()).isEqualTo("line one\nline 'two'\n" + secret + "|/tmp");
            assertThat(log.text()).doesNotContain("s3cret");
        }
        CommandResult noDir = runner.run(Command.of("true").withWorkingDirectory("/no/such/dir"));
        assertThat(noDir.succeeded()).isFalse();
        assertThat(noDir.stderr()).contains("/no/such/dir");
    }

    @Test
    void aCommandThatReadsStdinGetsEndOfFileWhenThereIsNone() {
        CommandResult r = runner.run(Command.of("cat").withTimeout(Duration.ofSeconds(20)));
        assertThat(r.timedOut()).isFalse();
        assertThat(r.succeeded()).isTrue();
        assertThat(r.stdout()).isEmpty();
    }

    @Test
    void outputStreamsToTheListenerLineByLine() {
        List<String> lines = new CopyOnWriteArrayList<>();
        CommandResult r = runner.run(Command.of("sh", "-c", "printf '10%%\\r50%%\\r100%%\\n'; echo warn >&2; echo done")
                .withOutputListener((stream, line) -> lines.add(stream + ":" + line)));
        assertThat(r.succeeded()).isTrue();
        assertThat(lines).containsSubsequence("STDOUT:10%", "STDOUT:50%", "STDOUT:100%", "STDOUT:done")
                .contains("STDERR:warn")
                .noneMatch(l -> l.contains("repmgr4j-pid"));
        assertThat(r.stderr()).isEqualTo("warn\n");
    }

    @Test
    void largeOutputArrivesWhole() {
        CommandResult r = runner.run(Command.of("sh", "-c", "seq 1 200000"));
        assertThat(r.succeeded()).isTrue();
        String[] lines = r.stdout().split("\n");
        assertThat(lines).hasSize(200000);
        assertThat(lines[199999]).isEqualTo("200000");
    }

    @Test
    void aTimedOutCommandIsKilledWithEverythingItStarted() throws IOException {
        CommandResult r = runner.run(Command.of("sh", "-c", "sleep 300 & echo $!; sleep 301 & echo $!; echo $$; wait")
                .withTimeout(Duration.ofSeconds(1)));
        assertThat(r.timedOut()).isTrue();
        assertThat(r.succeeded()).isFalse();
        List<Long> pids = Arrays.stream(r.stdout().strip().split("\n")).map(Long::parseLong).toList();
        assertThat(pids).hasSize(3);
        for (long pid : pids) {
            awaitGone(pid);
        }
        // and a plain remote sleep: 1 s timeout, the runner comes back and the process is gone
        CommandResult sleep = runner.run(Command.of("sh", "-c", "echo $$; exec sleep 30").withTimeout(Duration.ofSeconds(1)));
        assertThat(sleep.timedOut()).isTrue();
        awaitGone(Long.parseLong(sleep.stdout().strip()));
        assertThat(runner.run(Command.of("true")).succeeded()).isTrue();
    }

    // ------------------------------------------------------------------ quoting

    static List<String> nasty() {
        return ShellQuoteTest.nasty();
    }

    @ParameterizedTest
    @MethodSource("nasty")
    void everyArgumentArrivesAsOneLiteralWord(String arg) {
        CommandResult r = runner.run(Command.of("printf", "%s\\n", arg, "second"));
        assertThat(r.succeeded()).as(r.stderr()).isTrue();
        assertThat(r.stdout()).isEqualTo(arg + "\nsecond\n");
    }

    @Test
    void aDirectoryNamedWithShellSyntaxIsOneDirectory() {
        String base = "/tmp/repmgr4j-ssh-quoting-" + ProcessHandle.current().pid();
        String dir = base + "/it's a \"dir\"; $(touch pwned) `touch pwned2` & \n newline";
        try {
            assertThat(runner.run(Command.of("mkdir", "-p", "--", dir)).succeeded()).isTrue();
            assertThat(runner.run(Command.of("test", "-d", dir)).succeeded()).isTrue();
            assertThat(runner.run(Command.of("ls", "-A", "--", base)).stdout())
                    .isEqualTo("it's a \"dir\"; $(touch pwned) `touch pwned2` & \n newline\n");
            assertThat(runner.run(Command.of("test", "-e", base + "/pwned")).succeeded()).isFalse();
            assertThat(runner.run(Command.of("sh", "-c", "ls ~ | grep -c pwned || true")).stdout().strip()).isEqualTo("0");
            CommandResult inDir = runner.run(Command.of("pwd").withWorkingDirectory(dir));
            assertThat(inDir.stdout()).isEqualTo(dir + "\n");
        } finally {
            runner.run(Command.of("rm", "-rf", "--", base));
        }
    }

    // ------------------------------------------------------------------ the pool

    @Test
    void commandsReuseOneConnection() {
        try (SshCommandRunner own = SshCommandRunner.create(options().build())) {
            for (int i = 0; i < 20; i++) {
                assertThat(own.run(Command.of("echo", String.valueOf(i))).stdout()).isEqualTo(i + "\n");
            }
            assertThat(own.sessionsOpened()).isEqualTo(1);
            assertThat(own.openSessions()).isEqualTo(1);
        }
    }

    @Test
    void commandsFromManyThreadsAtOnce() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(12);
        try (SshCommandRunner own = SshCommandRunner.create(options().maxCommandsPerSession(4).build())) {
            List<Future<CommandResult>> futures = new ArrayList<>();
            for (int i = 0; i < 48; i++) {
                String word = "thread-" + i;
                futures.add(pool.submit(() -> own.run(Command.of("sh", "-c", "sleep 0.2; echo \"$1\"", "sh", word))));
            }
            for (int i = 0; i < futures.size(); i++) {
                CommandResult r = futures.get(i).get(60, TimeUnit.SECONDS);
                assertThat(r.succeeded()).as(r.stderr()).isTrue();
                assertThat(r.stdout()).isEqualTo("thread-" + i + "\n");
            }
            // 12 at once, at most 4 per connection: at least 3 connections, and far fewer than 48
            assertThat(own.sessionsOpened()).isBetween(3L, 12L);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aBrokenConnectionIsReplaced() {
        try (SshCommandRunner own = SshCommandRunner.create(options().build())) {
            assertThat(own.run(Command.of("true")).succeeded()).isTrue();
            // the login shell's parent is this connection's sshd process: kill it, and the connection with it
            assertThatThrownBy(() -> own.run(Command.of("sh", "-c", "kill -9 $PPID; sleep 5", "sh")
                    .withTimeout(Duration.ofSeconds(20))))
                    .isInstanceOfSatisfying(ReplicationException.class, e -> {
                        assertThat(e.code()).isEqualTo(ErrorCode.BAD_SSH);
                        assertThat(e.getMessage()).contains("lost");
                    });
            assertThat(own.run(Command.of("echo", "again")).stdout()).isEqualTo("again\n");
            assertThat(own.sessionsOpened()).isEqualTo(2);
        }
    }

    // ------------------------------------------------------------------ keys and host keys

    @Test
    void anEncryptedKeyWithItsPassphraseAndAnInMemoryKey() {
        try (SshCommandRunner withPassphrase = SshCommandRunner.create(options()
                .identityFile(encryptedKey.privateKey()).passphrase(PASSPHRASE).build())) {
            assertThat(withPassphrase.run(Command.of("echo", "ok")).stdout()).isEqualTo("ok\n");
        }
        try (SshCommandRunner inMemory = SshCommandRunner.create(options()
                .privateKey(server.clientKey().privateKeyBytes()).build())) {
            assertThat(inMemory.run(Command.of("echo", "ok")).stdout()).isEqualTo("ok\n");
        }
    }

    @Test
    void aWrongPassphraseOrNoneIsBadSshWithoutThePassphrase() {
        try (LogCapture log = new LogCapture()) {
            ReplicationException wrong = badSsh(options().identityFile(encryptedKey.privateKey())
                    .passphrase("not-the-passphrase-xyz").build());
            assertThat(wrong.detail()).contains("the passphrase is wrong");
            assertThat(wrong.toReport()).doesNotContain("not-the-passphrase-xyz");
            ReplicationException none = badSsh(options().identityFile(encryptedKey.privateKey()).build());
            assertThat(none.detail()).hasValueSatisfying(d -> assertThat(d).contains("encrypted and no passphrase"));
            assertThat(log.text()).doesNotContain("not-the-passphrase-xyz");
        }
    }

    @Test
    void aWrongKeyIsRefusedWithBadSsh() {
        SshServer.KeyFiles stranger = SshServer.generateKey(tmp, "stranger", null);
        try (LogCapture log = new LogCapture()) {
            ReplicationException e = badSsh(options().identityFile(stranger.privateKey()).password(PASSWORD).build());
            assertThat(e.getMessage()).contains("authentication failed")
                    .contains(server.osUser() + "@127.0.0.1:" + server.port());
            assertThat(e.hint()).isPresent();
            assertThat(e.toReport()).doesNotContain(PASSWORD);
            assertThat(log.text()).doesNotContain(PASSWORD);
        }
    }

    @Test
    void aMissingKeyFileIsBadSsh() {
        ReplicationException e = badSsh(options().identityFile(tmp.resolve("no-such-key")).build());
        assertThat(e.getMessage()).contains("no-such-key");
        assertThat(e.detail()).hasValueSatisfying(d -> assertThat(d).contains("does not exist"));
    }

    @Test
    void aChangedHostKeyIsRefused() throws IOException {
        // known_hosts holds another key for [127.0.0.1]:port: a man in the middle, as far as the client can tell
        SshServer.KeyFiles impostor = SshServer.generateKey(tmp, "impostor-host", null);
        String[] pub = impostor.publicKeyLine().split(" ");
        Path file = tmp.resolve("known_hosts_changed");
        Files.writeString(file, "[127.0.0.1]:" + server.port() + " " + pub[0] + " " + pub[1] + "\n");
        ReplicationException e = badSsh(options().knownHosts(file).build());
        assertThat(e.getMessage()).contains("host key").contains("does not match")
                .contains("127.0.0.1:" + server.port());
        assertThat(e.hint()).hasValueSatisfying(h -> assertThat(h).contains(file.toString()));
    }

    @Test
    void anUnknownHostIsRefusedWhileCheckingIsOn() throws IOException {
        Path empty = tmp.resolve("known_hosts_empty");
        Files.writeString(empty, "# nothing known\n");
        ReplicationException e = badSsh(options().knownHosts(empty).build());
        assertThat(e.getMessage()).contains("host key").contains("unknown");
        assertThat(e.hint()).hasValueSatisfying(h -> assertThat(h).contains("ssh-keyscan -p " + server.port()));
        ReplicationException missing = badSsh(options().knownHosts(tmp.resolve("no-known-hosts")).build());
        assertThat(missing.detail()).hasValueSatisfying(d -> assertThat(d).contains("does not exist"));
    }

    @Test
    void checkingOffConnectsAnywayWithAWarningAndRecordsNothing() throws IOException {
        Path empty = tmp.resolve("known_hosts_untouched");
        Files.writeString(empty, "");
        try (LogCapture log = new LogCapture();
             SshCommandRunner lax = SshCommandRunner.create(options().knownHosts(empty).strictHostKeyChecking(false).build())) {
            assertThat(lax.run(Command.of("echo", "ok")).stdout()).isEqualTo("ok\n");
            assertThat(log.text()).contains("WARN").contains("host key checking is OFF")
                    .contains("127.0.0.1:" + server.port());
        }
        assertThat(Files.readString(empty)).isEmpty();
    }

    @Test
    void hashedKnownHostsEntriesAreUnderstood() throws IOException {
        Path hashed = tmp.resolve("known_hosts_hashed");
        Files.writeString(hashed, server.knownHostsLine() + "\n");
        CommandResult r = io.repmgr4j.spi.LocalCommandRunner.asCurrentUser()
                .run(Command.of("ssh-keygen", "-H", "-f", hashed.toString()));
        assertThat(r.succeeded()).as(r.stderr()).isTrue();
        assertThat(Files.readString(hashed)).startsWith("|1|");
        try (SshCommandRunner own = SshCommandRunner.create(options().knownHosts(hashed).build())) {
            assertThat(own.run(Command.of("true")).succeeded()).isTrue();
        }
    }

    // ------------------------------------------------------------------ unreachable hosts

    @Test
    void connectionRefusedIsBadSsh() throws IOException {
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        ReplicationException e = badSsh(options().port(closed).build());
        assertThat(e.getMessage()).contains("cannot connect over SSH to " + server.osUser() + "@127.0.0.1:" + closed);
        assertThat(e.detail()).hasValueSatisfying(d -> assertThat(d).contains("refused"));
    }

    @Test
    void aHostThatNeverAnswersTimesOutAsBadSsh() {
        try (SilentServer silent = SilentServer.start()) {
            ReplicationException e = badSsh(options().port(silent.port()).connectTimeout(Duration.ofMillis(500)).build());
            assertThat(e.getMessage()).contains("127.0.0.1:" + silent.port());
            assertThat(e.detail()).hasValueSatisfying(d -> assertThat(d).contains("no answer within"));
        }
    }

    // ------------------------------------------------------------------ helpers

    private static ReplicationException badSsh(SshOptions options) {
        try (SshCommandRunner r = SshCommandRunner.create(options)) {
            Throwable t = org.assertj.core.api.Assertions.catchThrowable(() -> r.run(Command.of("true")));
            assertThat(t).isInstanceOf(ReplicationException.class);
            ReplicationException e = (ReplicationException) t;
            assertThat(e.code()).isEqualTo(ErrorCode.BAD_SSH);
            return e;
        }
    }

    /** Waits (up to 10 s) until a process no longer runs: gone, or a zombie nobody reaped. */
    static void awaitGone(long pid) throws IOException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (running(pid) && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
        assertThat(running(pid)).as("process %d still runs", pid).isFalse();
    }

    private static boolean running(long pid) throws IOException {
        String s;
        try {
            s = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        } catch (java.nio.file.NoSuchFileException e) {
            return false;
        }
        char state = s.charAt(s.lastIndexOf(')') + 2);
        return state != 'Z' && state != 'X';
    }
}
