package io.repmgr4j.core.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.repmgr4j.spi.Command;
import io.repmgr4j.spi.CommandResult;
import io.repmgr4j.spi.LocalCommandRunner;
import java.util.List;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The remote command line and the pid marker filter. */
class RemoteCommandTest {

    @Test
    void quotesEveryWordAndChangesDirectory() {
        RemoteCommand.Remote plain = RemoteCommand.build(Command.of("ls", "-A", "a b"));
        assertThat(plain.commandLine()).isEqualTo("echo repmgr4j-pid:$$ >&2; exec 'ls' '-A' 'a b'");
        assertThat(plain.stdinPrefix()).isEmpty();
        assertThat(RemoteCommand.build(Command.of("pwd").withWorkingDirectory("/tmp/x y")).commandLine())
                .isEqualTo("echo repmgr4j-pid:$$ >&2; cd -- '/tmp/x y' || exit 1; exec 'pwd'");
    }

    @Test
    void environmentValuesTravelOnStdinNeverOnTheCommandLine() {
        RemoteCommand.Remote r = RemoteCommand.build(Command.of("pg_basebackup", "-D", "/d")
                .withEnv("PGPASSWORD", "it's s3cret\\n\u00e9").withEnv("LC_ALL", "C"));
        assertThat(r.commandLine()).doesNotContain("s3cret", "C'")
                .contains("IFS= read -r repmgr4j_v || exit 125; LC_ALL=$(printf '%bx' \"$repmgr4j_v\"); LC_ALL=${LC_ALL%x};"
                        + " export LC_ALL; IFS= read -r repmgr4j_v")
                .endsWith("unset repmgr4j_v; exec 'pg_basebackup' '-D' '/d'");
        assertThat(new String(r.stdinPrefix(), StandardCharsets.US_ASCII)).isEqualTo("C\nit's s3cret\\\\n\\0303\\0251\n");
    }

    /** Every awkward value comes back byte for byte from dash and bash, with the command's own stdin after it. */
    @Test
    void aRealShellDecodesTheValuesAndLeavesTheRestOfStdin() {
        String[] values = {"", "plain", "it's \"q\" $(id) `id` ; & |", "back\\slash \\n \\0101 \\c end", "new\nline",
            "trailing newlines\n\n", "  spaces  ", "tab\t", "%s %b %%", "ünïcødé ✓", "\u0001\u007f"};
        for (String shell : List.of("sh", "bash")) {
            for (String v : values) {
                Command c = Command.of("sh", "-c", "printf '%s|%s' \"$VALUE\" \"$(cat)\"").withEnv("VALUE", v).withEnv("OTHER", "x")
                        .withStdin("the command's own input");
                RemoteCommand.Remote r = RemoteCommand.build(c);
                String stdin = new String(r.stdinPrefix(), StandardCharsets.US_ASCII) + c.stdin().orElseThrow();
                CommandResult res = LocalCommandRunner.asCurrentUser().run(Command.of(shell, "-c", r.commandLine())
                        .withStdin(stdin));
                assertThat(res.succeeded()).as(shell + ": " + res.stderr()).isTrue();
                assertThat(res.stdout()).as(shell + " with " + v).isEqualTo(v + "|the command's own input");
            }
        }
    }

    @Test
    void refusesWhatItCannotCarry() {
        assertThatThrownBy(() -> RemoteCommand.build(Command.of("true").withEnv("BAD NAME", "x")))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> RemoteCommand.build(Command.of("true").withEnv("A", "nul\0byte")))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theFilterTakesOutTheMarkerAndKeepsEverythingElse() throws IOException {
        AtomicLong pid = new AtomicLong(-1);
        String in = "motd line\nrepmgr4j-pid:4242\nreal error\nrepmgr4j-pid:1\nno newline";
        String out = read(new RemoteCommand.PidFilter(stream(in), pid));
        assertThat(pid.get()).isEqualTo(4242);
        assertThat(out).isEqualTo("motd line\nreal error\nrepmgr4j-pid:1\nno newline");
    }

    @Test
    void withoutAMarkerEverythingPassesThrough() throws IOException {
        AtomicLong pid = new AtomicLong(-1);
        assertThat(read(new RemoteCommand.PidFilter(stream("sh: 1: exec: nope: not found\n"), pid)))
                .isEqualTo("sh: 1: exec: nope: not found\n");
        assertThat(pid.get()).isEqualTo(-1);
        assertThat(read(new RemoteCommand.PidFilter(stream(""), pid))).isEmpty();
    }

    @Test
    void killTargetsTheProcessGroup() {
        assertThat(RemoteCommand.kill(123)).startsWith("kill -KILL -123 ");
    }

    private static ByteArrayInputStream stream(String s) {
        return new ByteArrayInputStream(s.getBytes(StandardCharsets.UTF_8));
    }

    private static String read(RemoteCommand.PidFilter f) throws IOException {
        return new String(f.readAllBytes(), StandardCharsets.UTF_8);
    }
}
