package io.repmgr4j.core.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.spi.Command;
import io.repmgr4j.spi.CommandResult;
import io.repmgr4j.spi.CommandRunner;
import io.repmgr4j.spi.LocalCommandRunner;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A private network for the virtual IP tests: a bridge in a namespace of its own and one
 * namespace per host, each joined to the bridge by a veth ({@code eth0}, 10.252.N.i/24),
 * all removed by {@link #close()}. Needs root and ip; the tests also need arping.
 */
final class NamespaceNet implements AutoCloseable {
    static final LocalCommandRunner ROOT = LocalCommandRunner.asCurrentUser();

    private final String prefix;
    private final int net;
    private final Map<String, String> hosts = new LinkedHashMap<>();
    private final String sw;

    NamespaceNet(String... names) {
        long pid = ProcessHandle.current().pid();
        prefix = "r4jv" + Long.toString(pid, 36) + Long.toString(System.nanoTime() % 1296, 36);
        net = 100 + (int) (pid % 100);
        sw = prefix + "s";
        try {
            must("netns", "add", sw);
            must("-n", sw, "link", "add", "br0", "type", "bridge");
            must("-n", sw, "link", "set", "br0", "up");
            int i = 0;
            for (String name : names) {
                String ns = prefix + name;
                hosts.put(name, ns);
                must("netns", "add", ns);
                must("-n", ns, "link", "set", "lo", "up");
                must("-n", sw, "link", "add", "p" + i, "type", "veth", "peer", "name", "eth0", "netns", ns);
                must("-n", sw, "link", "set", "p" + i, "master", "br0");
                must("-n", sw, "link", "set", "p" + i, "up");
                must("-n", ns, "addr", "add", "10.252." + net + "." + (i + 1) + "/24", "dev", "eth0");
                must("-n", ns, "link", "set", "eth0", "up");
                i++;
            }
        } catch (RuntimeException | AssertionError e) {
            close();
            throw e;
        }
    }

    /** Whether this machine can run the tests (root, ip, arping). */
    static boolean available() {
        return "root".equals(System.getProperty("user.name"))
                && ROOT.run(Command.of("sh", "-c", "command -v arping && command -v ip")).succeeded();
    }

    /** An address of the lab's subnet: 10.252.N.{@code last}. */
    String address(int last) {
        return "10.252." + net + "." + last;
    }

    String ns(String host) {
        return hosts.get(host);
    }

    /** Runs commands inside {@code host}'s namespace as root. */
    CommandRunner runner(String host) {
        String ns = ns(host);
        return new CommandRunner() {
            @Override
            public CommandResult run(Command c) {
                List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", ns));
                argv.addAll(c.argv());
                return ROOT.run(Command.of(argv).withTimeout(c.timeout()));
            }

            @Override
            public String describe() {
                return "netns " + ns;
            }
        };
    }

    /**
     * A node's runner for a host whose network is {@code host}'s namespace: network commands
     * ({@code ip}, {@code arping}) run there as root, all others through {@code rest}.
     */
    CommandRunner hostRunner(String host, CommandRunner rest) {
        CommandRunner net = runner(host);
        return new CommandRunner() {
            @Override
            public CommandResult run(Command c) {
                return Set.of("ip", "arping").contains(c.argv().get(0)) ? net.run(c) : rest.run(c);
            }

            @Override
            public String describe() {
                return rest.describe() + ", network of netns " + ns(host);
            }
        };
    }

    boolean has(String host, String addr) {
        return ip("-n", ns(host), "-o", "-4", "addr", "show", "dev", "eth0").stdout().contains(" " + addr + "/");
    }

    String mac(String host) {
        String out = ip("-n", ns(host), "-o", "link", "show", "dev", "eth0").stdout();
        int i = out.indexOf("link/ether ");
        return out.substring(i + 11, i + 28);
    }

    /** The MAC address that answers {@code client}'s ARP request for {@code addr}. */
    String answerer(String client, String addr) {
        CommandResult r = runner(client).run(Command.of("arping", "-c", "1", "-w", "2", "-I", "eth0", addr)
                .withTimeout(Duration.ofSeconds(10)));
        assertThat(r.succeeded()).as("arping from %s: %s %s", client, r.stdout(), r.stderr()).isTrue();
        Matcher m = Pattern.compile("\\[([0-9A-Fa-f:]{17})]").matcher(r.stdout());
        assertThat(m.find()).as(r.stdout()).isTrue();
        return m.group(1);
    }

    static CommandResult ip(String... args) {
        List<String> argv = new ArrayList<>(List.of("ip"));
        argv.addAll(List.of(args));
        return ROOT.run(Command.of(argv).withTimeout(Duration.ofSeconds(20)));
    }

    private static void must(String... args) {
        CommandResult r = ip(args);
        assertThat(r.succeeded()).as("ip %s: %s", String.join(" ", args), r.stderr()).isTrue();
    }

    @Override
    public void close() {
        for (String ns : hosts.values()) {
            ip("netns", "del", ns);
        }
        ip("netns", "del", sw);
    }
}
