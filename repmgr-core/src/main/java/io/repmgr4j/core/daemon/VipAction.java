package io.repmgr4j.core.daemon;

import io.repmgr4j.VirtualIp;
import io.repmgr4j.spi.Command;
import io.repmgr4j.spi.CommandResult;
import io.repmgr4j.spi.CommandRunner;
import io.repmgr4j.spi.RoleChange;
import io.repmgr4j.spi.RoleChangeListener;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The built-in virtual IP ({@code vip}, {@code vip_interface}): a {@link RoleChangeListener}
 * that, through the node's {@link CommandRunner}, adds the address when the node becomes
 * the legitimate primary and removes it when it stops being it:
 * <ul>
 * <li>on promote: unless the address is on the interface already, it first checks that no
 *     other host answers for it ({@code arping -D}, duplicate address detection, which
 *     waits one second when nobody answers), and waits while one does, as long as this node
 *     is still the primary; then {@code ip addr add ADDR/PREFIX dev IF} and a gratuitous
 *     ARP ({@code arping -U}) so neighbours update their caches at once;</li>
 * <li>on demote (server in recovery or down, fenced, another primary found):
 *     {@code ip addr del ADDR/PREFIX dev IF}.</li>
 * </ul>
 * Without {@code arping} (Debian package {@code iputils-arping}) the address is still
 * added and removed, with a warning: neither the check before adding nor the gratuitous
 * ARP is made, and only the release on demotion keeps the address off two nodes.
 * Needs the right to change addresses ({@code CAP_NET_ADMIN}: root, or a sudo rule in the
 * runner's commands). Called on the daemon's role thread, one change at a time.
 * Thread-safe.
 */
final class VipAction implements RoleChangeListener {
    private static final Logger LOG = LoggerFactory.getLogger(VipAction.class);
    private static final Duration STEP = Duration.ofSeconds(10);
    private static final Duration HELD_RETRY = Duration.ofMillis(200);

    private final VirtualIp vip;
    private final CommandRunner runner;
    private final String node;
    private final BooleanSupplier stillPrimary;
    private volatile boolean warnedNoArping;

    VipAction(VirtualIp vip, CommandRunner runner, String node, BooleanSupplier stillPrimary) {
        this.vip = vip;
        this.runner = runner;
        this.node = node;
        this.stillPrimary = stillPrimary;
    }

    /** The commands of each step, for the log and the tests. */
    List<String> addCommand() {
        return List.of("ip", "addr", "add", vip.cidr(), "dev", vip.iface());
    }

    List<String> delCommand() {
        return List.of("ip", "addr", "del", vip.cidr(), "dev", vip.iface());
    }

    List<String> checkCommand() {
        return List.of("arping", "-D", "-q", "-c", "1", "-w", "1", "-I", vip.iface(), vip.address());
    }

    List<String> announceCommand() {
        return List.of("arping", "-U", "-q", "-c", "1", "-w", "1", "-I", vip.iface(), vip.address());
    }

    List<String> showCommand() {
        return List.of("ip", "-o", "-4", "addr", "show", "dev", vip.iface());
    }

    @Override
    public void onPromote(RoleChange change) {
        if (present()) {
            LOG.info("[{}] virtual IP {} is on {} already", node, vip.cidr(), vip.iface());
            announce();
            return;
        }
        while (true) {
            if (!stillPrimary.getAsBoolean()) {
                LOG.info("[{}] not adding virtual IP {}: no longer the primary", node, vip.address());
                return;
            }
            CommandResult r = run(checkCommand());
            if (r.exitCode() == 0) {
                break; // nobody answered for the address
            }
            if (missing(r)) {
                warnNoArping();
                break;
            }
            LOG.warn("[{}] virtual IP {} is answered by another host; waiting for it to be released before adding it",
                    node, vip.address());
            sleep(HELD_RETRY);
        }
        if (!stillPrimary.getAsBoolean()) {
            LOG.info("[{}] not adding virtual IP {}: no longer the primary", node, vip.address());
            return;
        }
        CommandResult add = run(addCommand());
        if (!add.succeeded() && !add.lastErrorLine().contains("File exists")) {
            LOG.error("[{}] could not add virtual IP {} to {}: {}", node, vip.cidr(), vip.iface(), add.lastErrorLine());
            return;
        }
        LOG.info("[{}] virtual IP {} added to {}", node, vip.cidr(), vip.iface());
        announce();
    }

    @Override
    public void onDemote(RoleChange change) {
        CommandResult r = run(delCommand());
        if (r.succeeded()) {
            LOG.info("[{}] virtual IP {} removed from {} ({})", node, vip.cidr(), vip.iface(), change.reason());
        } else if (r.lastErrorLine().contains("Cannot assign requested address")) {
            LOG.debug("[{}] virtual IP {} was not on {}", node, vip.cidr(), vip.iface());
        } else {
            LOG.error("[{}] could not remove virtual IP {} from {}: {}", node, vip.cidr(), vip.iface(), r.lastErrorLine());
        }
    }

    /** Whether the address is on the interface now. */
    boolean present() {
        CommandResult r = run(showCommand());
        return r.succeeded() && r.stdout().contains(" " + vip.address() + "/");
    }

    private void announce() {
        CommandResult r = run(announceCommand());
        if (missing(r)) {
            warnNoArping();
        } else if (!r.succeeded()) {
            LOG.warn("[{}] gratuitous ARP for {} failed: {}", node, vip.address(), r.lastErrorLine());
        }
    }

    /** A program that is not there: exit 127 (a shell, ssh) or a failed exec ({@code ip netns exec}: 255). */
    private static boolean missing(CommandResult r) {
        return r.exitCode() == 127 || r.lastErrorLine().contains("No such file or directory")
                || r.lastErrorLine().contains("not found");
    }

    private void warnNoArping() {
        if (!warnedNoArping) {
            warnedNoArping = true;
            LOG.warn("[{}] arping not found on the node's host (Debian: package iputils-arping): the virtual IP is added"
                    + " without checking that no other host holds it, and without a gratuitous ARP", node);
        }
    }

    private CommandResult run(List<String> argv) {
        try {
            return runner.run(Command.of(argv).withTimeout(STEP));
        } catch (RuntimeException e) {
            return new CommandResult(127, "", e.getMessage() == null ? e.toString() : e.getMessage(), false, Duration.ZERO);
        }
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return "VipAction[" + vip.cidr() + " on " + vip.iface() + "]";
    }
}
