package io.repmgr4j.spi;

import io.repmgr4j.ErrorCode;
import io.repmgr4j.ReplicationException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;

/**
 * Runs commands on this machine with {@link ProcessBuilder}. When the JVM runs as root
 * and an OS user is named, commands run as that user (PostgreSQL refuses to run as root):
 * through {@code setpriv} when the host has it, which changes user, group and
 * supplementary groups and then runs the command itself, else through {@code runuser}
 * (PAM makes that about twice as slow to start). Either way the command gets the user's
 * HOME, SHELL, USER and LOGNAME, and the rest of the JVM's environment. A command past
 * its timeout is killed with its whole process tree. Thread-safe.
 */
public final class LocalCommandRunner implements CommandRunner {
    private static final boolean JVM_IS_ROOT = "root".equals(System.getProperty("user.name"));
    private static final List<String> SETPRIV_PATHS = List.of("/usr/bin/setpriv", "/bin/setpriv");
    /** OS users' passwd entries, looked up once per user; empty when setpriv cannot be used for that user. */
    private static final ConcurrentMap<String, Optional<Account>> ACCOUNTS = new ConcurrentHashMap<>();

    /** What switching to a user with setpriv needs from its passwd entry. */
    private record Account(String setpriv, String gid, String home, String shell) {
    }

    private final String osUser;

    private LocalCommandRunner(String osUser) {
        this.osUser = osUser;
    }

    /** Runs commands as the JVM's own user. */
    public static LocalCommandRunner asCurrentUser() {
        return new LocalCommandRunner(null);
    }

    /**
     * Runs commands as {@code osUser} when the JVM runs as root, else as the JVM's own
     * user (a non-root JVM cannot switch users, and needs not).
     */
    public static LocalCommandRunner asUser(String osUser) {
        return new LocalCommandRunner(osUser);
    }

    /** True when this JVM runs as root. */
    public static boolean jvmIsRoot() {
        return JVM_IS_ROOT;
    }

    /** The OS user commands run as, when it differs from the JVM's. */
    public Optional<String> switchesTo() {
        return JVM_IS_ROOT && osUser != null && !osUser.equals("root") ? Optional.of(osUser) : Optional.empty();
    }

    @Override
    public CommandResult run(Command command) {
        List<String> argv = new ArrayList<>();
        Optional<String> user = switchesTo();
        // both ways keep the caller's environment (setpriv all of it, runuser all but HOME,
        // SHELL, USER and LOGNAME), so added variables reach the command through the process
        // environment below; never through argv, where any user could read a PGPASSWORD in
        // the process list
        Optional<Account> account = user.flatMap(LocalCommandRunner::account);
        if (account.isPresent()) {
            argv.addAll(List.of(account.get().setpriv(), "--reuid=" + user.get(), "--regid=" + account.get().gid(),
                    "--init-groups", "--"));
        } else if (user.isPresent()) {
            argv.addAll(List.of("runuser", "-u", user.get(), "--"));
        }
        argv.addAll(command.argv());
        ProcessBuilder pb = new ProcessBuilder(argv);
        account.ifPresent(a -> {
            pb.environment().put("HOME", a.home());
            pb.environment().put("SHELL", a.shell());
            pb.environment().put("USER", user.get());
            pb.environment().put("LOGNAME", user.get());
        });
        pb.environment().putAll(command.environment());
        command.workingDirectory().ifPresent(d -> pb.directory(new java.io.File(d)));
        long start = System.nanoTime();
        Process process;
        try {
            process = pb.start();
        } catch (IOException e) {
            throw new ReplicationException(ErrorCode.LOCAL_COMMAND,
                    "could not start \"" + command.argv().get(0) + "\"", e.getMessage(),
                    "check that the program exists and is executable on this host", e);
        }
        OutputPump out = OutputPump.start(process.getInputStream(), Command.Stream.STDOUT, command.outputListener(),
                "repmgr4j-cmd-stdout");
        OutputPump err = OutputPump.start(process.getErrorStream(), Command.Stream.STDERR, command.outputListener(),
                "repmgr4j-cmd-stderr");
        try (java.io.OutputStream stdin = process.getOutputStream()) {
            if (command.stdin().isPresent()) {
                stdin.write(command.stdin().get().getBytes(StandardCharsets.UTF_8));
            }
        } catch (IOException ignored) {
            // the child may have exited or closed stdin already; its exit code tells
        }
        boolean finished;
        try {
            finished = process.waitFor(command.timeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            killTree(process);
            Thread.currentThread().interrupt();
            throw new ReplicationException(ErrorCode.LOCAL_COMMAND,
                    "interrupted while running \"" + command.argv().get(0) + "\"", null, null, e);
        }
        if (!finished) {
            killTree(process);
        }
        // a child that outlived the command may hold its output open: wait a little, not forever
        out.awaitQuietly(5_000);
        err.awaitQuietly(5_000);
        int exit = finished ? process.exitValue() : -1;
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        return new CommandResult(exit, out.text(), err.text(), !finished, took);
    }

    /**
     * The user's passwd entry when this host has setpriv, looked up once with
     * {@code getent passwd}; empty (runuser is used) when either is missing.
     */
    private static Optional<Account> account(String user) {
        return ACCOUNTS.computeIfAbsent(user, u -> {
            Optional<String> setpriv = SETPRIV_PATHS.stream().filter(p -> new java.io.File(p).canExecute()).findFirst();
            if (setpriv.isEmpty()) {
                return Optional.empty();
            }
            try {
                Process p = new ProcessBuilder("getent", "passwd", u).redirectErrorStream(true).start();
                // one passwd line fits in the pipe: wait (bounded) first, then read
                if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                    p.destroyForcibly();
                    return Optional.empty();
                }
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
                String[] f = out.split("\n", 2)[0].split(":", -1);
                if (f.length < 7 || !f[0].equals(u) || !f[3].matches("\\d+")) {
                    return Optional.empty();
                }
                return Optional.of(new Account(setpriv.get(), f[3], f[5], f[6].isEmpty() ? "/bin/sh" : f[6]));
            } catch (IOException e) {
                return Optional.empty();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Optional.empty();
            }
        });
    }

    /**
     * SIGKILLs the process and everything it started. Descendants go first (once the
     * process is gone its children are re-parented and no longer found through it), in
     * rounds, so that a child forked while the previous round ran is caught too.
     */
    private static void killTree(Process process) {
        java.util.Set<Long> killed = new java.util.HashSet<>();
        for (int round = 0; round < 5; round++) {
            List<ProcessHandle> fresh = process.descendants().filter(h -> !killed.contains(h.pid())).toList();
            if (fresh.isEmpty()) {
                break;
            }
            for (ProcessHandle h : fresh) {
                h.destroyForcibly();
                killed.add(h.pid());
            }
        }
        process.destroyForcibly();
        try {
            process.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String describe() {
        return switchesTo().map(u -> "local (as " + u + ")").orElse("local");
    }
}
