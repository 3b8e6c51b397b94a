package io.repmgr4j.core;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.core.host.NodeHost;
import io.repmgr4j.core.host.RecoveryConfig;
import io.repmgr4j.sql.ReplicationControl;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Optional;

/**
 * The primary_conninfo a follow sets on a running standby, with the password moved into
 * the standby's {@link RecoveryConfig#PASSFILE} (the clone's and the rejoin's file: same
 * name, same one line, mode 0600), so the server's "parameter "primary_conninfo" changed to
 * ..." log line and {@code SHOW primary_conninfo} hold no password.
 *
 * <p>The file is written through the node's runner (content on stdin). When the handle
 * knows the node's configuration, its data directory is the configuration's. When it does
 * not, the directory is the server's own {@code data_directory}, and the handle does not
 * know which host the runner reaches: the file is written under a new unique name first,
 * read back through the server ({@code pg_read_file}), and renamed into place only when the
 * server sees exactly that text, so a runner on another host never overwrites a file there.
 * When the file cannot be written or checked, the follow is refused before
 * primary_conninfo changes, with a hint naming what to pass. Stateless; thread-safe.
 */
final class PrimaryConninfoPassfile {
    private static final SecureRandom RANDOM = new SecureRandom();

    private PrimaryConninfoPassfile() {
    }

    /** True when {@link #prepare} has a file to write: the upstream's conninfo carries a password. */
    static boolean needed(ConnInfo primaryConninfo) {
        return primaryConninfo.password().isPresent();
    }

    /**
     * Writes the standby's password file when {@code primaryConninfo} carries a password
     * and returns the primary_conninfo naming it instead; without a password, the conninfo
     * unchanged.
     *
     * @throws ReplicationException FOLLOW_FAIL when the file cannot be written (nothing
     *     else changed)
     */
    static ConnInfo prepare(Topology topo, NodeRecord standby, ConnInfo primaryConninfo) {
        ClusterContext ctx = topo.ctx;
        if (!needed(primaryConninfo)) {
            return primaryConninfo;
        }
        String content = RecoveryConfig.passfileLine(primaryConninfo) + "\n";
        io.repmgr4j.spi.CommandRunner runner = ctx.runner(standby.nodeId());
        NodeHost host = new NodeHost(runner);
        Optional<NodeConfig> config = ctx.config(standby.nodeId());
        try {
            if (config.isPresent()) {
                String dir = config.get().dataDirectory();
                host.writeFile(dir + "/" + RecoveryConfig.PASSFILE, content, 0600);
                return RecoveryConfig.withPassfile(primaryConninfo, dir);
            }
            String dir = topo.withConnection(standby.conninfo(), ReplicationControl::dataDirectory);
            String target = dir + "/" + RecoveryConfig.PASSFILE;
            String staged = target + ".repmgr4j-" + unique();
            host.writeFile(staged, content, 0600);
            boolean same;
            try {
                same = topo.withConnection(standby.conninfo(), c -> ReplicationControl.serverFile(c, staged))
                        .map(content::equals).orElse(false);
            } catch (ReplicationException e) {
                removeQuietly(host, staged);
                throw e;
            }
            if (!same) {
                removeQuietly(host, staged);
                throw new ReplicationException(ErrorCode.FOLLOW_FAIL, "the password file of " + standby.describe()
                        + " would not be on its server's host",
                        "a file written by " + runner.describe() + " into " + dir + " is not the one the server reads there",
                        null);
            }
            host.rename(staged, target);
            return RecoveryConfig.withPassfile(primaryConninfo, dir);
        } catch (ReplicationException e) {
            throw new ReplicationException(ErrorCode.FOLLOW_FAIL, "unable to keep the password out of the primary_conninfo of "
                    + standby.describe() + "; its primary_conninfo was not changed",
                    e.getMessage() + e.detail().map(d -> ": " + d).orElse(""),
                    config.isPresent()
                            ? "check that the data directory exists on the node's host and its OS user may write there"
                            : "give the cluster handle the node's configuration and the runner that reaches its host"
                            + " (ReplicationClusters.builder().node(config, runner), or follow(NodeConfig)), or register"
                            + " the upstream with a conninfo without password (the standby's host then needs it in"
                            + " ~/.pgpass or a passfile)", e);
        }
    }

    private static String unique() {
        byte[] b = new byte[8];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    private static void removeQuietly(NodeHost host, String path) {
        try {
            host.removeRecursively(path);
        } catch (RuntimeException ignored) {
            // a file under a unique name: harmless if it stays
        }
    }
}
