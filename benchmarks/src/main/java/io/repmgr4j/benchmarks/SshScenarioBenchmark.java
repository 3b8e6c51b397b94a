package io.repmgr4j.benchmarks;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.core.ReplicationClusters;
import io.repmgr4j.core.ssh.SshCommandRunner;
import io.repmgr4j.core.ssh.SshOptions;
import io.repmgr4j.spi.CommandRunner;
import io.repmgr4j.testkit.PgSandbox;
import io.repmgr4j.testkit.PgServer;
import io.repmgr4j.testkit.SshServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code benchmarks/run ssh-scenario [ROUNDS]}: the SSH test scenario timed against the
 * same scenario on the local runner. One round builds a 3-node set from a fresh primary
 * (two standbys cloned with the library: {@code cloneStandby(...).thenStart()
 * .waitUntilStreaming().thenRegister()}), then switches over to pg2 and back to pg1 with
 * siblings following; every node's host is reached either through
 * {@link SshCommandRunner} (a private sshd on loopback) or through the local runner.
 * Rounds alternate between the two (default 3 each, after one warm-up of each). Prints
 * the runs and the medians {@code local_scenario_ms}, {@code ssh_scenario_ms} and
 * {@code ssh_scenario_ratio}, and how many commands a scenario ran on the nodes' hosts
 * with the time spent in them ({@code local_commands}, {@code local_command_ms},
 * {@code ssh_commands}, {@code ssh_command_ms}; pg_ctl's own waits included).
 */
public final class SshScenarioBenchmark {
    private static final String PASSWORD = "bench-s3cret";
    private static final Duration WAIT = Duration.ofSeconds(60);

    private static final List<Counting> LOCAL = new ArrayList<>();
    private static final List<Counting> SSH = new ArrayList<>();

    private SshScenarioBenchmark() {
    }

    /** Counts the commands a scenario runs on the nodes' hosts and the time they take. */
    private static final class Counting {
        private final java.util.concurrent.atomic.AtomicLong commands = new java.util.concurrent.atomic.AtomicLong();
        private final java.util.concurrent.atomic.AtomicLong nanos = new java.util.concurrent.atomic.AtomicLong();

        CommandRunner wrap(CommandRunner r) {
            return new CommandRunner() {
                @Override
                public io.repmgr4j.spi.CommandResult run(io.repmgr4j.spi.Command command) {
                    long t0 = System.nanoTime();
                    try {
                        return r.run(command);
                    } finally {
                        nanos.addAndGet(System.nanoTime() - t0);
                        commands.incrementAndGet();
                    }
                }

                @Override
                public String describe() {
                    return r.describe();
                }
            };
        }
    }

    private static void printCommands(String name, List<Counting> runs) {
        List<Long> counts = new ArrayList<>();
        List<Long> ms = new ArrayList<>();
        for (Counting c : runs) {
            counts.add(c.commands.get());
            ms.add(c.nanos.get() / 1_000_000);
        }
        Stats.figure(name + "_commands", Stats.median(counts));
        Stats.figure(name + "_command_ms", Stats.median(ms));
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Math.max(1, Integer.parseInt(args[0])) : 3;
        Path tmp = Files.createTempDirectory("repmgr4j-ssh-scenario-bench");
        try (SshServer ssh = SshServer.start()) {
            Path knownHosts = tmp.resolve("known_hosts");
            Files.writeString(knownHosts, ssh.knownHostsLine() + "\n");
            SshOptions defaults = SshOptions.builder().identityFile(ssh.clientKey().privateKey()).knownHosts(knownHosts)
                    .port(ssh.port()).user(ssh.osUser()).build();
            scenario(null, 0);
            scenario(defaults, 0);
            List<Long> local = new ArrayList<>();
            List<Long> remote = new ArrayList<>();
            for (int r = 1; r <= rounds; r++) {
                local.add(scenario(null, r));
                remote.add(scenario(defaults, r));
            }
            System.out.println("rounds=" + rounds);
            System.out.println("local_scenario_runs_ms=" + local);
            System.out.println("ssh_scenario_runs_ms=" + remote);
            printCommands("local", LOCAL);
            printCommands("ssh", SSH);
            double l = Stats.median(local);
            double s = Stats.median(remote);
            Stats.figure("local_scenario_ms", l);
            Stats.figure("ssh_scenario_ms", s);
            System.out.println("ssh_scenario_ratio=" + String.format("%.3f", s / l));
        } finally {
            try (var files = Files.walk(tmp)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** One round; {@code ssh} null means the local runner. Returns the scenario's ms (set-up of the primary excluded). */
    private static long scenario(SshOptions ssh, int round) {
        String tag = (ssh == null ? "l" : "s") + round;
        List<AutoCloseable> close = new ArrayList<>();
        try {
            PgServer pg1 = PgServer.builder().name("bsc1" + tag).password(PASSWORD).start();
            close.add(pg1);
            PgSandbox s2 = PgSandbox.allocate("bsc2" + tag, null, PASSWORD);
            close.add(s2);
            PgSandbox s3 = PgSandbox.allocate("bsc3" + tag, null, PASSWORD);
            close.add(s3);
            NodeConfig c1 = node(1, pg1.name(), pg1.conninfo(), pg1.dataDirectory(), pg1.bindir());
            NodeConfig c2 = node(2, s2.name(), s2.conninfo(), s2.dataDirectory(), s2.bindir());
            NodeConfig c3 = node(3, s3.name(), s3.conninfo(), s3.dataDirectory(), s3.bindir());
            ReplicationClusters.Builder b = ReplicationClusters.builder().seed(pg1.conninfo());
            Counting counting = new Counting();
            for (NodeConfig c : List.of(c1, c2, c3)) {
                CommandRunner r = ssh == null ? pg1.runner() : SshCommandRunner.forNode(c, ssh);
                if (r instanceof AutoCloseable ac) {
                    close.add(ac);
                }
                b.node(c, counting.wrap(r));
            }
            long t0 = System.nanoTime();
            try (ReplicationCluster cluster = b.build()) {
                cluster.registerPrimary(c1).execute();
                for (PgSandbox s : List.of(s2, s3)) {
                    NodeConfig c = s == s2 ? c2 : c3;
                    cluster.cloneStandby(c).serverSetting("unix_socket_directories", s.socketDirectory().toString())
                            .fastCheckpoint(true).thenStart().waitUntilStreaming(WAIT).thenRegister().execute();
                    close.add(s.adopt());
                }
                for (int target : new int[] {2, 1}) {
                    if (!cluster.switchover(target).siblingsFollow(true).execute().successful()) {
                        throw new IllegalStateException("switchover to node " + target + " failed in round " + tag);
                    }
                }
                if (!cluster.show().execute().healthy()) {
                    throw new IllegalStateException("the set is not healthy after round " + tag);
                }
            }
            long ms = (System.nanoTime() - t0) / 1_000_000;
            if (round > 0) {
                (ssh == null ? LOCAL : SSH).add(counting);
            }
            return ms;
        } finally {
            for (int i = close.size() - 1; i >= 0; i--) {
                try {
                    close.get(i).close();
                } catch (Exception e) {
                    System.err.println("closing: " + e.getMessage());
                }
            }
        }
    }

    private static NodeConfig node(int id, String name, ConnInfo conninfo, Path data, Path bindir) {
        return NodeConfig.builder().nodeId(id).nodeName(name).conninfo(conninfo).dataDirectory(data.toString())
                .pgBindir(bindir.toString()).build();
    }
}
