package io.repmgr4j.core;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.EventRecord;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.NodeType;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.SyncEvents;
import io.repmgr4j.SyncMode;
import io.repmgr4j.SynchronousPlan;
import io.repmgr4j.SynchronousRecord;
import io.repmgr4j.core.sync.SyncApplier;
import io.repmgr4j.core.sync.SyncConnections;
import io.repmgr4j.core.sync.SyncSettings;
import io.repmgr4j.core.sync.SyncTarget;
import io.repmgr4j.sql.DaemonStateInstaller;
import io.repmgr4j.sql.JdbcMetadataStore;
import io.repmgr4j.sql.ServerProbe;
import io.repmgr4j.sql.SyncStateTable;
import io.repmgr4j.sql.ReplicationClient;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * {@code cluster.synchronousReplication()}: collects the settings, then {@link #plan()}
 * (validated, nothing changed) or {@link #apply()}. Also used by topology operations to
 * configure a new primary's synchronous standbys ({@link #applyOn}). Not thread-safe.
 */
final class SynchronousReplicationBuilder implements ReplicationCluster.SynchronousReplication {
    private final ClusterContext ctx;
    private SyncMode mode;
    private Integer count;
    private Boolean strict;
    private Duration degradeTimeout;
    private final Map<String, Boolean> candidates = new LinkedHashMap<>();
    private ConnInfo primaryOverride;
    private Duration budget = Duration.ofSeconds(10);

    SynchronousReplicationBuilder(ClusterContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public ReplicationCluster.SynchronousReplication mode(SyncMode mode) {
        this.mode = java.util.Objects.requireNonNull(mode, "mode");
        return this;
    }

    @Override
    public ReplicationCluster.SynchronousReplication count(int count) {
        this.count = count;
        return this;
    }

    @Override
    public ReplicationCluster.SynchronousReplication strict(boolean strict) {
        this.strict = strict;
        return this;
    }

    @Override
    public ReplicationCluster.SynchronousReplication degradeTimeout(Duration timeout) {
        this.degradeTimeout = java.util.Objects.requireNonNull(timeout, "timeout");
        return this;
    }

    @Override
    public ReplicationCluster.SynchronousReplication candidate(String nodeName, boolean candidate) {
        candidates.put(java.util.Objects.requireNonNull(nodeName, "nodeName"), candidate);
        return this;
    }

    @Override
    public SynchronousPlan plan() {
        return run(false);
    }

    @Override
    public SynchronousPlan apply() {
        return run(true);
    }

    /** {@link #apply()} on this primary (just promoted, say), each wait bounded by {@code budget}. */
    SynchronousPlan applyOn(ConnInfo primary, Duration budget) {
        this.primaryOverride = primary;
        this.budget = budget;
        return run(true);
    }

    private SynchronousPlan run(boolean apply) {
        ConnInfo primaryInfo = primaryOverride != null ? primaryOverride : ctx.locatePrimary();
        ConnInfo local = SyncConnections.localCommit(primaryInfo);
        io.repmgr4j.spi.MetadataStore store = JdbcMetadataStore.of(() -> ctx.connect(local));
        try (Connection c = ctx.connect(local)) {
            List<NodeRecord> nodes = store.nodes();
            NodeRecord primary = nodes.stream().filter(n -> n.type() == NodeType.PRIMARY && n.active()
                    && n.conninfo().equals(primaryInfo)).findFirst()
                    .or(() -> nodes.stream().filter(n -> n.type() == NodeType.PRIMARY && n.active()).findFirst())
                    .orElseThrow(() -> new ReplicationException(ErrorCode.BAD_CONFIG, "no active primary is registered",
                            null, "register the primary first"));
            Optional<SynchronousRecord> rec = SyncStateTable.read(c);
            SyncSettings s = settings(primary, rec);
            Map<Integer, Boolean> flags = flags(c, nodes);
            SyncTarget.validate(nodes, primary.nodeId(), s, flags);
            Set<String> streaming = ServerProbe.replicationClients(c).stream()
                    .filter(r -> r.state().map("streaming"::equals).orElse(false))
                    .map(ReplicationClient::applicationName).collect(Collectors.toSet());
            SyncTarget.Target t = SyncTarget.compute(nodes, primary.nodeId(), s, flags, streaming, false);
            String current = SyncApplier.currentNames(c);
            Map<Integer, String> names = new HashMap<>();
            nodes.forEach(n -> names.put(n.nodeId(), n.nodeName()));
            List<String> memberNames = t.memberNames();
            if (!apply) {
                return new SynchronousPlan(primary.nodeId(), current, t.standbyNames(), t.kind(), t.count(), memberNames,
                        t.reason(), SyncApplier.planSteps(current, rec, s, t, names), false, false);
            }
            DaemonStateInstaller.install(c);
            SyncStateTable.setCandidates(c, flags);
            SyncApplier.Result r = SyncApplier.apply(c, primary.nodeId(), nodes, s, t, budget);
            if (r.changed()) {
                EventRecord e = EventRecord.builder().nodeId(primary.nodeId()).event(SyncEvents.SYNCHRONOUS_CHANGED)
                        .successful(true).details("synchronous_standby_names '" + current + "' -> '" + t.standbyNames()
                                + "': " + t.reason() + (r.complete() ? "" : " (record not narrowed yet)"))
                        .nodeName(primary.nodeName()).build();
                ctx.notifyListeners(store.appendEvent(e));
            }
            return new SynchronousPlan(primary.nodeId(), current, t.standbyNames(), t.kind(), t.count(), memberNames,
                    t.reason(), r.steps(), true, r.complete());
        } catch (SQLException e) {
            throw new ReplicationException(ErrorCode.DB_CONN, "unable to connect to the primary", e.getMessage(), null, e);
        }
    }

    /** Builder values, else the record's, else the primary's bound configuration's, else the defaults. */
    private SyncSettings settings(NodeRecord primary, Optional<SynchronousRecord> rec) {
        SyncSettings base = rec.map(SyncSettings::of)
                .or(() -> ctx.config(primary.nodeId()).map(SyncSettings::of))
                .orElse(SyncSettings.OFF);
        return new SyncSettings(mode != null ? mode : base.mode(), count != null ? count : base.count(),
                strict != null ? strict : base.strict(), degradeTimeout != null ? degradeTimeout : base.degradeTimeout());
    }

    /** The stored flags, overridden by bound configurations, overridden by the builder; unknown names refused. */
    private Map<Integer, Boolean> flags(Connection c, List<NodeRecord> nodes) {
        Map<Integer, Boolean> flags = new HashMap<>(SyncStateTable.candidates(c));
        for (NodeRecord n : nodes) {
            ctx.config(n.nodeId()).map(NodeConfig::syncCandidate).ifPresent(f -> flags.put(n.nodeId(), f));
        }
        for (Map.Entry<String, Boolean> e : candidates.entrySet()) {
            NodeRecord n = nodes.stream().filter(r -> r.nodeName().equals(e.getKey())).findFirst()
                    .orElseThrow(() -> new ReplicationException(ErrorCode.BAD_CONFIG, "unknown node \"" + e.getKey()
                            + "\" named as a sync candidate", "registered nodes: " + nodes.stream().map(NodeRecord::nodeName)
                            .collect(Collectors.joining(", ")), "name a registered node (its node_name)"));
            flags.put(n.nodeId(), e.getValue());
        }
        return flags;
    }
}
