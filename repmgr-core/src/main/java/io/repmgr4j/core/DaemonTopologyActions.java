package io.repmgr4j.core;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.EventQuery;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.EventRecord;
import io.repmgr4j.Lsn;
import io.repmgr4j.Events;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.NodeType;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.core.daemon.TopologyActions;
import io.repmgr4j.core.host.RecoveryConfig;
import io.repmgr4j.spi.EventListener;
import io.repmgr4j.sql.RecoveryProgress;
import io.repmgr4j.sql.ReplicationControl;
import io.repmgr4j.sql.ServerProbe;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The failover daemon's promote and follow, done by the library's own operations:
 * <ul>
 *   <li>promote: the {@code standby promote} operation in full (its checks, among them
 *       that the registered primary is not running, and the cluster-wide topology lock,
 *       so a failover never interleaves with a switchover or another promotion);</li>
 *   <li>follow: the {@code standby follow} operation's assessment (same system, the new
 *       primary's timeline history forks at or after this standby's position) and its
 *       apply steps, without taking the topology lock: the promoting daemon holds it for
 *       the failover, and the siblings follow in parallel.</li>
 * </ul>
 * Thread-safe.
 */
final class DaemonTopologyActions implements TopologyActions {
    private final ClusterContext ctx;
    private final Topology topo;
    private final FollowOperation follow;
    private final PromoteOperation promote;

    DaemonTopologyActions(ClusterContext ctx) {
        this.ctx = ctx;
        this.topo = new Topology(ctx);
        this.follow = new FollowOperation(topo);
        this.promote = new PromoteOperation(topo, follow, false);
    }

    @Override
    public void promote(NodeConfig self, NodeRecord failedPrimary, Duration timeout, EventListener events) {
        promote(self, failedPrimary, timeout, null, null, events, () -> { });
    }

    @Override
    public void promote(NodeConfig self, NodeRecord failedPrimary, Duration timeout, Duration probeCap,
                        Duration oldPrimaryCap, EventListener events, Runnable onWritable) {
        ctx.bind(self);
        // the daemon found the old primary gone: read the metadata from this standby's own copy
        // first, instead of waiting out a connect timeout on a silent old primary
        ctx.rememberPrimary(self.conninfo());
        promote.run(self.nodeId(), false, false, Optional.of(timeout), false, Optional.ofNullable(probeCap),
                Optional.ofNullable(oldPrimaryCap), onWritable);
        latest(self.conninfo(), self.nodeId(), Events.STANDBY_PROMOTE).ifPresent(events::onEvent);
    }

    @Override
    public void follow(NodeConfig self, NodeRecord newUpstream, Duration timeout, EventListener events) {
        ctx.bind(self);
        NodeRecord me = Topology.find(topo.nodes(), self.nodeId())
                .orElseGet(() -> NodeRecord.from(self, NodeType.STANDBY, OptionalInt.empty()));
        FollowOperation.Assessment a = follow.assess(me, newUpstream);
        follow.apply(new OperationRun(FollowOperation.NAME, false), a, newUpstream.conninfo(), timeout, true);
        latest(newUpstream.conninfo(), self.nodeId(), Events.STANDBY_FOLLOW).ifPresent(events::onEvent);
    }

    @Override
    public String catchUp(NodeConfig self, NodeRecord from, Lsn target, Duration timeout) {
        ctx.bind(self);
        NodeRecord me = NodeRecord.from(self, NodeType.STANDBY, OptionalInt.empty());
        String source = PrimaryConninfoPassfile.prepare(topo, me,
                RecoveryConfig.primaryConninfo(self.nodeName(), me.repluser(), from.conninfo())).render();
        long t0 = System.nanoTime();
        return topo.withConnection(self.conninfo(), c -> {
            if (ServerProbe.serverVersionNum(c) < 130000) {
                throw new ReplicationException(ErrorCode.PROMOTION_FAIL, "cannot fetch WAL from " + from.describe(),
                        "PostgreSQL before 13 changes its upstream only at a restart", null);
            }
            ReplicationControl.setUpstream(c, source, "");
            ReplicationControl.reloadConf(c);
            long deadline = t0 + timeout.toNanos();
            while (true) {
                Optional<Lsn> now = RecoveryProgress.read(c).electionLsn();
                if (now.isPresent() && now.get().compareTo(target) >= 0) {
                    return "received WAL up to " + now.get() + " from " + from.describe() + " in "
                            + (System.nanoTime() - t0) / 1_000_000 + " ms";
                }
                if (System.nanoTime() > deadline) {
                    throw new ReplicationException(ErrorCode.PROMOTION_FAIL,
                            "did not receive WAL up to " + target + " from " + from.describe() + " within "
                                    + Topology.seconds(timeout),
                            "received up to " + now.map(Lsn::toString).orElse("nothing"),
                            "check that the standbys accept replication connections from each other (pg_hba.conf)");
                }
                Topology.sleep(Topology.FAST_POLL, ErrorCode.PROMOTION_FAIL);
            }
        });
    }

    /** The newest event of a kind for a node, as stored on {@code server} (for the daemon's own listeners). */
    private Optional<EventRecord> latest(ConnInfo server, int nodeId, String event) {
        try {
            return ctx.storeOn(server).events(EventQuery.builder().nodeId(nodeId).event(event).limit(1).build())
                    .stream().findFirst();
        } catch (ReplicationException e) {
            return Optional.empty();
        }
    }
}
