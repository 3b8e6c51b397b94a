package io.repmgr4j.core;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.core.host.NodeHost;
import io.repmgr4j.core.host.RecoveryConfig;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The primary_conninfo a follow sets on a running standby, with the password moved into
 * the standby's {@link RecoveryConfig#PASSFILE} (written through the node's runner, content
 * on stdin, mode 0600) when the handle knows the node's configuration, so the server's
 * "parameter "primary_conninfo" changed to ..." log line and {@code SHOW primary_conninfo}
 * hold no password. Without the configuration (the handle does not know where the data
 * directory is, or on which host) the password stays in primary_conninfo, as before, and
 * the ALTER SYSTEM runs with statement logging off. Stateless; thread-safe.
 */
final class PrimaryConninfoPassfile {
    private static final Logger LOG = LoggerFactory.getLogger(PrimaryConninfoPassfile.class);

    private PrimaryConninfoPassfile() {
    }

    static ConnInfo prepare(ClusterContext ctx, NodeRecord standby, ConnInfo primaryConninfo) {
        if (primaryConninfo.password().isEmpty()) {
            return primaryConninfo;
        }
        Optional<NodeConfig> config = ctx.config(standby.nodeId());
        if (config.isEmpty()) {
            return primaryConninfo;
        }
        String dir = config.get().dataDirectory();
        try {
            new NodeHost(ctx.runner(standby.nodeId())).writeFile(dir + "/" + RecoveryConfig.PASSFILE,
                    RecoveryConfig.passfileLine(primaryConninfo) + "\n", 0600);
        } catch (ReplicationException e) {
            LOG.warn("could not write the password file of {} ({}); its primary_conninfo keeps the password",
                    standby.describe(), e.getMessage());
            return primaryConninfo;
        }
        return RecoveryConfig.withPassfile(primaryConninfo, dir);
    }
}
