package io.repmgr4j.core.daemon;

import io.repmgr4j.VirtualIp;
import io.repmgr4j.core.host.VirtualIpHost;
import io.repmgr4j.spi.CommandRunner;
import io.repmgr4j.spi.RoleChange;
import io.repmgr4j.spi.RoleChangeListener;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon's side of the built-in virtual IP: a {@link RoleChangeListener} that adds the
 * address ({@link VirtualIpHost#take}, after the duplicate address check, which waits one
 * second when nobody answers, and as long as this node is still the primary) when the node
 * becomes the legitimate primary, and removes it when it stops being it (server in recovery
 * or down, fenced, another primary found). Called on the daemon's role thread, one change
 * at a time. Thread-safe.
 */
final class VipAction implements RoleChangeListener {
    private static final Logger LOG = LoggerFactory.getLogger(VipAction.class);

    private final VirtualIpHost host;
    private final String node;
    private final BooleanSupplier stillPrimary;

    VipAction(VirtualIp vip, CommandRunner runner, String node, BooleanSupplier stillPrimary) {
        this.host = new VirtualIpHost(vip, runner, node);
        this.node = node;
        this.stillPrimary = stillPrimary;
    }

    /** The commands of each step, for the log and the tests. */
    List<String> addCommand() {
        return host.addCommand();
    }

    List<String> delCommand() {
        return host.delCommand();
    }

    List<String> checkCommand() {
        return host.checkCommand();
    }

    List<String> announceCommand() {
        return host.announceCommand();
    }

    List<String> showCommand() {
        return host.showCommand();
    }

    @Override
    public void onPromote(RoleChange change) {
        try {
            String done = host.take(true, stillPrimary);
            if (done == null) {
                LOG.info("[{}] not adding virtual IP {}: no longer the primary", node, host.describe());
            } else {
                LOG.info("[{}] {}", node, done);
            }
        } catch (IllegalStateException e) {
            LOG.error("[{}] {}", node, e.getMessage());
        }
    }

    @Override
    public void onDemote(RoleChange change) {
        try {
            LOG.info("[{}] {} ({})", node, host.release(), change.reason());
        } catch (IllegalStateException e) {
            LOG.error("[{}] {}", node, e.getMessage());
        }
    }

    /** Whether the address is on the interface now. */
    boolean present() {
        return host.present();
    }

    @Override
    public String toString() {
        return "VipAction[" + host.describe() + "]";
    }
}
