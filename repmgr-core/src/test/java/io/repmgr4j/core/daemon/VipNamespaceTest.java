package io.repmgr4j.core.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.repmgr4j.VirtualIp;
import io.repmgr4j.spi.Command;
import io.repmgr4j.spi.CommandResult;
import io.repmgr4j.spi.CommandRunner;
import io.repmgr4j.spi.LocalCommandRunner;
import io.repmgr4j.spi.RoleChange;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The built-in virtual IP on a real network: three network namespaces this test creates
 * (hosts a and b, client c) on a bridge in a fourth, each host's commands run through a
 * CommandRunner that enters its namespace. a takes the address; b, promoted while a still
 * holds it, waits; a releases it and b takes it; the client's ARP request is answered by
 * a's, then b's interface; a sampler reading both hosts' addresses every few milliseconds
 * never finds the address on both. Needs root, ip (iproute2) and arping (iputils-arping);
 * removes everything it made.
 */
class VipNamespaceTest {
    private static final LocalCommandRunner ROOT = LocalCommandRunner.asCurrentUser();

    /** Runs commands inside a namespace. */
    record InNamespace(String ns) implements CommandRunner {
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
    }

    private static CommandResult ip(String... args) {
        List<String> argv = new ArrayList<>(List.of("ip"));
        argv.addAll(List.of(args));
        return ROOT.run(Command.of(argv).withTimeout(Duration.ofSeconds(20)));
    }

    private static void must(String... args) {
        CommandResult r = ip(args);
        assertThat(r.succeeded()).as("ip %s: %s", String.join(" ", args), r.stderr()).isTrue();
    }

    @Test
    void theAddressMovesAndIsNeverOnTwoHosts() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "network namespaces need root");
        assumeTrue(ROOT.run(Command.of("sh", "-c", "command -v arping && command -v ip")).succeeded(),
                "needs ip and arping (bin/prereqs installs iputils-arping)");
        String p = "r4jv" + Long.toString(ProcessHandle.current().pid(), 36);
        int net = 100 + (int) (ProcessHandle.current().pid() % 100);
        String sw = p + "s";
        String[] hosts = {p + "a", p + "b", p + "c"};
        String vipAddr = "10.252." + net + ".100";
        VirtualIp vip = new VirtualIp(vipAddr, 24, "eth0");
        AtomicBoolean sampling = new AtomicBoolean(true);
        try {
            must("netns", "add", sw);
            must("-n", sw, "link", "add", "br0", "type", "bridge");
            must("-n", sw, "link", "set", "br0", "up");
            for (int i = 0; i < hosts.length; i++) {
                must("netns", "add", hosts[i]);
                must("-n", hosts[i], "link", "set", "lo", "up");
                must("-n", sw, "link", "add", "p" + i, "type", "veth", "peer", "name", "eth0", "netns", hosts[i]);
                must("-n", sw, "link", "set", "p" + i, "master", "br0");
                must("-n", sw, "link", "set", "p" + i, "up");
                must("-n", hosts[i], "addr", "add", "10.252." + net + "." + (i + 1) + "/24", "dev", "eth0");
                must("-n", hosts[i], "link", "set", "eth0", "up");
            }
            String macA = mac(hosts[0]);
            String macB = mac(hosts[1]);
            AtomicBoolean aPrimary = new AtomicBoolean(true);
            AtomicBoolean bPrimary = new AtomicBoolean(false);
            VipAction a = new VipAction(vip, new InNamespace(hosts[0]), "a", aPrimary::get);
            VipAction b = new VipAction(vip, new InNamespace(hosts[1]), "b", bPrimary::get);

            AtomicInteger samples = new AtomicInteger();
            AtomicInteger onBoth = new AtomicInteger();
            Thread sampler = new Thread(() -> {
                while (sampling.get()) {
                    boolean inA = has(hosts[0], vipAddr);
                    boolean inB = has(hosts[1], vipAddr);
                    samples.incrementAndGet();
                    if (inA && inB) {
                        onBoth.incrementAndGet();
                    }
                }
            }, "vip-sampler");
            sampler.start();

            a.onPromote(change("a"));
            assertThat(has(hosts[0], vipAddr)).isTrue();
            assertThat(answerer(hosts[2], vipAddr)).isEqualToIgnoringCase(macA);

            bPrimary.set(true);
            Thread promoteB = new Thread(() -> b.onPromote(change("b")), "promote-b");
            promoteB.start();
            Thread.sleep(1500);
            assertThat(has(hosts[1], vipAddr)).as("b must not add the address while a answers for it").isFalse();
            assertThat(promoteB.isAlive()).isTrue();

            aPrimary.set(false);
            a.onDemote(change("a"));
            promoteB.join(15_000);
            assertThat(promoteB.isAlive()).isFalse();
            assertThat(has(hosts[1], vipAddr)).isTrue();
            assertThat(has(hosts[0], vipAddr)).isFalse();
            assertThat(answerer(hosts[2], vipAddr)).isEqualToIgnoringCase(macB);

            bPrimary.set(false);
            b.onDemote(change("b"));
            assertThat(has(hosts[1], vipAddr)).isFalse();
            sampling.set(false);
            sampler.join(5_000);
            assertThat(samples.get()).isGreaterThan(10);
            assertThat(onBoth.get()).as("samples with the address on both hosts").isZero();
        } finally {
            sampling.set(false);
            for (String h : hosts) {
                ip("netns", "del", h);
            }
            ip("netns", "del", sw);
        }
    }

    private static RoleChange change(String node) {
        return new RoleChange(1, node, "test", OptionalInt.empty(), Instant.now());
    }

    private static boolean has(String ns, String addr) {
        CommandResult r = ip("-n", ns, "-o", "-4", "addr", "show", "dev", "eth0");
        return r.stdout().contains(" " + addr + "/");
    }

    private static String mac(String ns) {
        String out = ip("-n", ns, "-o", "link", "show", "dev", "eth0").stdout();
        int i = out.indexOf("link/ether ");
        return out.substring(i + 11, i + 28);
    }

    /** The MAC address that answers the client's ARP request for {@code addr}. */
    private static String answerer(String clientNs, String addr) {
        CommandResult r = new InNamespace(clientNs).run(Command.of("arping", "-c", "1", "-w", "2", "-I", "eth0", addr)
                .withTimeout(Duration.ofSeconds(10)));
        assertThat(r.succeeded()).as("arping from the client: %s %s", r.stdout(), r.stderr()).isTrue();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\[([0-9A-Fa-f:]{17})]").matcher(r.stdout());
        assertThat(m.find()).as(r.stdout()).isTrue();
        return m.group(1);
    }
}
