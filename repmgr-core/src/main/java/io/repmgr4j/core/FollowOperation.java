package io.repmgr4j.core;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.EventRecord;
import io.repmgr4j.Events;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.NodeType;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.core.host.PgControl;
import io.repmgr4j.core.host.RecoveryConfig;
import io.repmgr4j.plan.OperationException;
import io.repmgr4j.plan.OperationReport;
import io.repmgr4j.spi.MetadataStore;
import io.repmgr4j.sql.ReplicationControl;
import io.repmgr4j.sql.ReplicationProtocol.Lineage;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * {@code standby follow}: re-points a running standby to a new upstream. Also the way
 * promote and switchover make siblings follow. The standby's primary_conninfo (and
 * primary_slot_name) change in place with ALTER SYSTEM and a reload, which on PostgreSQL
 * 13 and later restarts its WAL receiver (earlier versions are restarted through the
 * node's configuration); when it does not stream from the new upstream in time, its
 * previous settings are put back. Thread-safe (stateless apart from the context).
 */
final class FollowOperation {
    static final String NAME = "standby follow";

    private final Topology topo;

    FollowOperation(Topology topo) {
        this.topo = topo;
    }

    /** What was found before anything changed. */
    record Assessment(NodeRecord follower, NodeRecord upstream, int followerVersionNum, ForkCheck.Verdict verdict) {
    }

    /**
     * Checks that {@code follower} is a running standby that can stream from
     * {@code upstream}: same system, and its position on the upstream's history.
     *
     * @throws ReplicationException FOLLOW_FAIL saying why not
     */
    Assessment assess(NodeRecord follower, NodeRecord upstream) {
        Topology.ServerState fs = topo.state(follower, ErrorCode.FOLLOW_FAIL);
        if (!fs.inRecovery()) {
            throw new ReplicationException(ErrorCode.FOLLOW_FAIL, follower.describe() + " is not a standby",
                    "the server is not in recovery: it accepts writes", "only a standby can follow another node");
        }
        Topology.ServerState us = topo.state(upstream, ErrorCode.FOLLOW_FAIL);
        if (us.systemIdentifier() != fs.systemIdentifier()) {
            throw new ReplicationException(ErrorCode.FOLLOW_FAIL,
                    follower.describe() + " and " + upstream.describe() + " belong to different clusters",
                    "system identifiers differ: " + Long.toUnsignedString(fs.systemIdentifier()) + " and "
                            + Long.toUnsignedString(us.systemIdentifier()),
                    "a standby can only follow a node cloned from the same primary");
        }
        Lineage fl = topo.lineage(follower.conninfo(), follower.describe(), ErrorCode.FOLLOW_FAIL);
        Lineage ul = topo.lineage(upstream.conninfo(), upstream.describe(), ErrorCode.FOLLOW_FAIL);
        ForkCheck.Verdict v = ForkCheck.check(List.of(
                new ForkCheck.Point("recovery point", fl.system().timeline(), fl.system().xlogPos(), false)), ul);
        if (!v.canAttach()) {
            throw new ReplicationException(ErrorCode.FOLLOW_FAIL,
                    follower.describe() + " cannot follow " + upstream.describe() + ": its WAL has diverged from the new upstream's",
                    v.detail(),
                    "stop the node and rejoin it to " + upstream.describe() + " with forceRewind(true) (node rejoin with pg_rewind)");
        }
        return new Assessment(follower, upstream, fs.versionNum(), v);
    }

    /**
     * Re-points the follower, waits until it streams, and records its new upstream (and a
     * standby_follow event) on {@code primary}; with {@code dropOldSlot}, drops its slot on
     * the old upstream. In a dry run the steps are only listed.
     *
     * @throws ReplicationException FOLLOW_FAIL when it does not stream in time (its previous
     *     settings are put back first)
     */
    void apply(OperationRun run, Assessment a, ConnInfo primary, Duration timeout, boolean dropOldSlot) {
        NodeRecord f = a.follower();
        NodeRecord u = a.upstream();
        String slot = f.slotName().orElse("");
        ConnInfo upstreamConninfo = RecoveryConfig.primaryConninfo(f.nodeName(), f.repluser(), u.conninfo());
        String[] newConninfo = {upstreamConninfo.render()};
        if (PrimaryConninfoPassfile.needed(upstreamConninfo)) {
            // before anything else changes: a follow that cannot keep the password out of primary_conninfo is refused
            run.step("write the password file of " + f.describe() + " (" + RecoveryConfig.PASSFILE
                    + " in its data directory, 0600) that its primary_conninfo names", () -> {
                newConninfo[0] = PrimaryConninfoPassfile.prepare(topo, f, upstreamConninfo).render();
                return null;
            });
        }
        String[] previous = new String[2];
        if (!slot.isEmpty()) {
            run.step("create replication slot \"" + slot + "\" on " + u.describe() + " if missing",
                    () -> topo.withConnection(u.conninfo(), c -> ReplicationControl.ensurePhysicalSlot(c, slot) ? "created" : "exists already"));
        }
        run.step("point " + f.describe() + " at " + u.describe() + " (primary_conninfo by ALTER SYSTEM, reload)", () -> {
            topo.withConnection(f.conninfo(), c -> {
                previous[0] = ReplicationControl.primaryConninfo(c);
                previous[1] = ReplicationControl.primarySlotName(c);
                ReplicationControl.setUpstream(c, newConninfo[0], slot);
                ReplicationControl.reloadConf(c);
                return null;
            });
            if (a.followerVersionNum() < 130000) {
                PgControl control = topo.ctx.control(topo.requireConfig(f, "PostgreSQL before 13 must be restarted to follow"));
                control.restart(timeout);
                return "restarted (PostgreSQL " + a.followerVersionNum() / 10000 + " reads primary_conninfo only at start)";
            }
            return null;
        });
        try {
            run.step("wait until " + f.describe() + " streams from " + u.describe(), () -> {
                Attachment.await(topo.ctx, f.conninfo(), f.nodeName(), u.conninfo(), timeout, Topology.ATTACH_POLL);
                return null;
            });
        } catch (ReplicationException e) {
            if (previous[0] != null) {
                try {
                    run.step("put back the previous primary_conninfo of " + f.describe(), () -> topo.withConnection(f.conninfo(), c -> {
                        ReplicationControl.setUpstream(c, previous[0], previous[1]);
                        ReplicationControl.reloadConf(c);
                        return null;
                    }));
                } catch (RuntimeException undo) {
                    e.addSuppressed(undo);
                }
            }
            throw new ReplicationException(ErrorCode.FOLLOW_FAIL,
                    f.describe() + " did not start streaming from " + u.describe(), OperationRun.describe(e),
                    "check the new upstream's pg_hba.conf and max_wal_senders, and the standby's log", e);
        }
        run.step("record " + f.describe() + " as a standby of " + u.describe() + " (standby_follow)", () -> {
            String details = "standby attached to upstream node \"" + u.nodeName() + "\" (ID: " + u.nodeId() + ")";
            MetadataStore store = topo.ctx.storeOn(primary);
            EventRecord stored = store.inTransaction(tx -> {
                NodeRecord now = tx.node(f.nodeId()).orElse(f);
                tx.updateNode(NodeRecord.builder().from(now).upstreamNodeId(u.nodeId()).type(NodeType.STANDBY).active(true).build());
                return tx.appendEvent(Registration.event(f.nodeId(), Events.STANDBY_FOLLOW, true, details));
            });
            topo.notify(stored);
            TopologyNotifier.publishLater(topo.ctx, primary, 0, "follow");
            return details;
        });
        OptionalInt oldUpstream = f.upstreamNodeId();
        if (dropOldSlot && !slot.isEmpty() && oldUpstream.isPresent() && oldUpstream.getAsInt() != u.nodeId()) {
            run.step("drop replication slot \"" + slot + "\" on the old upstream (node " + oldUpstream.getAsInt() + ")", () -> {
                Optional<NodeRecord> old = Topology.find(topo.nodes(), oldUpstream.getAsInt());
                if (old.isEmpty()) {
                    return "old upstream no longer registered";
                }
                try {
                    return topo.withConnection(old.get().conninfo(), c -> ReplicationControl.dropInactiveSlot(c, slot))
                            ? "dropped" : "not there or still in use";
                } catch (ReplicationException e) {
                    run.warn("could not drop replication slot \"" + slot + "\" on " + old.get().describe() + ": "
                            + e.getMessage() + "; drop it when the node is back, or it keeps WAL");
                    return "not reachable: " + e.getMessage();
                }
            });
        }
    }

    /** The standalone operation. */
    OperationReport run(int followerId, OptionalInt upstreamId, Optional<Duration> timeoutOption, boolean dryRun) {
        OperationRun run = new OperationRun(NAME, dryRun);
        NodeRecord[] follower = new NodeRecord[1];
        NodeRecord[] upstream = new NodeRecord[1];
        Assessment[] assessment = new Assessment[1];
        TopologyLock lock = null;
        try {
            List<NodeRecord> nodes = topo.nodes();
            run.check("standby is registered", () -> {
                follower[0] = Topology.require(nodes, followerId);
                return OperationRun.Found.ok(follower[0].describe());
            });
            run.check("new upstream", () -> {
                upstream[0] = resolveUpstream(nodes, follower[0], upstreamId);
                return OperationRun.Found.ok(upstream[0].describe());
            });
            TopologyLock[] held = new TopologyLock[1];
            run.check("no other topology operation is running", () -> {
                held[0] = TopologyLock.acquire(topo.ctx, nodes, "standby follow, node " + followerId, ErrorCode.FOLLOW_FAIL);
                return OperationRun.Found.ok("cluster-wide lock taken on nodes " + held[0].nodeIds());
            });
            lock = held[0];
            run.check(follower[0].describe() + " can follow " + upstream[0].describe(), () -> {
                assessment[0] = assess(follower[0], upstream[0]);
                if (assessment[0].followerVersionNum() < 130000) {
                    topo.requireConfig(follower[0], "PostgreSQL before 13 must be restarted to follow");
                }
                return OperationRun.Found.ok(assessment[0].verdict().detail());
            });
        } catch (OperationRun.CheckFailed f) {
            closeQuietly(lock);
            return refuse(run, f.reason(), followerId);
        } catch (RuntimeException e) {
            closeQuietly(lock);
            throw e;
        }
        Duration timeout = timeoutOption.orElse(topo.ctx.config(followerId)
                .map(c -> Duration.ofSeconds(c.standbyReconnectTimeout())).orElse(Duration.ofSeconds(60)));
        try {
            ConnInfo primary = topo.ctx.locatePrimary();
            apply(run, assessment[0], primary, timeout, true);
            String summary = dryRun
                    ? follower[0].describe() + " would follow " + upstream[0].describe()
                    : "STANDBY FOLLOW successful: " + follower[0].describe() + " is now attached to " + upstream[0].describe();
            return run.report(true, summary);
        } catch (ReplicationException e) {
            OperationReport report = run.report(false, OperationRun.describe(e));
            topo.failureEvent(followerId, Events.STANDBY_FOLLOW, e.getMessage());
            throw new OperationException(ErrorCode.FOLLOW_FAIL, e.getMessage(), e.detail().orElse(null),
                    e.hint().orElse(null), report, e);
        } finally {
            closeQuietly(lock);
        }
    }

    private OperationReport refuse(OperationRun run, ReplicationException reason, int nodeId) {
        OperationReport report = run.report(false, OperationRun.describe(reason));
        if (run.dryRun()) {
            return report;
        }
        topo.failureEvent(nodeId, Events.STANDBY_FOLLOW, reason.getMessage());
        throw new OperationException(reason.code(), reason.getMessage(), reason.detail().orElse(null),
                reason.hint().orElse(null), report, reason);
    }

    private NodeRecord resolveUpstream(List<NodeRecord> nodes, NodeRecord follower, OptionalInt upstreamId) {
        NodeRecord up;
        if (upstreamId.isPresent()) {
            up = Topology.require(nodes, upstreamId.getAsInt());
        } else {
            ConnInfo primary = topo.ctx.locatePrimary();
            up = Topology.byAddress(nodes, primary).orElseThrow(() -> new ReplicationException(ErrorCode.FOLLOW_FAIL,
                    "the running primary at " + primary.hosts() + " is not registered", null,
                    "name the upstream with upstreamNodeId"));
        }
        if (up.nodeId() == follower.nodeId() && follower.type() == NodeType.PRIMARY) {
            throw new ReplicationException(ErrorCode.BAD_CONFIG, follower.describe() + " is the primary and cannot follow",
                    "standby follow points a standby at a new upstream; " + follower.describe() + " is recorded as the primary"
                            + (upstreamId.isPresent() ? " and was named as its own upstream" : ", which is the upstream it would follow"),
                    "to make the primary a standby of another node, switch over to that node, or stop it and rejoin it");
        }
        if (up.nodeId() == follower.nodeId()) {
            throw new ReplicationException(ErrorCode.BAD_CONFIG, "a node cannot follow itself",
                    "the upstream named, node ID " + up.nodeId() + ", is the standby " + follower.describe() + " itself",
                    "name another node");
        }
        if (!up.active()) {
            throw new ReplicationException(ErrorCode.FOLLOW_FAIL, "upstream " + up.describe() + " is inactive",
                    "its failure was recorded", "rejoin or re-register it first, or name another upstream");
        }
        if (up.type() == NodeType.WITNESS) {
            throw new ReplicationException(ErrorCode.BAD_CONFIG, "upstream " + up.describe() + " is a witness",
                    "a witness server does not stream WAL", "name the primary or a standby");
        }
        Set<Integer> seen = new HashSet<>();
        for (NodeRecord n = up; n != null && n.upstreamNodeId().isPresent() && seen.add(n.nodeId()); ) {
            int next = n.upstreamNodeId().getAsInt();
            if (next == follower.nodeId()) {
                throw new ReplicationException(ErrorCode.BAD_CONFIG,
                        up.describe() + " streams (directly or through others) from " + follower.describe(),
                        "following it would make a replication loop", "name a node that is not downstream of the standby");
            }
            n = Topology.find(nodes, next).orElse(null);
        }
        return up;
    }

    static void closeQuietly(AutoCloseable c) {
        if (c != null) {
            try {
                c.close();
            } catch (Exception ignored) {
                // releasing is best effort: a lock dies with its sessions anyway
            }
        }
    }
}
