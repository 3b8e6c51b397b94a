package io.repmgr4j.core.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.repmgr4j.spi.Command;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The remote command line and the pid marker filter. */
class RemoteCommandTest {

    @Test
    void quotesEveryWordAndPutsEnvironmentAndDirectoryInside() {
        assertThat(RemoteCommand.build(Command.of("ls", "-A", "a b")))
                .isEqualTo("echo repmgr4j-pid:$$ >&2; exec 'ls' '-A' 'a b'");
        assertThat(RemoteCommand.build(Command.of("pg_controldata", "-D", "/d").withEnv("LC_ALL", "C")
                .withEnv("PGPASSWORD", "it's secret").withWorkingDirectory("/tmp/x y")))
                .isEqualTo("echo repmgr4j-pid:$$ >&2; cd -- '/tmp/x y' || exit 1; exec env 'LC_ALL=C'"
                        + " 'PGPASSWORD=it'\\''s secret' 'pg_controldata' '-D' '/d'");
    }

    @Test
    void refusesWhatEnvCouldMisread() {
        assertThatThrownBy(() -> RemoteCommand.build(Command.of("true").withEnv("BAD NAME", "x")))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> RemoteCommand.build(Command.of("/x/a=b").withEnv("A", "x")))
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
