package io.repmgr4j.core;

import io.repmgr4j.ClusterStatus;
import io.repmgr4j.ConnInfo;
import io.repmgr4j.EventRecord;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.core.daemon.ClusterAccess;
import io.repmgr4j.core.daemon.TopologyActions;
import io.repmgr4j.spi.CommandRunner;
import io.repmgr4j.spi.MetadataStore;
import io.repmgr4j.sql.AdvisoryLocks;
import io.repmgr4j.sql.PgConnections;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** The daemon package's view of one cluster handle's context. Thread-safe. */
final class ContextAccess implements ClusterAccess {
    private final ClusterContext ctx;
    private final ClusterProbe probe;
    private final TopologyActions topology;

    ContextAccess(ClusterContext ctx, ClusterProbe probe) {
        this.ctx = ctx;
        this.probe = probe;
        this.topology = new DaemonTopologyActions(ctx);
    }

    @Override
    public Connection connect(ConnInfo node, Duration connectCap, Duration socketTimeout) {
        Duration cap = connectCap.compareTo(ctx.connectTimeout()) < 0 ? connectCap : ctx.connectTimeout();
        return PgConnections.open(node, cap, socketTimeout);
    }

    @Override
    public MetadataStore storeOn(ConnInfo server) {
        return ctx.storeOn(server);
    }

    @Override
    public List<NodeRecord> readNodes() {
        return ctx.readNodes();
    }

    @Override
    public void remember(List<NodeRecord> nodes) {
        ctx.remember(nodes);
    }

    @Override
    public ConnInfo locatePrimary() {
        return ctx.locatePrimary();
    }

    @Override
    public CommandRunner runner(int nodeId) {
        return ctx.runner(nodeId);
    }

    @Override
    public void bind(NodeConfig config) {
        ctx.bind(config);
    }

    @Override
    public ClusterStatus show(Duration timeout) {
        return probe.show(timeout);
    }

    @Override
    public void notifyListeners(EventRecord event) {
        ctx.notifyListeners(event);
    }

    @Override
    public void awaitAttached(ConnInfo standby, String nodeName, ConnInfo upstream, Duration timeout) {
        Attachment.await(ctx, standby, nodeName, upstream, timeout);
    }

    @Override
    public TopologyActions topology() {
        return topology;
    }

    @Override
    public Optional<String> topologyOperation(Connection node) {
        return AdvisoryLocks.holders(node, TopologyLock.KEY).stream().findFirst()
                .map(h -> h.startsWith(TopologyLock.LABEL_PREFIX) ? h.substring(TopologyLock.LABEL_PREFIX.length()) : h)
                .map(h -> h.isBlank() ? "an unnamed session" : h);
    }
}
