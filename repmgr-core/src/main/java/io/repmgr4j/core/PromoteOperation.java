package io.repmgr4j.core;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.EventRecord;
import io.repmgr4j.Events;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.NodeType;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.plan.OperationException;
import io.repmgr4j.plan.OperationReport;
import io.repmgr4j.spi.MetadataStore;
import io.repmgr4j.sql.ReplicationControl;
import io.repmgr4j.sql.ServerProbe;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code standby promote}: promotes a standby whose primary is gone, records it as the
 * primary (old primary inactive, voting term + 1, standby_promote) and, when asked, makes
 * the old primary's other standbys follow it. Also holds the promotion itself, which the
 * switchover uses. Thread-safe (stateless apart from the context).
 */
final class PromoteOperation {
    private static final Logger LOG = LoggerFactory.getLogger(PromoteOperation.class);
    static final String NAME = "standby promote";
    /** How long a promotion may take before the request is repeated. */
    private static final Duration NUDGE = Duration.ofMillis(100);

    private final Topology topo;
    private final FollowOperation follow;

    PromoteOperation(Topology topo, FollowOperation follow) {
        this(topo, follow, true);
    }

    /**
     * With {@code pauseDaemons} false (a daemon's own failover, whose siblings must stay
     * free to follow), no daemon is paused for the promotion.
     */
    PromoteOperation(Topology topo, FollowOperation follow, boolean pauseDaemons) {
        this.topo = topo;
        this.follow = follow;
        this.pauseDaemons = pauseDaemons;
    }

    private final boolean pauseDaemons;

    /**
     * Asks the standby to promote (pg_promote without waiting) and polls every few
     * milliseconds until it accepts writes: pg_promote's own wait polls only every 100 ms,
     * which would add to a switchover's write gap. The request is repeated every 100 ms
     * while the standby is still in recovery (see the loop).
     *
     * @throws ReplicationException PROMOTION_FAIL when it was refused or not done in time
     */
    static String promoteAndWait(Topology topo, NodeRecord node, Duration timeout) {
        return topo.withConnection(node.conninfo(), c -> promoteAndWait(c, node, timeout));
    }

    /** {@link #promoteAndWait(Topology, NodeRecord, Duration)} on an open connection to the node. */
    static String promoteAndWait(java.sql.Connection c, NodeRecord node, Duration timeout) {
        {
            long t0 = System.nanoTime();
            if (!ReplicationControl.requestPromotion(c)) {
                throw new ReplicationException(ErrorCode.PROMOTION_FAIL, "unable to promote " + node.describe(),
                        "pg_promote() returned false: the server could not signal its postmaster", "check the server log");
            }
            long deadline = t0 + timeout.toNanos();
            long nextNudge = t0 + NUDGE.toNanos();
            while (ServerProbe.isInRecovery(c)) {
                if (System.nanoTime() > nextNudge) {
                    // a request that arrives just after the standby lost its WAL source can wait out
                    // wal_retrieve_retry_interval (5 s by default) before it is acted on; asking again
                    // wakes the startup process (a request left over is removed at the next start)
                    try {
                        ReplicationControl.requestPromotion(c);
                    } catch (ReplicationException e) {
                        // the promotion may have completed between the check above and this request
                        // ("recovery is not in progress"): that is the success being waited for
                        if (ServerProbe.isInRecovery(c)) {
                            throw e;
                        }
                        break;
                    }
                    nextNudge = System.nanoTime() + NUDGE.toNanos();
                }
                if (System.nanoTime() > deadline) {
                    throw new ReplicationException(ErrorCode.PROMOTION_FAIL,
                            "promotion of " + node.describe() + " did not complete within " + Topology.seconds(timeout),
                            "the server is still in recovery; it may yet finish the promotion",
                            "check the server log (\"promote_check_timeout\" sets how long to wait)");
                }
                Topology.sleep(Topology.FAST_POLL, ErrorCode.PROMOTION_FAIL);
            }
            return "server \"" + node.nodeName() + "\" (ID: " + node.nodeId() + ") was successfully promoted to primary"
                    + " (timeline " + ServerProbe.timeline(c) + ", "
                    + (System.nanoTime() - t0) / 1_000_000 + " ms)";
        }
    }

    /**
     * Records {@code node} as the primary on itself: its record primary without upstream,
     * {@code demote} applied to the old primary's record, voting term + 1, and the
     * standby_promote event. Returns the event's details.
     */
    static String recordPromotion(Topology topo, NodeRecord node, Optional<NodeRecord> oldPrimary,
                                  java.util.function.UnaryOperator<NodeRecord> demote) {
        String details = "server \"" + node.nodeName() + "\" (ID: " + node.nodeId() + ") was successfully promoted to primary";
        MetadataStore store = topo.ctx.storeOn(node.conninfo());
        EventRecord stored = store.inTransaction(tx -> {
            NodeRecord now = tx.node(node.nodeId()).orElse(node);
            tx.updateNode(NodeRecord.builder().from(now).type(NodeType.PRIMARY).upstreamNodeId(java.util.OptionalInt.empty())
                    .active(true).build());
            if (oldPrimary.isPresent()) {
                tx.node(oldPrimary.get().nodeId()).ifPresent(old -> tx.updateNode(demote.apply(old)));
            }
            int term = tx.incrementVotingTerm();
            LOG.info("voting term is now {}", term);
            return tx.appendEvent(Registration.event(node.nodeId(), Events.STANDBY_PROMOTE, true, details));
        });
        topo.ctx.rememberPrimary(node.conninfo());
        topo.notify(stored);
        TopologyNotifier.publishLater(topo.ctx, node.conninfo(), node.nodeId(), "promote");
        return details;
    }

    OperationReport run(int nodeId, boolean siblingsFollow, boolean force, Optional<Duration> timeoutOption, boolean dryRun) {
        return run(nodeId, siblingsFollow, force, timeoutOption, dryRun, Optional.empty(), Optional.empty(), () -> { });
    }

    /**
     * {@link #run(int, boolean, boolean, Optional, boolean)}; with {@code probeCap}, the old
     * primary's probe and the lock's connections are bounded by it (a failover daemon that
     * already found the old primary silent passes its check timeout); with {@code oldPrimaryCap}
     * (and a {@code probeCap}), the old primaries' probe and lock connection are bounded by it
     * instead (a daemon that has just waited out its fence hold and found the old primary
     * silent under its full check timeout does not wait that timeout out once more). {@code onWritable} runs
     * as soon as the server accepts writes, before the records are written (a daemon lets
     * routing follow from then on); it must return fast and never throw.
     */
    OperationReport run(int nodeId, boolean siblingsFollow, boolean force, Optional<Duration> timeoutOption, boolean dryRun,
                        Optional<Duration> probeCap, Optional<Duration> oldPrimaryCap, Runnable onWritable) {
        OperationRun run = new OperationRun(NAME, dryRun);
        List<NodeRecord> nodes = topo.nodes();
        NodeRecord[] node = new NodeRecord[1];
        List<NodeRecord> oldPrimaries = new ArrayList<>();
        List<NodeRecord> siblings = new ArrayList<>();
        TopologyLock[] lock = new TopologyLock[1];
        EarlyLock[] early = new EarlyLock[1];
        try {
            run.check("node is registered", () -> {
                node[0] = Topology.require(nodes, nodeId);
                return OperationRun.Found.ok(node[0].describe());
            });
            run.check(node[0].describe() + " is a running standby", () -> {
                Topology.ServerState s = topo.state(node[0], ErrorCode.PROMOTION_FAIL);
                if (!s.inRecovery()) {
                    throw new ReplicationException(ErrorCode.PROMOTION_FAIL, node[0].describe() + " is already a primary",
                            "the server is not in recovery", "STANDBY PROMOTE can only be executed on a standby node");
                }
                return OperationRun.Found.ok("in recovery");
            });
            run.check("the registered primary is not running", () -> {
                // the lock is taken meanwhile: an unreachable old primary then costs one connect timeout, not two
                oldPrimaries.addAll(Topology.activePrimaries(nodes, nodeId));
                boolean shortLook = oldPrimaryCap.isPresent() && probeCap.isPresent();
                java.util.Map<Integer, Duration> capOf = new java.util.HashMap<>();
                if (shortLook) {
                    oldPrimaries.forEach(p -> capOf.put(p.nodeId(), oldPrimaryCap.get()));
                }
                early[0] = EarlyLock.start(topo.ctx, nodes, "standby promote, node " + nodeId, ErrorCode.PROMOTION_FAIL,
                        probeCap, capOf);
                // a short look is a ping bounded by the cap first (pgjdbc's connect timeout counts whole
                // seconds); only a server that answers it is asked whether it runs as a primary
                List<String> running = oldPrimaries.stream().filter(p -> shortLook
                                ? io.repmgr4j.sql.PgPing.ping(p.conninfo(), oldPrimaryCap.get()) != io.repmgr4j.sql.PgPing.Result.NO_RESPONSE
                                        && topo.ctx.isRunningPrimary(p.conninfo(), probeCap.get())
                                : probeCap.isPresent() ? topo.ctx.isRunningPrimary(p.conninfo(), probeCap.get())
                                : topo.ctx.isRunningPrimary(p.conninfo()))
                        .map(NodeRecord::describe).toList();
                if (running.isEmpty()) {
                    return OperationRun.Found.ok(oldPrimaries.isEmpty() ? "no active primary is registered"
                            : oldPrimaries.stream().map(NodeRecord::describe).toList() + " not reachable as a primary");
                }
                if (!force) {
                    throw new ReplicationException(ErrorCode.PROMOTION_FAIL,
                            "the current primary " + String.join(", ", running) + " is still running",
                            "promoting a standby now would leave two primaries accepting writes",
                            "use switchover to change the primary while it runs, or stop it first; force promotes anyway");
                }
                return OperationRun.Found.warning(String.join(", ", running)
                        + " still runs as primary; promoting anyway (force): two primaries will accept writes");
            });
            run.check("no other topology operation is running", () -> {
                lock[0] = early[0] != null ? early[0].take()
                        : TopologyLock.acquire(topo.ctx, nodes, "standby promote, node " + nodeId, ErrorCode.PROMOTION_FAIL);
                return OperationRun.Found.ok("cluster-wide lock taken on nodes " + lock[0].nodeIds());
            });
            if (siblingsFollow) {
                run.check("siblings to follow", () -> {
                    for (NodeRecord p : oldPrimaries) {
                        siblings.addAll(Topology.standbysOf(nodes, p.nodeId(), nodeId));
                    }
                    return OperationRun.Found.ok(siblings.isEmpty() ? "none"
                            : siblings.stream().map(NodeRecord::describe).toList().toString());
                });
            }
        } catch (OperationRun.CheckFailed f) {
            FollowOperation.closeQuietly(lock[0]);
            if (lock[0] == null && early[0] != null) {
                early[0].abandon();
            }
            OperationReport report = run.report(false, OperationRun.describe(f.reason()));
            if (dryRun) {
                return report;
            }
            topo.failureEvent(nodeId, Events.STANDBY_PROMOTE, f.reason().getMessage());
            throw new OperationException(f.reason().code(), f.reason().getMessage(), f.reason().detail().orElse(null),
                    f.reason().hint().orElse(null), report, f.reason());
        } catch (RuntimeException e) {
            FollowOperation.closeQuietly(lock[0]);
            if (lock[0] == null && early[0] != null) {
                early[0].abandon();
            }
            throw e;
        }
        OperationPause pause = dryRun || !pauseDaemons ? null : OperationPause.pause(topo.ctx, nodes, NAME); // both kinds
        try {
            Duration timeout = timeoutOption.orElse(Duration.ofSeconds(
                    topo.ctx.config(nodeId).map(c -> c.promoteCheckTimeout()).orElse(60)));
            NodeRecord n = node[0];
            try {
                run.step("promote " + n.describe() + " (pg_promote, waiting up to " + Topology.seconds(timeout) + ")",
                        () -> promoteAndWait(topo, n, timeout));
                if (!dryRun) {
                    onWritable.run();
                }
            } catch (ReplicationException e) {
                OperationReport report = run.report(false, OperationRun.describe(e));
                topo.failureEvent(nodeId, Events.STANDBY_PROMOTE, e.getMessage());
                throw new OperationException(ErrorCode.PROMOTION_FAIL, e.getMessage(), e.detail().orElse(null),
                        e.hint().orElse(null), report, e);
            }
            Optional<NodeRecord> old = oldPrimaries.stream().findFirst();
            run.step("record " + n.describe() + " as primary (old primary inactive, voting term + 1, standby_promote)",
                    () -> recordPromotion(topo, n, old, r -> NodeRecord.builder().from(r).active(false).build()));
            if (!siblings.isEmpty()) {
                followSiblings(run, siblings, n, timeout);
            }
            SyncStep.configure(topo.ctx, run, n, siblings.isEmpty() ? Duration.ofMillis(1) : Duration.ofSeconds(5));
            String summary = dryRun ? n.describe() + " would be promoted to primary"
                    : "STANDBY PROMOTE successful: server \"" + n.nodeName() + "\" (ID: " + n.nodeId()
                            + ") was successfully promoted to primary";
            return run.report(true, summary);
        } catch (OperationException e) {
            throw e;
        } catch (ReplicationException e) {
            OperationReport report = run.report(false, OperationRun.describe(e));
            throw new OperationException(ErrorCode.PROMOTION_FAIL, node[0].describe()
                    + " was promoted, but the operation did not finish: " + e.getMessage(),
                    e.detail().orElse(null), "see the report's steps; cluster show tells the state", report, e);
        } finally {
            if (pause != null) {
                pause.close();
            }
            FollowOperation.closeQuietly(lock[0]);
        }
    }

    /**
     * Makes each sibling follow the new primary, all at once; a sibling that cannot (or
     * does not stream in time) becomes a warning and a failed standby_follow event.
     */
    void followSiblings(OperationRun run, List<NodeRecord> siblings, NodeRecord newPrimary, Duration timeout) {
        followSiblings(topo, follow, run, siblings, newPrimary, timeout);
    }

    static void followSiblings(Topology topo, FollowOperation follow, OperationRun run, List<NodeRecord> siblings,
                               NodeRecord newPrimary, Duration timeout) {
        List<Runnable> tasks = new ArrayList<>();
        ConnInfo primary = newPrimary.conninfo();
        for (NodeRecord s : siblings) {
            tasks.add(() -> {
                FollowOperation.Assessment[] a = {new FollowOperation.Assessment(s, newPrimary, 130000, null)};
                run.step("check that " + s.describe() + " can follow " + newPrimary.describe(), () -> {
                    a[0] = follow.assess(s, newPrimary);
                    return a[0].verdict().detail();
                });
                follow.apply(run, a[0], primary, timeout, false);
            });
        }
        List<RuntimeException> failures = run.parallel(tasks, topo.ctx.probePool());
        int ok = 0;
        for (int i = 0; i < siblings.size(); i++) {
            RuntimeException e = failures.get(i);
            if (e == null) {
                ok++;
                continue;
            }
            String why = e instanceof ReplicationException r ? OperationRun.describe(r) : e.toString();
            run.warn(siblings.get(i).describe() + " could not follow " + newPrimary.describe() + ": " + why);
            topo.event(topo.ctx.storeOn(primary), siblings.get(i).nodeId(), Events.STANDBY_FOLLOW, false, why);
        }
        if (!run.dryRun()) {
            LOG.info("STANDBY FOLLOW executed successfully on {} of {} siblings", ok, siblings.size());
        }
    }
}
