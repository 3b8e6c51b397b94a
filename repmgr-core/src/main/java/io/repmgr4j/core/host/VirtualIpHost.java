package io.repmgr4j.core.host;

import io.repmgr4j.VirtualIp;
import io.repmgr4j.spi.Command;
import io.repmgr4j.spi.CommandResult;
import io.repmgr4j.spi.CommandRunner;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The built-in virtual IP ({@code vip}, {@code vip_interface}) on one node's host, through
 * the node's {@link CommandRunner}: whether it is there, taking it ({@code ip addr add} and
 * a gratuitous ARP, optionally after a duplicate address check) and releasing it
 * ({@code ip addr del}). The failover daemon moves it on role changes; a switchover moves it
 * itself, as steps of its plan, so that it is off the old primary before that server starts
 * again as a standby. Without {@code arping} (Debian: {@code iputils-arping}) the address is
 * still added and removed, with a warning, without the check and the announcement. Needs the
 * right to change addresses ({@code CAP_NET_ADMIN}: root, or a sudo rule in the runner's
 * commands). Thread-safe.
 */
public final class VirtualIpHost {
    private static final Logger LOG = LoggerFactory.getLogger(VirtualIpHost.class);
    private static final Duration STEP = Duration.ofSeconds(10);
    private static final Duration HELD_RETRY = Duration.ofMillis(200);

    private final VirtualIp vip;
    private final CommandRunner runner;
    private final String node;
    private volatile boolean warnedNoArping;

    /** @param node the node's name, for the log */
    public VirtualIpHost(VirtualIp vip, CommandRunner runner, String node) {
        this.vip = vip;
        this.runner = runner;
        this.node = node;
    }

    /** The address with its prefix and interface, for messages: {@code 10.0.0.100/24 on eth0}. */
    public String describe() {
        return vip.cidr() + " on " + vip.iface();
    }

    public List<String> addCommand() {
        return List.of("ip", "addr", "add", vip.cidr(), "dev", vip.iface());
    }

    public List<String> delCommand() {
        return List.of("ip", "addr", "del", vip.cidr(), "dev", vip.iface());
    }

    /** Duplicate address detection: exit 0 when nobody answered within one second. */
    public List<String> checkCommand() {
        return List.of("arping", "-D", "-q", "-c", "1", "-w", "1", "-I", vip.iface(), vip.address());
    }

    public List<String> announceCommand() {
        return List.of("arping", "-U", "-q", "-c", "1", "-w", "1", "-I", vip.iface(), vip.address());
    }

    public List<String> showCommand() {
        return List.of("ip", "-o", "-4", "addr", "show", "dev", vip.iface());
    }

    /** Whether the address is on the interface now. */
    public boolean present() {
        CommandResult r = run(showCommand());
        return r.succeeded() && r.stdout().contains(" " + vip.address() + "/");
    }

    /**
     * Adds the address unless it is there already, then announces it. With {@code check},
     * first waits while another host answers for it (duplicate address detection), as long
     * as {@code stillWanted} says so.
     *
     * @return what was done, in a sentence; {@code null} when it was not added because
     *     {@code stillWanted} turned false
     * @throws IllegalStateException when {@code ip addr add} failed (the message says why)
     */
    public String take(boolean check, BooleanSupplier stillWanted) {
        if (present()) {
            announce();
            return "virtual IP " + describe() + " is there already";
        }
        while (check) {
            if (!stillWanted.getAsBoolean()) {
                return null;
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
        if (!stillWanted.getAsBoolean()) {
            return null;
        }
        CommandResult add = run(addCommand());
        if (!add.succeeded() && !add.lastErrorLine().contains("File exists")) {
            throw new IllegalStateException("could not add virtual IP " + describe() + ": " + add.lastErrorLine());
        }
        announce();
        return "virtual IP " + describe() + " added" + (check ? "" : " (released by this operation just before: no check)");
    }

    /**
     * Removes the address.
     *
     * @return what was done, in a sentence
     * @throws IllegalStateException when {@code ip addr del} failed for another reason than
     *     the address not being there
     */
    public String release() {
        CommandResult r = run(delCommand());
        if (r.succeeded()) {
            return "virtual IP " + describe() + " removed";
        }
        // iproute2 says "Cannot assign requested address" or, on newer kernels, "Address not found"
        if (r.lastErrorLine().contains("Cannot assign requested address") || r.lastErrorLine().contains("Address not found")) {
            return "virtual IP " + describe() + " was not there";
        }
        throw new IllegalStateException("could not remove virtual IP " + describe() + ": " + r.lastErrorLine());
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
        return "VirtualIpHost[" + describe() + " of " + node + "]";
    }
}
