package io.repmgr4j.testkit;

import io.repmgr4j.spi.Command;
import io.repmgr4j.spi.CommandResult;
import io.repmgr4j.spi.CommandRunner;
import io.repmgr4j.spi.LocalCommandRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs programs inside one network namespace of a {@link NetLab}: {@code ip netns exec NS},
 * then (when the JVM is root and a user is given) {@code setpriv} to that user, or
 * {@code runuser} where setpriv is missing. Entering a namespace needs root, so the switch
 * to the unprivileged user comes after it. Internal; thread-safe.
 */
final class NetnsRunner implements CommandRunner {
    private static final LocalCommandRunner ROOT = LocalCommandRunner.asCurrentUser();
    private static final String SETPRIV = Files.isExecutable(Path.of("/usr/bin/setpriv")) ? "/usr/bin/setpriv"
            : Files.isExecutable(Path.of("/bin/setpriv")) ? "/bin/setpriv" : null;

    private final String netns;
    private final String osUser;

    /** {@code osUser}: the user programs run as, null for the JVM's own user. */
    NetnsRunner(String netns, String osUser) {
        this.netns = netns;
        this.osUser = osUser;
    }

    /** The argv prefix that enters the namespace and switches to the user. */
    List<String> prefix() {
        List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", netns));
        if (osUser != null) {
            if (SETPRIV != null) {
                argv.addAll(List.of(SETPRIV, "--reuid=" + osUser, "--regid=" + osUser, "--init-groups", "--"));
            } else {
                argv.addAll(List.of("runuser", "-u", osUser, "--"));
            }
        }
        return argv;
    }

    @Override
    public CommandResult run(Command command) {
        List<String> argv = prefix();
        argv.addAll(command.argv());
        Command wrapped = Command.of(argv).withTimeout(command.timeout()).withOutputListener(command.outputListener());
        for (var e : command.environment().entrySet()) {
            wrapped = wrapped.withEnv(e.getKey(), e.getValue());
        }
        if (osUser != null && SETPRIV != null) {
            wrapped = wrapped.withEnv("USER", osUser).withEnv("LOGNAME", osUser);
        }
        if (command.workingDirectory().isPresent()) {
            wrapped = wrapped.withWorkingDirectory(command.workingDirectory().get());
        }
        if (command.stdin().isPresent()) {
            wrapped = wrapped.withStdin(command.stdin().get());
        }
        return ROOT.run(wrapped);
    }

    @Override
    public String describe() {
        return "netns " + netns + (osUser == null ? "" : " (as " + osUser + ")");
    }
}
