package io.repmgr4j.core.daemon;

import io.repmgr4j.ErrorCode;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.NodeType;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.spi.Command;
import io.repmgr4j.spi.CommandResult;
import io.repmgr4j.spi.EventListener;
import io.repmgr4j.sql.RecoveryProgress;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalInt;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon's promote and follow as repmgrd does them: when the node's repmgr.conf has
 * {@code promote_command} (or {@code follow_command}), that command is run on the node's
 * host (through its {@code CommandRunner}, as {@code sh -c}) instead of the built-in
 * operation; otherwise the built-in operation runs. After a command the daemon checks its
 * effect: the server left recovery (promote) or streams from the new upstream (follow),
 * within the same timeout, and the node's record says so (a command that only ran
 * {@code pg_ctl promote}, say, leaves the record to the daemon).
 *
 * <p>Placeholders, each quoted for the shell where it stands (see {@link NotificationCommand}):
 * {@code %n} the new upstream's node id (follow, as in repmgr; for promote this node's id),
 * {@code %a} its name, {@code %p} the failed primary's node id, {@code %%} a {@code %}.
 *
 * <p>Every successful follow is told to the {@link RoleChanges}. Thread-safe.
 */
final class RoleCommands implements TopologyActions {
    private static final Logger LOG = LoggerFactory.getLogger(RoleCommands.class);

    private final TopologyActions builtIn;
    private final ClusterAccess access;
    private final RoleChanges roles;

    RoleCommands(TopologyActions builtIn, ClusterAccess access, RoleChanges roles) {
        this.builtIn = builtIn;
        this.access = access;
        this.roles = roles;
    }

    /**
     * {@code access} with its {@link ClusterAccess#topology()} replaced by these actions
     * (every other call goes to {@code access} unchanged).
     */
    static ClusterAccess wrap(ClusterAccess access, RoleChanges roles) {
        RoleCommands actions = new RoleCommands(access.topology(), access, roles);
        InvocationHandler h = (proxy, method, args) -> {
            if (method.getName().equals("topology") && method.getParameterCount() == 0) {
                return actions;
            }
            if (method.getDeclaringClass() == Object.class) {
                return switch (method.getName()) {
                    case "equals" -> proxy == args[0];
                    case "hashCode" -> System.identityHashCode(proxy);
                    default -> "RoleCommands(" + access + ")";
                };
            }
            try {
                return method.invoke(access, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        };
        return (ClusterAccess) Proxy.newProxyInstance(ClusterAccess.class.getClassLoader(), new Class<?>[] {ClusterAccess.class},
                h);
    }

    @Override
    public void promote(NodeConfig self, NodeRecord failedPrimary, Duration timeout, EventListener events) {
        promote(self, failedPrimary, timeout, null, null, events, () -> { });
    }

    @Override
    public void promote(NodeConfig self, NodeRecord failedPrimary, Duration timeout, Duration probeCap,
                        Duration oldPrimaryCap, EventListener events, Runnable onWritable) {
        if (self.promoteCommand().isEmpty()) {
            builtIn.promote(self, failedPrimary, timeout, probeCap, oldPrimaryCap, events, onWritable);
            return;
        }
        promoteByCommand(self, failedPrimary, timeout);
        onWritable.run();
    }

    /** Runs promote_command and waits until the server accepts writes; then makes its record the primary's. */
    private void promoteByCommand(NodeConfig self, NodeRecord failedPrimary, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Map<Character, String> v = new HashMap<>();
        v.put('n', String.valueOf(self.nodeId()));
        v.put('a', self.nodeName());
        v.put('p', String.valueOf(failedPrimary.nodeId()));
        run(self, "promote_command", self.promoteCommand().get(), v, timeout, ErrorCode.PROMOTION_FAIL);
        while (inRecovery(self)) {
            if (System.nanoTime() > deadline) {
                throw new ReplicationException(ErrorCode.PROMOTION_FAIL, "promote_command ran, but node \"" + self.nodeName()
                        + "\" is still in recovery after " + timeout.toSeconds() + " s",
                        "the daemon runs promote_command instead of its own promotion and waits for the server to accept"
                                + " writes", "check what promote_command does (repmgr's: repmgr standby promote -f"
                                + " /etc/repmgr.conf), or remove it to let the daemon promote");
            }
            sleep(100);
        }
        try {
            io.repmgr4j.spi.MetadataStore store = access.storeOn(self.conninfo());
            store.node(self.nodeId()).filter(n -> n.type() != NodeType.PRIMARY || n.upstreamNodeId().isPresent() || !n.active())
                    .ifPresent(n -> store.updateNode(NodeRecord.builder().from(n).type(NodeType.PRIMARY)
                            .upstreamNodeId(OptionalInt.empty()).active(true).build()));
        } catch (ReplicationException e) {
            LOG.warn("[{}] promoted by promote_command, but could not update its record: {}", self.nodeName(), e.getMessage());
        }
    }

    @Override
    public String catchUp(NodeConfig self, NodeRecord from, io.repmgr4j.Lsn target, Duration timeout) {
        return builtIn.catchUp(self, from, target, timeout);
    }

    @Override
    public void follow(NodeConfig self, NodeRecord newUpstream, Duration timeout, EventListener events) {
        if (self.followCommand().isEmpty()) {
            builtIn.follow(self, newUpstream, timeout, events);
        } else {
            Map<Character, String> v = new HashMap<>();
            v.put('n', String.valueOf(newUpstream.nodeId()));
            v.put('a', newUpstream.nodeName());
            run(self, "follow_command", self.followCommand().get(), v, timeout, ErrorCode.FOLLOW_FAIL);
            access.awaitAttached(self.conninfo(), self.nodeName(), newUpstream.conninfo(), timeout);
            try {
                io.repmgr4j.spi.MetadataStore store = access.storeOn(access.locatePrimary());
                store.node(self.nodeId()).filter(n -> !n.upstreamNodeId().equals(OptionalInt.of(newUpstream.nodeId())))
                        .ifPresent(n -> store.updateNode(NodeRecord.builder().from(n)
                                .upstreamNodeId(OptionalInt.of(newUpstream.nodeId())).build()));
            } catch (ReplicationException e) {
                LOG.warn("[{}] follows {} after follow_command, but could not update its record: {}", self.nodeName(),
                        newUpstream.describe(), e.getMessage());
            }
        }
        roles.followed(newUpstream.nodeId(), "now follows " + newUpstream.describe());
    }

    private void run(NodeConfig self, String key, String template, Map<Character, String> values, Duration timeout,
                     ErrorCode code) {
        String cmd = NotificationCommand.expand(template, values);
        LOG.info("[{}] running {}: {}", self.nodeName(), key, self.conninfo().maskIn(cmd));
        CommandResult r = access.runner(self.nodeId()).run(Command.of("sh", "-c", cmd).withTimeout(timeout));
        if (!r.succeeded()) {
            String why = r.timedOut() ? "it did not end within " + timeout.toSeconds() + " s and was stopped"
                    : "it exited with status " + r.exitCode() + (r.lastErrorLine().isEmpty() ? ""
                    : ": " + self.conninfo().maskIn(r.lastErrorLine()));
            throw new ReplicationException(code, key + " failed on node \"" + self.nodeName() + "\"", why,
                    "run the command by hand on the node's host to see what it does, or remove " + key
                            + " to let the daemon use its own operation");
        }
    }

    private boolean inRecovery(NodeConfig self) {
        try (Connection c = access.connect(self.conninfo(), Duration.ofSeconds(2), Duration.ofSeconds(5))) {
            return RecoveryProgress.read(c).inRecovery();
        } catch (SQLException | ReplicationException e) {
            return true;
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ReplicationException(ErrorCode.PROMOTION_FAIL, "interrupted while waiting for the promotion");
        }
    }
}
