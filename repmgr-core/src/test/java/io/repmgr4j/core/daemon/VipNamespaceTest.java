package io.repmgr4j.core.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.repmgr4j.VirtualIp;
import io.repmgr4j.spi.RoleChange;
import java.time.Instant;
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

    @Test
    void theAddressMovesAndIsNeverOnTwoHosts() throws Exception {
        assumeTrue(NamespaceNet.available(), "needs root, ip and arping (bin/prereqs installs iputils-arping)");
        AtomicBoolean sampling = new AtomicBoolean(true);
        try (NamespaceNet net = new NamespaceNet("a", "b", "c")) {
            String vipAddr = net.address(100);
            VirtualIp vip = new VirtualIp(vipAddr, 24, "eth0");
            String macA = net.mac("a");
            String macB = net.mac("b");
            AtomicBoolean aPrimary = new AtomicBoolean(true);
            AtomicBoolean bPrimary = new AtomicBoolean(false);
            VipAction a = new VipAction(vip, net.runner("a"), "a", aPrimary::get);
            VipAction b = new VipAction(vip, net.runner("b"), "b", bPrimary::get);

            AtomicInteger samples = new AtomicInteger();
            AtomicInteger onBoth = new AtomicInteger();
            Thread sampler = new Thread(() -> {
                while (sampling.get()) {
                    boolean inA = net.has("a", vipAddr);
                    boolean inB = net.has("b", vipAddr);
                    samples.incrementAndGet();
                    if (inA && inB) {
                        onBoth.incrementAndGet();
                    }
                }
            }, "vip-sampler");
            sampler.start();

            a.onPromote(change("a"));
            assertThat(net.has("a", vipAddr)).isTrue();
            assertThat(net.answerer("c", vipAddr)).isEqualToIgnoringCase(macA);

            bPrimary.set(true);
            Thread promoteB = new Thread(() -> b.onPromote(change("b")), "promote-b");
            promoteB.start();
            Thread.sleep(1500);
            assertThat(net.has("b", vipAddr)).as("b must not add the address while a answers for it").isFalse();
            assertThat(promoteB.isAlive()).isTrue();

            aPrimary.set(false);
            a.onDemote(change("a"));
            promoteB.join(15_000);
            assertThat(promoteB.isAlive()).isFalse();
            assertThat(net.has("b", vipAddr)).isTrue();
            assertThat(net.has("a", vipAddr)).isFalse();
            assertThat(net.answerer("c", vipAddr)).isEqualToIgnoringCase(macB);

            bPrimary.set(false);
            b.onDemote(change("b"));
            assertThat(net.has("b", vipAddr)).isFalse();
            sampling.set(false);
            sampler.join(5_000);
            assertThat(samples.get()).isGreaterThan(10);
            assertThat(onBoth.get()).as("samples with the address on both hosts").isZero();
        } finally {
            sampling.set(false);
        }
    }

    private static RoleChange change(String node) {
        return new RoleChange(1, node, "test", OptionalInt.empty(), Instant.now());
    }
}
