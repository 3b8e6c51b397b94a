package io.repmgr4j.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * A primary and its standbys, each in its own namespace of a {@link NetLab} ({@code n1},
 * {@code n2}, ...; servers {@code pg1} (primary), {@code pg2}, ...), with a repmgr.conf per
 * node and, on request, a standalone program per node (a failover daemon) running inside
 * the node's namespace: the layout of a partition test. Registering the nodes is the
 * test's own business (the test kit does not depend on the library's core).
 *
 * <pre>{@code
 * try (NetReplicaSet set = NetReplicaSet.start(3, b -> { })) {
 *     ... register set.server(1) as primary, the others as standbys ...
 *     for (int i = 1; i <= 3; i++) {
 *         set.writeRepmgrConf(i, Map.of("failover", "automatic"));
 *         set.startDaemon(i, "io.repmgr4j.core.daemon.DaemonMain", classpath, List.of());
 *     }
 *     set.lab().cutFromNodes(set.node(1));
 * }
 * }</pre>
 *
 * Thread-safe.
 */
public final class NetReplicaSet implements AutoCloseable {
    /** JVM options for the daemons: small heap, quick start. */
    public static final List<String> DAEMON_JVM_OPTIONS = List.of("-Xmx128m", "-Xss512k", "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1", "-Dorg.slf4j.simpleLogger.defaultLogLevel=info",
            "-Dorg.slf4j.simpleLogger.log.io.repmgr4j=info", "-Dorg.slf4j.simpleLogger.log.io.repmgr4j.core=info",
            "-Dorg.slf4j.simpleLogger.showDateTime=true",
            "-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS");

    private final NetLab lab;
    private final List<NetNode> nodes;
    private final List<PgServer> servers;
    private final Object adding = new Object();
    private final Map<Integer, NetProcess> daemons = new ConcurrentHashMap<>();

    private NetReplicaSet(NetLab lab, List<NetNode> nodes, List<PgServer> servers) {
        this.lab = lab;
        this.nodes = new java.util.concurrent.CopyOnWriteArrayList<>(nodes);
        this.servers = new java.util.concurrent.CopyOnWriteArrayList<>(servers);
    }

    /**
     * Creates a lab with {@code count} nodes, a primary on n1 ({@code primaryOptions} may add
     * settings) and a streaming standby on each other node. On failure everything is removed.
     */
    public static NetReplicaSet start(int count, Consumer<PgServer.Builder> primaryOptions) {
        if (count < 1 || count > 9) {
            throw new IllegalArgumentException("a NetReplicaSet has 1 to 9 nodes, not " + count);
        }
        NetLab lab = NetLab.create();
        try {
            List<NetNode> nodes = new ArrayList<>();
            for (int i = 1; i <= count; i++) {
                nodes.add(lab.node("n" + i));
            }
            List<PgServer> servers = new ArrayList<>();
            servers.add(nodes.get(0).startPrimary("pg1", primaryOptions));
            for (int i = 2; i <= count; i++) {
                servers.add(nodes.get(i - 1).createStandby(servers.get(0), "pg" + i));
            }
            return new NetReplicaSet(lab, List.copyOf(nodes), List.copyOf(servers));
        } catch (RuntimeException e) {
            try {
                lab.close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /**
     * Adds node {@code n<k>} with a server {@code pg<k>} of its own, outside replication (a
     * new primary: for example a witness), where k is the next index; returns k.
     */
    public int addStandaloneServer(Consumer<PgServer.Builder> options) {
        synchronized (adding) {
            int k = servers.size() + 1;
            NetNode n = lab.node("n" + k);
            PgServer s = n.startPrimary("pg" + k, options);
            nodes.add(n);
            servers.add(s);
            return k;
        }
    }

    public NetLab lab() {
        return lab;
    }

    /** Node {@code i} (1-based). */
    public NetNode node(int i) {
        return nodes.get(i - 1);
    }

    /** Server {@code i} (1-based) on node {@code i}. */
    public PgServer server(int i) {
        return servers.get(i - 1);
    }

    /** Every server, in index order (also those {@link #addStandaloneServer} added). */
    public List<PgServer> servers() {
        return List.copyOf(servers);
    }

    public int size() {
        return servers.size();
    }

    /** The repmgr.conf of node {@code i}, in the lab's directory. */
    public Path repmgrConf(int i) {
        return lab.directory().resolve("n" + i + "-repmgr.conf");
    }

    /**
     * Writes node {@code i}'s repmgr.conf: {@code node_id=i}, {@code node_name}, {@code conninfo},
     * {@code data_directory}, {@code pg_bindir} of its server, then {@code keys} in order
     * (string values are quoted). Returns the file.
     */
    public Path writeRepmgrConf(int i, Map<String, String> keys) {
        PgServer s = server(i);
        Map<String, String> all = new LinkedHashMap<>();
        all.put("node_id", Integer.toString(i));
        all.put("node_name", s.name());
        all.put("conninfo", s.conninfo().render());
        all.put("data_directory", s.dataDirectory().toString());
        all.put("pg_bindir", s.bindir().toString());
        all.putAll(keys);
        StringBuilder text = new StringBuilder("# written by the repmgr4j test kit (NetReplicaSet)\n");
        all.forEach((k, v) -> {
            if (v.contains("'") || v.contains("\n")) {
                throw new IllegalArgumentException("repmgr.conf value of " + k + " must not hold a quote or a newline");
            }
            text.append(k).append("='").append(v).append("'\n");
        });
        Path file = repmgrConf(i);
        try {
            Files.writeString(file, text.toString(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new PgTestkitException("cannot write " + file + ": " + e.getMessage(), e);
        }
        return file;
    }

    /**
     * Starts {@code mainClass -f <repmgr.conf of node i> <args>} in node {@code i}'s namespace
     * (a JVM with {@link #DAEMON_JVM_OPTIONS} and {@code classpath}); its output goes to
     * {@code n<i>-daemon.log} in the lab's directory. One per node: an earlier one must have ended.
     */
    public NetProcess startDaemon(int i, String mainClass, String classpath, List<String> args) {
        NetProcess old = daemons.get(i);
        if (old != null && old.isAlive()) {
            throw new IllegalStateException("the daemon of node " + i + " runs already (" + old + ")");
        }
        List<String> all = new ArrayList<>(List.of("-f", repmgrConf(i).toString()));
        all.addAll(args);
        NetProcess p = node(i).startJava("daemon", classpath, mainClass, DAEMON_JVM_OPTIONS, all,
                lab.directory().resolve("n" + i + "-daemon.log"));
        daemons.put(i, p);
        return p;
    }

    /** The daemon started last on node {@code i}. */
    public NetProcess daemon(int i) {
        NetProcess p = daemons.get(i);
        if (p == null) {
            throw new IllegalStateException("no daemon was started on node " + i);
        }
        return p;
    }

    /** Stops node {@code i}'s daemon (SIGTERM, SIGKILL after 15 s). */
    public void stopDaemon(int i) {
        daemon(i).stop(Duration.ofSeconds(15));
    }

    /** The last {@code lines} lines of every daemon's output, for failure messages. */
    public String daemonLogs(int lines) {
        StringBuilder b = new StringBuilder();
        daemons.keySet().stream().sorted().forEach(i -> b.append("\n--- daemon of node ").append(i).append(" ---\n")
                .append(daemons.get(i).logTail(lines)));
        return b.toString();
    }

    /** Closes the lab: daemons, servers, namespaces, files. */
    @Override
    public void close() {
        lab.close();
    }

    @Override
    public String toString() {
        return "NetReplicaSet[" + lab + ", " + servers.size() + " servers]";
    }
}
