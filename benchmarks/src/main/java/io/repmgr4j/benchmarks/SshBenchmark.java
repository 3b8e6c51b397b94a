package io.repmgr4j.benchmarks;

import io.repmgr4j.NodeConfig;
import io.repmgr4j.core.host.NodeHost;
import io.repmgr4j.core.host.PgControl;
import io.repmgr4j.core.ssh.SshCommandRunner;
import io.repmgr4j.core.ssh.SshOptions;
import io.repmgr4j.spi.Command;
import io.repmgr4j.spi.CommandRunner;
import io.repmgr4j.testkit.PgServer;
import io.repmgr4j.testkit.SshServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * {@code benchmarks/run ssh [ROUNDS]}: what reaching a node's host over SSH costs next to
 * the local runner, on one real server whose host is reached both ways (a private sshd on
 * loopback, logged in as the server's OS user). Measures, as medians over ROUNDS
 * (default 200 for single commands, a tenth of that for the host operations, a
 * fiftieth for stop/start):
 * {@code local_cmd_ms} / {@code ssh_cmd_ms} (one {@code true} through a warm runner),
 * {@code ssh_connect_ms} (a new runner: TCP, key exchange, authentication, one command),
 * {@code local_controldata_ms} / {@code ssh_controldata_ms} ({@code pg_controldata}
 * parsed), {@code local_write_read_ms} / {@code ssh_write_read_ms} (NodeHost writes a
 * file whole and reads it back), and {@code local_stop_start_ms} / {@code ssh_stop_start_ms}
 * (pg_ctl stop -m fast, then start -w).
 */
public final class SshBenchmark {
    private SshBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Math.max(20, Integer.parseInt(args[0])) : 200;
        Path tmp = Files.createTempDirectory("repmgr4j-ssh-bench");
        try (PgServer server = PgServer.builder().name("sshbench").start();
             SshServer ssh = SshServer.start()) {
            Path knownHosts = tmp.resolve("known_hosts");
            Files.writeString(knownHosts, ssh.knownHostsLine() + "\n");
            SshOptions options = SshOptions.builder().host(ssh.host()).port(ssh.port()).user(ssh.osUser())
                    .identityFile(ssh.clientKey().privateKey()).knownHosts(knownHosts).build();
            NodeConfig node = NodeConfig.builder().nodeId(1).nodeName("sshbench").conninfo(server.conninfo())
                    .dataDirectory(server.dataDirectory().toString()).pgBindir(server.bindir().toString()).build();
            CommandRunner local = server.runner();
            try (SshCommandRunner remote = SshCommandRunner.create(options)) {
                System.out.println("rounds=" + rounds);
                Stats.figure("local_cmd_ms", measure(rounds, () -> run(local)));
                Stats.figure("ssh_cmd_ms", measure(rounds, () -> run(remote)));
                Stats.figure("ssh_connect_ms", measure(Math.max(5, rounds / 10), () -> {
                    try (SshCommandRunner fresh = SshCommandRunner.create(options)) {
                        return run(fresh);
                    }
                }));
                int hostRounds = Math.max(5, rounds / 10);
                Stats.figure("local_controldata_ms", measure(hostRounds, () -> new PgControl(node, local).controlData()));
                Stats.figure("ssh_controldata_ms", measure(hostRounds, () -> new PgControl(node, remote).controlData()));
                String file = server.dataDirectory().getParent().resolve("bench-file").toString();
                String text = "primary_conninfo = 'host=127.0.0.1 port=5432'\n".repeat(20);
                Stats.figure("local_write_read_ms", measure(hostRounds, () -> writeRead(new NodeHost(local), file, text)));
                Stats.figure("ssh_write_read_ms", measure(hostRounds, () -> writeRead(new NodeHost(remote), file, text)));
                int restarts = Math.max(3, rounds / 50);
                Stats.figure("local_stop_start_ms", measure(restarts, () -> stopStart(new PgControl(node, local))));
                Stats.figure("ssh_stop_start_ms", measure(restarts, () -> stopStart(new PgControl(node, remote))));
                System.out.println("ssh_sessions_opened=" + remote.sessionsOpened());
            }
        } finally {
            try (var files = Files.walk(tmp)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static Object run(CommandRunner r) {
        if (!r.run(Command.of("true")).succeeded()) {
            throw new IllegalStateException("true failed on " + r.describe());
        }
        return null;
    }

    private static Object writeRead(NodeHost host, String file, String text) {
        host.writeFile(file, text, 0600);
        if (!host.readFile(file).equals(text)) {
            throw new IllegalStateException("read back something else");
        }
        return null;
    }

    private static Object stopStart(PgControl control) {
        control.stop(PgControl.StopMode.FAST, Duration.ofSeconds(60));
        control.start(Duration.ofSeconds(60));
        return null;
    }

    /** Runs once to warm up, then {@code rounds} times; the median in ms. */
    private static double measure(int rounds, Supplier<Object> op) {
        op.get();
        List<Long> micros = new ArrayList<>();
        for (int i = 0; i < rounds; i++) {
            long t0 = System.nanoTime();
            op.get();
            micros.add((System.nanoTime() - t0) / 1_000);
        }
        return Stats.median(micros) / 1000.0;
    }
}
