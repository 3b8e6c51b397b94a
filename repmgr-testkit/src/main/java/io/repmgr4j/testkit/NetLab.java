package io.repmgr4j.testkit;

import io.repmgr4j.spi.Command;
import io.repmgr4j.spi.CommandResult;
import io.repmgr4j.spi.LocalCommandRunner;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A private test network on this machine, for partition tests: a Linux bridge in a
 * namespace of its own (the "switch", so that the host's firewall, which may drop bridged
 * traffic in its FORWARD chain, never sees the lab's packets) and one network namespace per
 * {@link NetNode}, each joined to the bridge by a veth pair and given an address in a
 * private /24 ({@code 10.231.X.0/24}, X chosen so no address or route of the host is in it)
 * that exists only on those links; nothing is routed or forwarded, so no packet leaves the
 * machine. One more veth pair joins the root namespace to the bridge with address
 * {@code .254}: the JVM running the test is the network's client host, so a test's pgjdbc
 * connections, writers and observers are clients of the nodes.
 *
 * <p>Links are cut with iptables DROP rules inside the namespaces (silence, as a real
 * partition: no reset, no refusal) and healed by deleting those rules: between two nodes
 * ({@link #cut(NetNode, NetNode)}), between a node and the client host
 * ({@link #cutFromClient(NetNode)}), or between a node and everything but its own loopback
 * ({@link #isolate(NetNode)}).
 *
 * <pre>{@code
 * try (NetLab lab = NetLab.create()) {
 *     NetNode n1 = lab.node("n1"), n2 = lab.node("n2");
 *     PgServer pg1 = n1.startPrimary("pg1", b -> { });
 *     PgServer pg2 = n2.createStandby(pg1, "pg2");
 *     lab.cut(n1, n2);
 *     ...
 *     lab.healAll();
 * }
 * }</pre>
 *
 * <p>Names carry the prefix {@code r4j}, this JVM's pid and a counter, so parallel runs do
 * not collide; {@link #create()} first removes what labs of JVMs that are gone left behind
 * (namespaces with their processes, links). {@link #close()} (and a JVM shutdown hook)
 * stops every process and server the lab started, removes rules, veths, namespaces and the
 * bridge, and deletes the servers' directories. Needs root, {@code ip} (iproute2) and
 * {@code iptables}. Thread-safe.
 */
public final class NetLab implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NetLab.class);
    static final String PREFIX = "r4j";
    private static final Pattern OWN_NAME = Pattern.compile("^" + PREFIX + "([0-9a-v]+)x([0-9a-v]+)(?:[wyz_-].*)?$");
    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static final LocalCommandRunner ROOT = LocalCommandRunner.asCurrentUser();
    private static final Duration IP_TIMEOUT = Duration.ofSeconds(30);
    private static final Path LOCK_FILE = Path.of(System.getProperty("java.io.tmpdir"), "repmgr4j-netlab.lock");

    private final String id;
    private final int subnet;
    /** The root namespace's end of the client link (address .254). */
    private final String clientLink;
    /** The namespace holding the bridge {@code br0}. */
    private final String switchNs;
    private final Map<String, NetNode> nodes = new LinkedHashMap<>();
    /** Active rules: "netns|rule args" (each inserted with -I, deleted with -D). */
    private final Set<String> rules = new LinkedHashSet<>();
    private final List<NetProcess> processes = new ArrayList<>();
    private final List<AutoCloseable> servers = new ArrayList<>();
    private boolean closed;
    private Path directory;

    private NetLab(String id, int subnet) {
        this.id = id;
        this.subnet = subnet;
        this.clientLink = PREFIX + id + "w";
        this.switchNs = PREFIX + id + "_sw";
    }

    /**
     * Creates the bridge with the client address, after removing leftovers of labs whose JVM
     * is gone.
     *
     * @throws PgTestkitException when not root, or {@code ip} fails (the message says why);
     *     whatever was created is removed
     */
    public static NetLab create() {
        if (!LocalCommandRunner.jvmIsRoot()) {
            throw new PgTestkitException("a NetLab needs root (network namespaces, veth pairs, iptables);"
                    + " run the partition tests as root");
        }
        // base 32 (digits, a-v): the separators x, w, y, z and '-' never occur in a number
        String id = Long.toString(ProcessHandle.current().pid(), 32) + "x" + Integer.toString(COUNTER.incrementAndGet(), 32);
        try (FileChannel ch = FileChannel.open(LOCK_FILE, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock ignored = ch.lock()) {
            removeStale();
            int subnet = freeSubnet();
            NetLab lab = new NetLab(id, subnet);
            Workspace.ensureInitialized();
            Workspace.register(lab);
            try {
                ip("netns", "add", lab.switchNs);
                ip("-n", lab.switchNs, "link", "set", "lo", "up");
                ip("-n", lab.switchNs, "link", "add", "br0", "type", "bridge");
                ip("-n", lab.switchNs, "link", "set", "br0", "up");
                String peer = PREFIX + id + "z0";
                ip("link", "add", lab.clientLink, "type", "veth", "peer", "name", peer);
                lab.plug(peer);
                ip("addr", "add", lab.clientAddress() + "/24", "dev", lab.clientLink);
                ip("link", "set", lab.clientLink, "up");
            } catch (RuntimeException e) {
                try {
                    lab.close();
                } catch (RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            }
            LOG.info("net lab {}: bridge in namespace {}, client address {} on {}", id, lab.switchNs,
                    lab.clientAddress(), lab.clientLink);
            return lab;
        } catch (IOException e) {
            throw new PgTestkitException("cannot lock " + LOCK_FILE + ": " + e.getMessage(), e);
        }
    }

    /** Moves a root-namespace veth end into the switch namespace and enslaves it to the bridge. */
    private void plug(String link) {
        ip("link", "set", link, "netns", switchNs);
        ip("-n", switchNs, "link", "set", link, "master", "br0");
        ip("-n", switchNs, "link", "set", link, "up");
    }

    /** The address of the client host (the root namespace, on the bridge): the source of the test's own connections. */
    public String clientAddress() {
        return "10.231." + subnet + ".254";
    }

    /**
     * An address of the lab's subnet that no node or client has ({@code host}: 100 to 199),
     * for a virtual IP.
     */
    public String spareAddress(int host) {
        if (host < 100 || host > 199) {
            throw new IllegalArgumentException("spare addresses are .100 to .199, not ." + host);
        }
        return "10.231." + subnet + "." + host;
    }

    /**
     * Makes TCP connections to {@code address:port} that reach node {@code n} go to its
     * server's {@code toPort} on its own address (a DNAT rule in its namespace): with a
     * virtual IP, every node then answers on the same port, whichever holds the address.
     * The rule goes with the namespace when the lab closes.
     */
    public synchronized void forward(NetNode n, String address, int port, int toPort) {
        checkOpen();
        run(List.of("ip", "netns", "exec", n.netns(), "iptables", "-w", "5", "-t", "nat", "-I", "PREROUTING",
                "-d", address + "/32", "-p", "tcp", "--dport", Integer.toString(port), "-j", "DNAT",
                "--to-destination", n.address() + ":" + toPort));
    }

    /** The lab's subnet in CIDR notation. */
    public String subnet() {
        return "10.231." + subnet + ".0/24";
    }

    /**
     * A new node: its own network namespace (loopback up) joined to the bridge, with the
     * next address of the subnet (.1, .2, ...).
     *
     * @param name letters, digits, '_' or '-', up to 20 characters, unique in the lab
     */
    public synchronized NetNode node(String name) {
        checkOpen();
        if (name == null || !name.matches("[A-Za-z0-9_-]{1,20}")) {
            throw new IllegalArgumentException("a node name is 1 to 20 letters, digits, '_' or '-'; got " + name);
        }
        if (nodes.containsKey(name)) {
            throw new IllegalArgumentException("the lab has a node named " + name + " already");
        }
        int index = nodes.size() + 1;
        if (index > 200) {
            throw new IllegalStateException("a lab has at most 200 nodes");
        }
        String ns = PREFIX + id + "-" + name;
        String host = PREFIX + id + "y" + Integer.toString(index, 32);
        String peer = PREFIX + id + "z" + Integer.toString(index, 32);
        String address = "10.231." + subnet + "." + index;
        NetNode node = new NetNode(this, name, ns, address);
        nodes.put(name, node); // from here on close() removes the namespace
        ip("netns", "add", ns);
        ip("-n", ns, "link", "set", "lo", "up");
        ip("link", "add", host, "type", "veth", "peer", "name", peer);
        ip("link", "set", peer, "netns", ns);
        ip("-n", ns, "link", "set", peer, "name", "eth0");
        ip("-n", ns, "addr", "add", address + "/24", "dev", "eth0");
        ip("-n", ns, "link", "set", "eth0", "up");
        plug(host);
        LOG.info("net lab {}: node {} in namespace {} at {}", id, name, ns, address);
        return node;
    }

    /**
     * A directory for the test's files (configuration files, process logs), created on
     * first use and deleted with the lab (or by the next JVM's sweep when this one dies).
     */
    public synchronized Path directory() {
        checkOpen();
        if (directory == null) {
            directory = Workspace.createServerRoot("netlab-" + id, System.getProperty("user.name"), false);
        }
        return directory;
    }

    /** The nodes, in creation order. */
    public synchronized List<NetNode> nodes() {
        return List.copyOf(nodes.values());
    }

    // ---------------------------------------------------------------- cuts

    /** Cuts the link between two nodes both ways (DROP in both namespaces). Idempotent. */
    public synchronized void cut(NetNode a, NetNode b) {
        checkOpen();
        addRule(a.netns(), "INPUT -s " + b.address() + " -j DROP");
        addRule(a.netns(), "OUTPUT -d " + b.address() + " -j DROP");
        addRule(b.netns(), "INPUT -s " + a.address() + " -j DROP");
        addRule(b.netns(), "OUTPUT -d " + a.address() + " -j DROP");
    }

    /** Heals what {@link #cut(NetNode, NetNode)} cut. Idempotent. */
    public synchronized void heal(NetNode a, NetNode b) {
        deleteRule(a.netns(), "INPUT -s " + b.address() + " -j DROP");
        deleteRule(a.netns(), "OUTPUT -d " + b.address() + " -j DROP");
        deleteRule(b.netns(), "INPUT -s " + a.address() + " -j DROP");
        deleteRule(b.netns(), "OUTPUT -d " + a.address() + " -j DROP");
    }

    /** Cuts a node off from the client host (the test JVM, writers, observers). Idempotent. */
    public synchronized void cutFromClient(NetNode n) {
        checkOpen();
        addRule(n.netns(), "INPUT -s " + clientAddress() + " -j DROP");
        addRule(n.netns(), "OUTPUT -d " + clientAddress() + " -j DROP");
    }

    /** Heals what {@link #cutFromClient(NetNode)} cut. Idempotent. */
    public synchronized void healFromClient(NetNode n) {
        deleteRule(n.netns(), "INPUT -s " + clientAddress() + " -j DROP");
        deleteRule(n.netns(), "OUTPUT -d " + clientAddress() + " -j DROP");
    }

    /** Cuts a node off from the other nodes, leaving its link to the client host. */
    public synchronized void cutFromNodes(NetNode n) {
        for (NetNode other : nodes.values()) {
            if (other != n) {
                cut(n, other);
            }
        }
    }

    /**
     * Drops the other nodes' TCP packets to one port of a node (DROP in its namespace), so
     * that they meet silence there whatever listens, while every other link works: a host
     * whose firewall drops packets to a closed port rather than refusing them. Healed by
     * {@link #healAll()}. Idempotent.
     */
    public synchronized void dropPortFromNodes(NetNode n, int port) {
        checkOpen();
        for (NetNode other : nodes.values()) {
            if (other != n) {
                addRule(n.netns(), "INPUT -s " + other.address() + " -p tcp --dport " + port + " -j DROP");
            }
        }
    }

    /** Cuts a node off from everything but its own loopback (all nodes and the client host). Idempotent. */
    public synchronized void isolate(NetNode n) {
        checkOpen();
        addRule(n.netns(), "INPUT -i eth0 -j DROP");
        addRule(n.netns(), "OUTPUT -o eth0 -j DROP");
    }

    /** Heals what {@link #isolate(NetNode)} cut. Idempotent. */
    public synchronized void unisolate(NetNode n) {
        deleteRule(n.netns(), "INPUT -i eth0 -j DROP");
        deleteRule(n.netns(), "OUTPUT -o eth0 -j DROP");
    }

    /** Removes every rule of every cut: all links work again. */
    public synchronized void healAll() {
        for (String r : new ArrayList<>(rules)) {
            String[] p = r.split("\\|", 2);
            deleteRule(p[0], p[1]);
        }
    }

    /** The active rules, as "namespace: rule", for messages. */
    public synchronized List<String> activeRules() {
        return rules.stream().map(r -> r.replace("|", ": ")).toList();
    }

    private void addRule(String netns, String rule) {
        if (rules.add(netns + "|" + rule)) {
            iptables(netns, "-I", rule);
        }
    }

    private void deleteRule(String netns, String rule) {
        if (rules.remove(netns + "|" + rule)) {
            iptables(netns, "-D", rule);
        }
    }

    private static void iptables(String netns, String op, String rule) {
        List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", netns, "iptables", "-w", "5", op));
        argv.addAll(List.of(rule.split(" ")));
        run(argv);
    }

    // ---------------------------------------------------------------- bookkeeping for nodes

    synchronized void track(NetProcess p) {
        checkOpen();
        processes.add(p);
    }

    synchronized void track(AutoCloseable server) {
        servers.add(server);
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("net lab " + id + " is closed");
        }
    }

    /**
     * Stops the lab's processes (SIGTERM, SIGKILL after 10 s), closes its servers, kills
     * whatever else runs in its namespaces, and removes namespaces, veths and the bridge.
     * Idempotent; goes on past failures and throws the first at the end.
     */
    @Override
    public void close() {
        List<NetProcess> procs;
        List<AutoCloseable> srvs;
        List<NetNode> ns;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            procs = new ArrayList<>(processes);
            srvs = new ArrayList<>(servers);
            ns = new ArrayList<>(nodes.values());
        }
        Workspace.unregister(this);
        List<RuntimeException> failures = new ArrayList<>();
        procs.parallelStream().forEach(p -> {
            try {
                p.stop(Duration.ofSeconds(10));
            } catch (RuntimeException e) {
                synchronized (failures) {
                    failures.add(e);
                }
            }
        });
        for (int i = srvs.size() - 1; i >= 0; i--) {
            try {
                srvs.get(i).close();
            } catch (Exception e) {
                failures.add(e instanceof RuntimeException re ? re : new PgTestkitException(e.getMessage(), e));
            }
        }
        synchronized (this) {
            rules.clear(); // they go with the namespaces
        }
        List<String> namespaces = new ArrayList<>(ns.stream().map(NetNode::netns).toList());
        namespaces.add(switchNs);
        for (String n : namespaces) {
            try {
                removeNamespace(n);
            } catch (RuntimeException e) {
                failures.add(e);
            }
        }
        try {
            removeLinks(id);
        } catch (RuntimeException e) {
            failures.add(e);
        }
        Path dir;
        synchronized (this) {
            dir = directory;
        }
        if (dir != null) {
            try {
                Workspace.deleteTree(dir);
            } catch (RuntimeException e) {
                failures.add(e);
            }
        }
        LOG.info("net lab {}: removed", id);
        if (!failures.isEmpty()) {
            RuntimeException first = failures.get(0);
            failures.subList(1, failures.size()).forEach(first::addSuppressed);
            throw first;
        }
    }

    @Override
    public String toString() {
        return "NetLab[" + id + ", " + subnet() + "]";
    }

    // ---------------------------------------------------------------- system helpers

    /** SIGKILLs every process left in the namespace and deletes it (its veth end goes with it). */
    private static void removeNamespace(String ns) {
        for (int round = 0; round < 5; round++) {
            CommandResult pids = ROOT.run(Command.of("ip", "netns", "pids", ns).withTimeout(IP_TIMEOUT));
            List<Long> alive = new ArrayList<>();
            if (pids.succeeded()) {
                for (String l : pids.stdout().split("\\s+")) {
                    if (l.matches("\\d+")) {
                        alive.add(Long.parseLong(l));
                    }
                }
            }
            if (alive.isEmpty()) {
                break;
            }
            alive.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
            for (long pid : alive) {
                try {
                    Workspace.waitUntilDead(pid, Duration.ofSeconds(10), "process " + pid + " in namespace " + ns);
                } catch (RuntimeException e) {
                    LOG.debug("{}", e.getMessage());
                }
            }
        }
        CommandResult r = ROOT.run(Command.of("ip", "netns", "delete", ns).withTimeout(IP_TIMEOUT));
        if (!r.succeeded() && namespaces().contains(ns)) {
            throw new PgTestkitException("cannot delete network namespace " + ns + ": " + r.lastErrorLine());
        }
    }

    /** Deletes the root namespace's links of lab {@code id} (bridge and veth ends left behind). */
    private static void removeLinks(String id) {
        for (String link : links()) {
            Matcher m = OWN_NAME.matcher(link);
            if (m.matches() && link.startsWith(PREFIX + id) && (m.group(1) + "x" + m.group(2)).equals(id)) {
                CommandResult r = ROOT.run(Command.of("ip", "link", "delete", link).withTimeout(IP_TIMEOUT));
                if (!r.succeeded() && links().contains(link)) {
                    throw new PgTestkitException("cannot delete link " + link + ": " + r.lastErrorLine());
                }
            }
        }
    }

    /** Removes namespaces and links of labs whose JVM is gone. */
    private static void removeStale() {
        Set<String> staleIds = new LinkedHashSet<>();
        for (String ns : namespaces()) {
            Matcher m = OWN_NAME.matcher(ns);
            if (m.matches() && isStale(m.group(1))) {
                staleIds.add(m.group(1) + "x" + m.group(2));
                try {
                    removeNamespace(ns);
                    LOG.info("removed network namespace {} left by a JVM that is gone", ns);
                } catch (RuntimeException e) {
                    LOG.warn("cannot remove stale network namespace {}: {}", ns, e.getMessage());
                }
            }
        }
        for (String link : links()) {
            Matcher m = OWN_NAME.matcher(link);
            if (m.matches() && isStale(m.group(1))) {
                staleIds.add(m.group(1) + "x" + m.group(2));
            }
        }
        for (String stale : staleIds) {
            try {
                removeLinks(stale);
            } catch (RuntimeException e) {
                LOG.warn("cannot remove stale links of net lab {}: {}", stale, e.getMessage());
            }
        }
    }

    private static boolean isStale(String pid32) {
        long pid;
        try {
            pid = Long.parseLong(pid32, 32);
        } catch (NumberFormatException e) {
            return false;
        }
        return pid != ProcessHandle.current().pid() && !Workspace.isAlive(pid);
    }

    private static List<String> namespaces() {
        CommandResult r = run(List.of("ip", "netns", "list"));
        List<String> out = new ArrayList<>();
        for (String l : r.stdout().split("\n")) {
            if (!l.isBlank()) {
                out.add(l.trim().split("\\s+")[0]);
            }
        }
        return out;
    }

    private static List<String> links() {
        CommandResult r = run(List.of("ip", "-o", "link", "show"));
        List<String> out = new ArrayList<>();
        for (String l : r.stdout().split("\n")) {
            String[] f = l.split(":\\s+", 3);
            if (f.length >= 2) {
                out.add(f[1].split("@")[0].trim());
            }
        }
        return out;
    }

    /** The first X in 1..250 such that the host has no address in 10.231.X.0/24. */
    private static int freeSubnet() {
        String all = run(List.of("ip", "-4", "-o", "addr", "show")).stdout();
        Set<Integer> used = new LinkedHashSet<>();
        Matcher m = Pattern.compile("inet 10\\.231\\.(\\d+)\\.").matcher(all);
        while (m.find()) {
            used.add(Integer.parseInt(m.group(1)));
        }
        String routes = run(List.of("ip", "-4", "route", "show")).stdout();
        Matcher r = Pattern.compile("10\\.231\\.(\\d+)\\.").matcher(routes);
        while (r.find()) {
            used.add(Integer.parseInt(r.group(1)));
        }
        if (routes.contains("10.0.0.0/8") || routes.contains("10.231.0.0/16")) {
            throw new PgTestkitException("the host routes 10.231.0.0/16 already (" + routes.strip()
                    + "); a NetLab needs a subnet no real network uses");
        }
        for (int x = 1; x <= 250; x++) {
            if (!used.contains(x)) {
                return x;
            }
        }
        throw new PgTestkitException("no free 10.231.X.0/24 subnet for a NetLab (all 250 in use)");
    }

    static void ip(String... args) {
        List<String> argv = new ArrayList<>();
        argv.add("ip");
        argv.addAll(List.of(args));
        run(argv);
    }

    private static CommandResult run(List<String> argv) {
        CommandResult r = ROOT.run(Command.of(argv).withTimeout(IP_TIMEOUT));
        if (!r.succeeded()) {
            throw new PgTestkitException("\"" + String.join(" ", argv) + "\" failed"
                    + (r.timedOut() ? " (timed out)" : " with exit code " + r.exitCode()) + ": " + r.lastErrorLine()
                    + " (a NetLab needs root, iproute2 and iptables: bin/prereqs installs them)");
        }
        return r;
    }
}
