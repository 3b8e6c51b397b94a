package io.repmgr4j.core.host;

import io.repmgr4j.ErrorCode;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.spi.Command;
import io.repmgr4j.spi.CommandResult;
import io.repmgr4j.spi.CommandRunner;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Files and directories on a node's host, reached only through the node's
 * {@link CommandRunner} with POSIX tools ({@code test}, {@code ls}, {@code mkdir},
 * {@code cat}, {@code rm}, {@code stat}), so that operations work the same on a local or
 * a remote node and never touch this JVM's file system for a node. Paths are passed as
 * single arguments, never spliced into shell text. Thread-safe.
 */
public final class NodeHost {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final CommandRunner runner;

    public NodeHost(CommandRunner runner) {
        this.runner = Objects.requireNonNull(runner, "runner");
    }

    /** The runner this host's commands go through. */
    public CommandRunner runner() {
        return runner;
    }

    /** Owner and permission bits of a path. */
    public record FileStat(String owner, int mode, boolean directory) {
        /** The permission bits as octal text, such as {@code 700}. */
        public String octalMode() {
            return Integer.toOctalString(mode);
        }
    }

    private CommandResult run(String... argv) {
        return runner.run(Command.of(argv).withTimeout(TIMEOUT));
    }

    private CommandResult runChecked(String what, String... argv) {
        CommandResult r = run(argv);
        if (!r.succeeded()) {
            throw new ReplicationException(ErrorCode.LOCAL_COMMAND, what + " failed on " + runner.describe(),
                    r.timedOut() ? "no answer within " + TIMEOUT.toSeconds() + " s" : r.lastErrorLine(),
                    "check the path and that the OS user the commands run as may use it");
        }
        return r;
    }

    public boolean exists(String path) {
        return run("test", "-e", path).succeeded();
    }

    public boolean isDirectory(String path) {
        return run("test", "-d", path).succeeded();
    }

    /** True when the path is a directory the OS user may write into. */
    public boolean isWritableDirectory(String path) {
        return run("test", "-d", path, "-a", "-w", path).succeeded();
    }

    /** True when the path is a directory with no entries (hidden ones count). */
    public boolean isEmptyDirectory(String path) {
        return isDirectory(path) && list(path).isEmpty();
    }

    /** The names in a directory, hidden ones included. */
    public List<String> list(String path) {
        String out = runChecked("listing \"" + path + "\"", "ls", "-A", "--", path).stdout();
        return out.isBlank() ? List.of() : Arrays.stream(out.split("\n")).filter(s -> !s.isEmpty()).toList();
    }

    /** Owner and mode of a path, or empty when it does not exist. */
    public Optional<FileStat> stat(String path) {
        CommandResult r = run("stat", "-c", "%U %a %F", "--", path);
        if (!r.succeeded()) {
            return Optional.empty();
        }
        String[] parts = r.stdout().strip().split(" ", 3);
        return Optional.of(new FileStat(parts[0], Integer.parseInt(parts[1], 8), parts[2].startsWith("directory")));
    }

    /** Creates a directory and its parents, and sets its mode (for example {@code 0700}). */
    public void mkdirs(String path, int mode) {
        runChecked("creating directory \"" + path + "\"", "mkdir", "-p", "--", path);
        chmod(path, mode);
    }

    public void chmod(String path, int mode) {
        runChecked("setting permissions of \"" + path + "\"", "chmod", Integer.toOctalString(mode), "--", path);
    }

    public String readFile(String path) {
        return runChecked("reading \"" + path + "\"", "cat", "--", path).stdout();
    }

    /**
     * Writes a file whole: to a temporary name first, then renamed over the target, so a
     * reader never sees half a file. The file gets {@code mode}.
     */
    public void writeFile(String path, String content, int mode) {
        String tmp = path + ".repmgr4j-tmp";
        CommandResult r = runner.run(Command.of("sh", "-c", "umask 077 && cat > \"$1\"", "sh", tmp)
                .withStdin(content).withTimeout(TIMEOUT));
        if (!r.succeeded()) {
            run("rm", "-f", "--", tmp);
            throw new ReplicationException(ErrorCode.LOCAL_COMMAND, "writing \"" + path + "\" failed on " + runner.describe(),
                    r.lastErrorLine(), "check that the directory exists and the OS user may write into it");
        }
        chmod(tmp, mode);
        runChecked("renaming \"" + tmp + "\"", "mv", "-f", "--", tmp, path);
    }

    /** Appends text to a file, creating it when absent. */
    public void appendFile(String path, String content) {
        CommandResult r = runner.run(Command.of("sh", "-c", "cat >> \"$1\"", "sh", path).withStdin(content).withTimeout(TIMEOUT));
        if (!r.succeeded()) {
            throw new ReplicationException(ErrorCode.LOCAL_COMMAND, "appending to \"" + path + "\" failed on " + runner.describe(),
                    r.lastErrorLine(), null);
        }
    }

    /** Removes a file or a directory tree; nothing happens when it does not exist. */
    public void removeRecursively(String path) {
        if (path.isBlank() || path.equals("/")) {
            throw new IllegalArgumentException("refusing to remove \"" + path + "\"");
        }
        runChecked("removing \"" + path + "\"", "rm", "-rf", "--", path);
    }

    /** Creates a new temporary directory (mode 0700) on the host and returns its path. */
    public String createTempDirectory(String prefix) {
        return runChecked("creating a temporary directory", "mktemp", "-d", "-t", prefix + ".XXXXXXXX").stdout().strip();
    }

    /** Copies files, keeping their modes and times, into a directory, in one command. */
    public void copyInto(List<String> files, String directory) {
        if (files.isEmpty()) {
            return;
        }
        List<String> argv = new java.util.ArrayList<>(List.of("cp", "-p", "--"));
        argv.addAll(files);
        argv.add(directory);
        CommandResult r = runner.run(Command.of(argv).withTimeout(TIMEOUT));
        if (!r.succeeded()) {
            throw new ReplicationException(ErrorCode.LOCAL_COMMAND, "copying " + files + " into \"" + directory + "\" failed on "
                    + runner.describe(), r.timedOut() ? "no answer within " + TIMEOUT.toSeconds() + " s" : r.lastErrorLine(),
                    "check the paths and that the OS user the commands run as may use them");
        }
    }

    /** Renames a path. */
    public void rename(String from, String to) {
        runChecked("renaming \"" + from + "\"", "mv", "--", from, to);
    }
}
