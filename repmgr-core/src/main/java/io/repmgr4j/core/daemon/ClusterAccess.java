package io.repmgr4j.core.daemon;

import io.repmgr4j.ClusterStatus;
import io.repmgr4j.ConnInfo;
import io.repmgr4j.EventRecord;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.spi.CommandRunner;
import io.repmgr4j.spi.MetadataStore;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;

/**
 * What the daemon package needs from a cluster handle: connections, metadata stores, node
 * runners, cluster show, listeners, and the topology operations (promote, follow).
 * Internal: implemented by the core package for {@link Daemons}; not part of the public
 * API and may change without notice. Implementations are thread-safe.
 */
public interface ClusterAccess {

    /**
     * A new connection to {@code node}, its connect time bounded by {@code connectCap}
     * (and the handle's connect timeout), and each read by {@code socketTimeout}
     * ({@code null}: none).
     */
    Connection connect(ConnInfo node, Duration connectCap, Duration socketTimeout);

    /** A metadata store writing to {@code server} (a new connection per call). */
    MetadataStore storeOn(ConnInfo server);

    /** The node records, from the first reachable node holding the metadata. */
    List<NodeRecord> readNodes();

    /**
     * Tells the handle about the nodes a daemon read from its local copy of the metadata,
     * so that the handle's operations can reach the cluster through any of them when the
     * seeds are down.
     */
    void remember(List<NodeRecord> nodes);

    /** The connection string of the running, writable primary. */
    ConnInfo locatePrimary();

    /** The command runner that reaches a node's host. */
    CommandRunner runner(int nodeId);

    /** Remembers a node's configuration (and keeps a runner bound to it). */
    void bind(NodeConfig config);

    /** {@code cluster show}, bounded by {@code timeout}. */
    ClusterStatus show(Duration timeout);

    /** Tells the handle's listeners of an event (called on a daemon notification thread). */
    void notifyListeners(EventRecord event);

    /**
     * Waits until the standby streams from {@code upstream}, checking the standby's WAL
     * receiver, else the upstream's pg_stat_replication.
     */
    void awaitAttached(ConnInfo standby, String nodeName, ConnInfo upstream, Duration timeout);

    /** The promote and follow operations the daemon uses. */
    TopologyActions topology();

    /**
     * What topology operation (switchover, promote, follow, rejoin) holds the cluster-wide
     * lock on the server of {@code node}, if any: a daemon does not start a failover
     * while one runs (a switchover stops the primary on purpose).
     */
    java.util.Optional<String> topologyOperation(Connection node);
}
