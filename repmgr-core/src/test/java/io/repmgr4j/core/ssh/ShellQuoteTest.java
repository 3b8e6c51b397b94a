package io.repmgr4j.core.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.repmgr4j.spi.Command;
import io.repmgr4j.spi.CommandResult;
import io.repmgr4j.spi.LocalCommandRunner;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** POSIX shell quoting: the exact words it writes, and a real shell reading each back as one literal argument. */
class ShellQuoteTest {

    /** Names and paths that would be shell syntax if they were not quoted. */
    static List<String> nasty() {
        return List.of("plain", "", " ", "two words", "it's", "'", "''", "\"double\"", "a;b", "a && b", "a | b",
                "$(touch /tmp/pwned)", "`id`", "$HOME", "${HOME}", "back\\slash", "new\nline", "tab\there", "*",
                "?", "[a-z]", "~", "~root", "-n", "--", "#comment", "a>b", "a<b", "!bang", "x'\"$(id)`id`;\n\\'y",
                "ünïcødé ✓");
    }

    @Test
    void wrapsInSingleQuotesAndEscapesSingleQuotes() {
        assertThat(ShellQuote.quote("plain")).isEqualTo("'plain'");
        assertThat(ShellQuote.quote("")).isEqualTo("''");
        assertThat(ShellQuote.quote("it's")).isEqualTo("'it'\\''s'");
        assertThat(ShellQuote.quote("$(id)")).isEqualTo("'$(id)'");
        assertThat(ShellQuote.join(List.of("ls", "-A", "a b"))).isEqualTo("'ls' '-A' 'a b'");
    }

    @Test
    void refusesNul() {
        assertThatThrownBy(() -> ShellQuote.quote("a\0b")).isInstanceOf(IllegalArgumentException.class);
    }

    @ParameterizedTest
    @MethodSource("nasty")
    void aPosixShellReadsEachBackAsOneLiteralArgument(String arg) {
        // what the SSH runner sends is read by the remote login shell; dash (/bin/sh) and bash must agree
        for (String shell : List.of("sh", "bash")) {
            String line = "printf '%s|' " + ShellQuote.join(List.of(arg, "second")) + "; printf '%s' $#";
            CommandResult r = LocalCommandRunner.asCurrentUser().run(Command.of(shell, "-c", line));
            assertThat(r.succeeded()).as(shell + ": " + r.stderr()).isTrue();
            assertThat(r.stdout()).as(shell).isEqualTo(arg + "|second|0");
        }
    }
}
