package io.repmgr4j.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.Test;

/** Environment variables added to a command reach it, but never the process list. */
class LocalCommandRunnerTest {

    @Test
    void addedVariablesReachTheCommandButNotTheArgumentsOfAnyProcess() {
        LocalCommandRunner runner = LocalCommandRunner.asUser("postgres");
        assumeTrue(runner.switchesTo().isPresent(), "only a root JVM switches users");
        // the command prints its variable, then the argument vectors of itself and its parent (runuser)
        CommandResult r = runner.run(Command.of("sh", "-c",
                        "echo \"value=$SECRET_FOR_TEST\"; tr '\\0' ' ' < /proc/$$/cmdline; echo; tr '\\0' ' ' < /proc/$PPID/cmdline")
                .withEnv("SECRET_FOR_TEST", "s3cr3t"));
        assertThat(r.succeeded()).as(r.stderr()).isTrue();
        String[] lines = r.stdout().split("\n");
        assertThat(lines[0]).isEqualTo("value=s3cr3t");
        assertThat(lines[1]).doesNotContain("s3cr3t");
        assertThat(lines[2]).contains("runuser").doesNotContain("s3cr3t");
    }
}
