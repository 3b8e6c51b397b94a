package io.repmgr4j.core.daemon;

import io.repmgr4j.DaemonOptions;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.FailoverDaemon;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.core.ReplicationClusters;
import io.repmgr4j.core.config.RepmgrConf;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;

/**
 * The failover daemon as a program, like {@code repmgrd -f repmgr.conf}: reads the node's
 * repmgr.conf, reaches the cluster through the node's own conninfo, runs the same
 * {@link FailoverDaemon} a Java service embeds, and stops on SIGTERM or Ctrl-C
 * (recording {@code repmgrd_shutdown}).
 *
 * <pre>
 * java -cp ... io.repmgr4j.core.daemon.DaemonMain -f /etc/repmgr.conf
 *     [--monitor-interval-ms N] [--reconnect-interval-ms N]
 *     [--check-timeout-ms N] [--primary-isolation-timeout-ms N]
 * </pre>
 *
 * Fencing is configured in repmgr.conf ({@code fencing}, {@code fence_command},
 * {@code primary_isolation_timeout}, repmgr4j's own keys); the options override the
 * intervals with millisecond values.
 *
 * Exit status: 0 after a clean stop, otherwise repmgr's exit code of the error
 * (1 BAD_CONFIG for a bad file, option or setting; 6 DB_CONN when the local server answers
 * but refuses the daemon's connection). A local server that is down is waited for: the
 * daemon runs and finishes its start once it answers. Logging goes through SLF4J: put a binding on the class path (log_file and
 * log_level are not applied here).
 */
public final class DaemonMain {
    private DaemonMain() {
    }

    public static void main(String[] args) {
        CountDownLatch stop = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(1);
        int code = run(args, System.out, System.err, daemon -> {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                stop.countDown();
                try {
                    done.await(30, java.util.concurrent.TimeUnit.SECONDS); // let main close the daemon and the cluster
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "repmgr4j-daemon-shutdown"));
            try {
                stop.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, done);
        if (code != 0) {
            System.exit(code);
        }
    }

    /**
     * Runs the daemon: parses {@code args}, reads the configuration, starts the daemon,
     * hands it to {@code untilStop} (which returns when the daemon should stop), closes it.
     * Returns the exit status.
     */
    static int run(String[] args, PrintStream out, PrintStream err, Consumer<FailoverDaemon> untilStop) {
        return run(args, out, err, untilStop, new CountDownLatch(1));
    }

    private static int run(String[] args, PrintStream out, PrintStream err, Consumer<FailoverDaemon> untilStop,
                           CountDownLatch done) {
        try {
            return runDaemon(args, out, err, untilStop);
        } finally {
            done.countDown();
        }
    }

    private static int runDaemon(String[] args, PrintStream out, PrintStream err, Consumer<FailoverDaemon> untilStop) {
        Path config = null;
        io.repmgr4j.ImmutableDaemonOptions.Builder options = DaemonOptions.builder();
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "-f", "--config-file" -> config = Path.of(value(args, ++i, args[i - 1]));
                    case "--monitor-interval-ms" -> options.monitorInterval(millis(args, ++i, "--monitor-interval-ms"));
                    case "--reconnect-interval-ms" -> options.reconnectInterval(millis(args, ++i, "--reconnect-interval-ms"));
                    case "--check-timeout-ms" -> options.checkTimeout(millis(args, ++i, "--check-timeout-ms"));
                    case "--primary-isolation-timeout-ms" -> options.primaryIsolationTimeout(
                            millis(args, ++i, "--primary-isolation-timeout-ms"));
                    case "-h", "--help" -> {
                        out.println(usage());
                        return 0;
                    }
                    default -> throw new ReplicationException(ErrorCode.BAD_CONFIG, "unknown argument \"" + args[i] + "\"",
                            null, usage());
                }
            }
            if (config == null) {
                throw new ReplicationException(ErrorCode.BAD_CONFIG, "no configuration file given", null, usage());
            }
            NodeConfig node = RepmgrConf.read(config);
            DaemonOptions built = options.build();
            try (ReplicationCluster cluster = ReplicationClusters.builder().seed(node.conninfo()).node(node).build();
                 FailoverDaemon daemon = cluster.daemon(node, built)) {
                daemon.start();
                out.println("repmgr4j daemon for node \"" + node.nodeName() + "\" (ID: " + node.nodeId() + ") started ("
                        + node.configFile() + ")");
                untilStop.accept(daemon);
            }
            out.println("repmgr4j daemon for node \"" + node.nodeName() + "\" (ID: " + node.nodeId() + ") stopped");
            return 0;
        } catch (ReplicationException e) {
            err.println(e.toReport());
            return e.code().exitCode();
        }
    }

    private static String value(String[] args, int i, String option) {
        if (i >= args.length) {
            throw new ReplicationException(ErrorCode.BAD_CONFIG, "option " + option + " needs a value", null, usage());
        }
        return args[i];
    }

    private static Duration millis(String[] args, int i, String option) {
        String v = value(args, i, option);
        try {
            long ms = Long.parseLong(v);
            if (ms <= 0) {
                throw new NumberFormatException();
            }
            return Duration.ofMillis(ms);
        } catch (NumberFormatException e) {
            throw new ReplicationException(ErrorCode.BAD_CONFIG, "invalid value \"" + v + "\" for " + option,
                    "a whole number of milliseconds above 0 is expected", usage());
        }
    }

    static String usage() {
        return "usage: DaemonMain -f /path/to/repmgr.conf [--monitor-interval-ms N] [--reconnect-interval-ms N]"
                + " [--check-timeout-ms N] [--primary-isolation-timeout-ms N]";
    }
}
