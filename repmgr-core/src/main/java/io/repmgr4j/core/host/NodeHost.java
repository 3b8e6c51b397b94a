package io.repmgr4j.core.host;

import io.repmgr4j.ErrorCode;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.spi.Command;
import io.repmgr4j.spi.CommandResult;
import io.repmgr4j.spi.CommandRunner;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Files and directories on a node's host, reached only through the node's
 * {@link CommandRunner} with POSIX tools ({@code test}, {@code ls}, {@code mkdir},
 * {@code cat}, {@code rm}, {@code stat}), so that operations work the same on a local or
 * a remote node and never touch this JVM's file system for a node. Paths are passed as
 * single arguments, never spliced into shell text. Thread-safe.
 */
public final class NodeHost {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final String VERSION_BEGIN = "repmgr4j-version-begin";
    private static final String VERSION_END = "repmgr4j-version-end";

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
        runChecked("creating directory \"" + path + "\"", "sh", "-c", "mkdir -p -- \"$1\" && chmod \"$2\" -- \"$1\"", "sh", path,
                Integer.toOctalString(mode));
    }

    public void chmod(String path, int mode) {
        runChecked("setting permissions of \"" + path + "\"", "chmod", Integer.toOctalString(mode), "--", path);
    }

    public String readFile(String path) {
        return runChecked("reading \"" + path + "\"", "cat", "--", path).stdout();
    }

    /**
     * Writes a file whole: to a temporary name first, then renamed over the target, so a
     * reader never sees half a file. The file gets {@code mode}. One command on the host.
     */
    public void writeFile(String path, String content, int mode) {
        String tmp = path + ".repmgr4j-tmp";
        CommandResult r = runner.run(Command.of("sh", "-c",
                        "umask 077 && cat > \"$1\" && chmod \"$3\" -- \"$1\" && mv -f -- \"$1\" \"$2\" || { rm -f -- \"$1\"; exit 1; }",
                        "sh", tmp, path, Integer.toOctalString(mode))
                .withStdin(content).withTimeout(TIMEOUT));
        if (!r.succeeded()) {
            throw new ReplicationException(ErrorCode.LOCAL_COMMAND, "writing \"" + path + "\" failed on " + runner.describe(),
                    r.timedOut() ? "no answer within " + TIMEOUT.toSeconds() + " s" : r.lastErrorLine(),
                    "check that the directory exists and the OS user may write into it");
        }
    }

    /** A file's content, or empty when it does not exist. One command on the host. */
    public Optional<String> readFileIfExists(String path) {
        CommandResult r = run("sh", "-c", "if [ -e \"$1\" ]; then exec cat -- \"$1\"; else exit 3; fi", "sh", path);
        if (r.exitCode() == 3 && !r.timedOut()) {
            return Optional.empty();
        }
        if (!r.succeeded()) {
            throw new ReplicationException(ErrorCode.LOCAL_COMMAND, "reading \"" + path + "\" failed on " + runner.describe(),
                    r.timedOut() ? "no answer within " + TIMEOUT.toSeconds() + " s" : r.lastErrorLine(),
                    "check the path and that the OS user the commands run as may read it");
        }
        return Optional.of(r.stdout());
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

    /** Removes everything inside a directory, hidden entries included, and keeps the directory. */
    public void removeContents(String path) {
        if (path.isBlank() || path.equals("/")) {
            throw new IllegalArgumentException("refusing to empty \"" + path + "\"");
        }
        runChecked("removing the contents of \"" + path + "\"", "find", path, "-mindepth", "1", "-delete");
    }

    /**
     * What a path is, seen by the OS user the runner runs as, in one command: whether it
     * exists, is a directory, how many entries it holds, owner, mode, whether it is
     * writable and holds a postmaster.pid; for a missing path, its nearest existing
     * ancestor and whether that is a writable directory (where {@code mkdir -p} would
     * start).
     */
    public DirectoryState probeDirectory(String path) {
        return probe(path, List.of()).directory();
    }

    /**
     * What a program printed when asked for {@code --version}, with its exit code and the
     * identity of its file ({@code device:inode:size:mtime:ctime}, empty when unknown): the same
     * file gives the same answer, so an answer can be reused while the identity holds.
     */
    public record ProgramAnswer(int exitCode, String output, String fileIdentity) {
        /** An answer from a program whose file was not identified. */
        public ProgramAnswer(int exitCode, String output) {
            this(exitCode, output, "");
        }
    }

    /** A path as {@link #probeDirectory} finds it, and programs' {@code --version} answers, by program. */
    public record Probe(DirectoryState directory, Map<String, ProgramAnswer> versions) {
    }

    /**
     * {@link #probeDirectory} plus each program's {@code --version}, in one command on the
     * host: one process start instead of one per question.
     */
    public Probe probe(String path, List<String> programs) {
        return probe(path, programs, Map.of());
    }

    /**
     * {@link #probe(String, List)}, reusing the answers in {@code known} (by program) whose
     * file identity still matches: only a changed or new program is run (a PostgreSQL
     * program links a dozen libraries: running it costs more than the rest of the probe).
     */
    public Probe probe(String path, List<String> programs, Map<String, ProgramAnswer> known) {
        String script = "p=$1\n"
                + "printf 'user=%s\\n' \"$(id -un)\"\n"
                + "if [ -e \"$p\" ]; then\n"
                + "  echo exists=1\n"
                + "  if [ -d \"$p\" ]; then\n"
                + "    echo directory=1\n"
                // counted with the shell's own globbing: no process per question
                + "    if [ -r \"$p\" ] && [ -x \"$p\" ]; then\n"
                + "      c=0\n"
                + "      for f in \"$p\"/* \"$p\"/.[!.]* \"$p\"/..?*; do\n"
                + "        if [ -e \"$f\" ] || [ -L \"$f\" ]; then c=$((c+1)); fi\n"
                + "      done\n"
                + "      echo entries=$c\n"
                + "    fi\n"
                + "    [ -e \"$p/postmaster.pid\" ] && echo pidfile=1\n"
                + "  fi\n"
                + "  stat -c 'owner=%U mode=%a' -- \"$p\"\n"
                + "  [ -w \"$p\" ] && echo writable=1\n"
                + "else\n"
                + "  a=$p\n"
                + "  while [ ! -e \"$a\" ]; do\n"
                + "    case $a in */*) a=${a%/*}; [ -n \"$a\" ] || a=/ ;; *) a=. ;; esac\n"
                + "  done\n"
                + "  [ -d \"$a\" ] && [ -w \"$a\" ] && [ -x \"$a\" ] && echo ancestorwritable=1\n"
                + "  printf 'ancestor=%s\\n' \"$a\"\n"
                + "fi\n"
                + "shift\n"
                + "while [ $# -ge 2 ]; do\n"
                + "  prog=$1; known=$2; shift 2\n"
                + "  id=$(stat -L -c '%d:%i:%s:%Y:%Z' -- \"$prog\" 2>/dev/null) || id=-\n"
                + "  if [ \"$id\" != - ] && [ \"$id\" = \"$known\" ]; then\n"
                + "    printf '%s\\n%s\\n' \"" + VERSION_BEGIN + " same $id\" \"" + VERSION_END + "\"; continue\n"
                + "  fi\n"
                + "  v=$(\"$prog\" --version 2>&1 </dev/null)\n"
                + "  printf '%s\\n%s\\n%s\\n' \"" + VERSION_BEGIN + " $? $id\" \"$v\" \"" + VERSION_END + "\"\n"
                + "done\n"
                + "exit 0\n";
        List<String> argv = new java.util.ArrayList<>(List.of("sh", "-c", script, "sh", path));
        for (String prog : programs) {
            argv.add(prog);
            ProgramAnswer k = known.get(prog);
            argv.add(k == null || k.fileIdentity().isEmpty() ? "-" : k.fileIdentity());
        }
        CommandResult r = run(argv.toArray(String[]::new));
        if (!r.succeeded()) {
            throw new ReplicationException(ErrorCode.LOCAL_COMMAND, "inspecting \"" + path + "\" failed on " + runner.describe(),
                    r.timedOut() ? "no answer within " + TIMEOUT.toSeconds() + " s" : r.lastErrorLine(), null);
        }
        Map<String, ProgramAnswer> versions = new java.util.LinkedHashMap<>();
        String[] lines = r.stdout().split("\n");
        int next = 0;
        int firstVersionLine = lines.length;
        for (int i = 0; i < lines.length; i++) {
            if (lines[i].startsWith(VERSION_BEGIN + " ") && next < programs.size()) {
                firstVersionLine = Math.min(firstVersionLine, i);
                String[] head = lines[i].substring(VERSION_BEGIN.length() + 1).strip().split(" ", 2);
                String identity = head.length > 1 && !head[1].equals("-") ? head[1] : "";
                StringBuilder out = new StringBuilder();
                for (i++; i < lines.length && !lines[i].equals(VERSION_END); i++) {
                    out.append(lines[i]).append('\n');
                }
                String prog = programs.get(next++);
                versions.put(prog, head[0].equals("same") ? known.get(prog)
                        : new ProgramAnswer(Integer.parseInt(head[0]), out.toString(), identity));
            }
        }
        Map<String, String> kv = new HashMap<>();
        for (String line : java.util.Arrays.copyOf(lines, firstVersionLine)) {
            int sp = line.startsWith("owner=") ? line.indexOf(" mode=") : -1;
            if (sp > 0) {
                kv.put("owner", line.substring("owner=".length(), sp));
                kv.put("mode", line.substring(sp + " mode=".length()).strip());
                continue;
            }
            int eq = line.indexOf('=');
            if (eq > 0) {
                kv.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        if (next < programs.size()) {
            throw new ReplicationException(ErrorCode.LOCAL_COMMAND, "inspecting \"" + path + "\" failed on " + runner.describe(),
                    "the answers of " + programs.subList(next, programs.size()) + " to --version are missing", null);
        }
        return new Probe(new DirectoryState(path, kv.getOrDefault("user", ""), kv.containsKey("exists"), kv.containsKey("directory"),
                kv.containsKey("entries") ? OptionalInt.of(Integer.parseInt(kv.get("entries").strip()))
                        : OptionalInt.empty(),
                Optional.ofNullable(kv.get("owner")),
                kv.containsKey("mode") ? OptionalInt.of(Integer.parseInt(kv.get("mode"), 8)) : OptionalInt.empty(),
                kv.containsKey("writable"), kv.containsKey("pidfile"),
                Optional.ofNullable(kv.get("ancestor")), kv.containsKey("ancestorwritable")), versions);
    }

    /**
     * A path as {@link #probeDirectory} found it.
     *
     * @param path the path asked about
     * @param user the OS user the runner's commands run as
     * @param exists whether anything is at the path
     * @param directory whether it is a directory
     * @param entries the number of entries, hidden ones included; empty when it cannot be listed
     * @param owner the owner's name, when it exists
     * @param mode the permission bits, when it exists
     * @param writable whether {@code user} may write it
     * @param postmasterPid whether the directory holds a postmaster.pid
     * @param nearestAncestor for a missing path: its nearest existing ancestor
     * @param ancestorWritable for a missing path: whether that ancestor is a directory {@code user} may create entries in
     */
    public record DirectoryState(String path, String user, boolean exists, boolean directory,
                                 OptionalInt entries, Optional<String> owner, OptionalInt mode,
                                 boolean writable, boolean postmasterPid, Optional<String> nearestAncestor,
                                 boolean ancestorWritable) {
        /** True when the path is missing or an empty directory. */
        public boolean absentOrEmpty() {
            return !exists || (directory && entries.isPresent() && entries.getAsInt() == 0);
        }
    }

    /** Renames a path. */
    public void rename(String from, String to) {
        runChecked("renaming \"" + from + "\"", "mv", "--", from, to);
    }
}
