package io.repmgr4j.testkit;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.spi.Command;
import io.repmgr4j.spi.CommandResult;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * One host of a {@link NetLab}: a network namespace with loopback and one address on the
 * lab's bridge. It starts PostgreSQL servers that listen on that address (their programs
 * run through {@code ip netns exec}, as the OS user of the server), and any other process
 * inside the namespace ({@link #start}, {@link #startJava}). Everything it starts belongs
 * to the lab and goes when the lab closes. Thread-safe.
 */
public final class NetNode {
    private final NetLab lab;
    private final String name;
    private final String netns;
    private final String address;

    NetNode(NetLab lab, String name, String netns, String address) {
        this.lab = lab;
        this.name = name;
        this.netns = netns;
        this.address = address;
    }

    /** The name given to {@link NetLab#node(String)}. */
    public String name() {
        return name;
    }

    /** The network namespace's name ({@code ip netns exec <netns> ...}). */
    public String netns() {
        return netns;
    }

    /** The node's address on the lab's bridge. */
    public String address() {
        return address;
    }

    /**
     * A command runner for this host's network: programs run inside the namespace as the
     * JVM's user (root), as a daemon runs {@code ip} and {@code arping} to move a virtual IP.
     */
    public io.repmgr4j.spi.CommandRunner networkRunner() {
        return new NetnsRunner(netns, null);
    }

    /**
     * A node's command runner for a daemon that moves a virtual IP: {@code ip} and
     * {@code arping} run in this host's network as root ({@link #networkRunner()}), every
     * other command through {@code rest} (typically the server's own runner).
     */
    public io.repmgr4j.spi.CommandRunner hostRunner(io.repmgr4j.spi.CommandRunner rest) {
        io.repmgr4j.spi.CommandRunner net = networkRunner();
        NetNode self = this;
        return new io.repmgr4j.spi.CommandRunner() {
            @Override
            public io.repmgr4j.spi.CommandResult run(io.repmgr4j.spi.Command c) {
                String program = c.argv().get(0);
                return program.equals("ip") || program.equals("arping") ? net.run(c) : rest.run(c);
            }

            @Override
            public String describe() {
                return rest.describe() + ", network of " + self;
            }
        };
    }

    /** Whether {@code address} is on this host's {@code eth0} now. */
    public boolean hasAddress(String address) {
        io.repmgr4j.spi.CommandResult r = io.repmgr4j.spi.LocalCommandRunner.asCurrentUser().run(io.repmgr4j.spi.Command.of(
                "ip", "-n", netns, "-o", "-4", "addr", "show", "dev", "eth0").withTimeout(java.time.Duration.ofSeconds(10)));
        return r.succeeded() && r.stdout().contains(" " + address + "/");
    }

    /**
     * Starts a new primary server in this namespace, listening on {@link #address()}, with
     * pg_hba.conf admitting the lab's subnet; {@code options} may add settings, a password,
     * an OS user (not the name: that is {@code serverName}).
     */
    public PgServer startPrimary(String serverName, Consumer<PgServer.Builder> options) {
        PgServer.Builder b = PgServer.builder();
        options.accept(b);
        PgServer server = b.name(serverName).inNamespace(netns, address, lab.subnet()).start();
        lab.track(server);
        return server;
    }

    /**
     * Clones {@code source} (a server of the same lab) into a new standby in this namespace:
     * {@code pg_basebackup -X stream -R} run inside the namespace over the bridge, with
     * {@code application_name=<serverName>}; starts it and waits until {@code source} shows it
     * streaming (up to {@link PgServer#STREAMING_TIMEOUT}).
     */
    public PgServer createStandby(PgServer source, String serverName) {
        Place place = Place.allocateInNamespace(serverName, source.osUser(), source.place().password,
                source.bindir(), netns, address, lab.subnet());
        PgSandbox sandbox = PgSandbox.allocate(place);
        lab.track(sandbox);
        String conn = "host=" + source.host() + " port=" + source.port() + " user=" + Place.ROLE
                + " application_name=" + ConnInfo.quote(serverName) + " connect_timeout=10";
        Command cmd = place.pg("pg_basebackup", "-D", place.data.toString(), "-d", conn,
                        "-X", "stream", "-R", "-c", "fast", "--no-sync")
                .withWorkingDirectory(place.root.toString())
                .withTimeout(Duration.ofMinutes(5));
        if (place.password != null) {
            cmd = cmd.withEnv("PGPASSWORD", place.password);
        }
        CommandResult r = place.run(cmd);
        if (!r.succeeded()) {
            throw new PgTestkitException("pg_basebackup from " + source.name() + " into " + serverName + " (netns "
                    + netns + ") failed" + (r.timedOut() ? " (timed out)" : "") + ": "
                    + source.conninfo().maskIn(r.lastErrorLine()));
        }
        PgServer standby = sandbox.adopt(true);
        lab.track(standby);
        source.waitForStreaming(standby, PgServer.STREAMING_TIMEOUT);
        return standby;
    }

    /**
     * Starts {@code argv} inside this namespace as the JVM's user (root), with {@code env}
     * added to the JVM's environment, stdout and stderr appended to {@code logFile}.
     * The lab stops it when it closes at the latest.
     */
    public NetProcess start(String processName, List<String> argv, Map<String, String> env, Path logFile) {
        List<String> all = new ArrayList<>(List.of("ip", "netns", "exec", netns));
        all.addAll(argv);
        NetProcess p = NetProcess.start(name + "/" + processName, all, env, logFile);
        lab.track(p);
        return p;
    }

    /**
     * Starts a Java program inside this namespace: {@code java <jvmArgs> -cp <classpath>
     * <mainClass> <args>} with the JVM running this test ({@code java.home}); for example the
     * standalone daemon, {@code io.repmgr4j.core.daemon.DaemonMain -f repmgr.conf}.
     */
    public NetProcess startJava(String processName, String classpath, String mainClass, List<String> jvmArgs,
                                List<String> args, Path logFile) {
        List<String> argv = new ArrayList<>();
        argv.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        argv.addAll(jvmArgs);
        argv.add("-cp");
        argv.add(classpath);
        argv.add(mainClass);
        argv.addAll(args);
        return start(processName, argv, Map.of(), logFile);
    }

    @Override
    public String toString() {
        return "NetNode[" + name + " " + address + " in " + netns + "]";
    }
}
