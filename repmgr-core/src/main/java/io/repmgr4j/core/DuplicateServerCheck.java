package io.repmgr4j.core;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.ReplicationException;
import java.util.List;
import java.util.Locale;

/**
 * Refuses a node whose server (the first host and port of its conninfo) is already
 * registered under another node id: one PostgreSQL server is one node, and two records for
 * it would make the daemon, the switchover and cluster show see two nodes that fail,
 * follow and promote together. Stateless; thread-safe.
 */
final class DuplicateServerCheck {
    private DuplicateServerCheck() {
    }

    static void check(List<NodeRecord> nodes, NodeConfig config) {
        String mine = server(config.conninfo());
        for (NodeRecord n : nodes) {
            if (n.nodeId() != config.nodeId() && server(n.conninfo()).equals(mine)) {
                throw new ReplicationException(ErrorCode.BAD_CONFIG,
                        "the server at " + mine + " is already registered as " + n.describe(),
                        "node " + config.nodeId() + " (\"" + config.nodeName() + "\") names the same host and port in its"
                                + " conninfo; one PostgreSQL server is one node",
                        "register it with node ID " + n.nodeId() + " (with force to update that record), or unregister node "
                                + n.nodeId() + " first");
            }
        }
    }

    private static String server(ConnInfo c) {
        ConnInfo.HostPort hp = c.hosts().get(0);
        return hp.host().toLowerCase(Locale.ROOT) + ":" + hp.port();
    }
}
