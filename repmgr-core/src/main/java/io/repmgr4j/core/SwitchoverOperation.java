package io.repmgr4j.core;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.Events;
import io.repmgr4j.Lsn;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.NodeType;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.VirtualIp;
import io.repmgr4j.core.host.ControlData;
import io.repmgr4j.core.host.PgControl;
import io.repmgr4j.plan.OperationException;
import io.repmgr4j.plan.OperationReport;
import io.repmgr4j.spi.CommandResult;
import io.repmgr4j.sql.ReplicationControl;
import io.repmgr4j.sql.ServerProbe;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code standby switchover}: moves the primary role to a streaming standby on purpose.
 *
 * <p>Order, chosen for the shortest write gap and for safety: CHECKPOINT on the primary
 * (so that its shutdown checkpoint is quick) → fast stop, while pg_controldata is polled
 * every few milliseconds for the clean shutdown and its checkpoint location → wait until
 * the target has received that location (every acknowledged commit is then on the target)
 * → promote the target (pg_promote without waiting, then polling) → record the new roles →
 * at the same time: the old primary rejoins as a standby (with pg_rewind when forced and
 * needed) and the siblings follow → check that every node streams from the new primary.
 *
 * <p>It never ends without a writable primary: when a step fails before the promotion
 * (the primary did not stop in time, did not shut down cleanly, the target did not
 * receive its last WAL, the promotion failed), the old primary is brought back as the
 * primary, and the error says so. When the promotion succeeded but the old primary could
 * not be attached, the new primary stays and the error (SWITCHOVER_INCOMPLETE) says the
 * old one needs a rejoin. Thread-safe (stateless apart from the context).
 */
final class SwitchoverOperation {
    private static final Logger LOG = LoggerFactory.getLogger(SwitchoverOperation.class);
    static final String NAME = "standby switchover";
    static final long DEFAULT_MAX_LAG = 16L * 1024 * 1024;
    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);
    /** How long the target may take to receive the primary's shutdown checkpoint (repmgr's wal_receive_check_timeout). */
    static final Duration WAL_RECEIVE_TIMEOUT = Duration.ofSeconds(30);

    /** The switchover's options. */
    record Options(boolean siblingsFollow, boolean forceRewind, boolean alwaysPromote, long maxLag, Duration timeout,
                   Duration restartDelay) {
    }

    private final Topology topo;
    private final FollowOperation follow;
    private final RejoinOperation rejoin;

    SwitchoverOperation(Topology topo, FollowOperation follow, RejoinOperation rejoin) {
        this.topo = topo;
        this.follow = follow;
        this.rejoin = rejoin;
    }

    /** One switchover's state. */
    private final class State {
        final OperationRun run;
        final Options o;
        List<NodeRecord> nodes;
        NodeRecord target;
        NodeRecord primary;
        NodeConfig targetConfig;
        NodeConfig primaryConfig;
        PgControl primaryControl;
        PgControl targetControl;
        final List<NodeRecord> siblings = new ArrayList<>();
        TopologyLock lock;
        Connection targetConn;
        Future<CommandResult> stop;
        Lsn shutdownCheckpoint;
        boolean promotionRequested;
        /** When the old primary was seen stopped ({@link System#nanoTime()}). */
        long stoppedAt;
        /** The old primary's virtual IP, when this switchover removed it (put back if the switchover aborts). */
        VirtualIp vipReleased;
        boolean promoted;

        State(OperationRun run, Options o) {
            this.run = run;
            this.o = o;
        }

        Duration shutdownTimeout() {
            return Duration.ofSeconds(primaryConfig.shutdownCheckTimeout());
        }

        Duration promoteTimeout() {
            return Duration.ofSeconds(targetConfig.promoteCheckTimeout());
        }
    }

    OperationReport run(int targetId, Options o, boolean dryRun) {
        State s = new State(new OperationRun(NAME, dryRun), o);
        OperationPause pause = null;
        try {
            try {
                checks(s, targetId);
            } catch (OperationRun.CheckFailed f) {
                OperationReport report = s.run.report(false, OperationRun.describe(f.reason()));
                if (dryRun) {
                    return report;
                }
                topo.failureEvent(targetId, Events.STANDBY_SWITCHOVER, f.reason().getMessage());
                throw new OperationException(f.reason().code(), f.reason().getMessage(), f.reason().detail().orElse(null),
                        f.reason().hint().orElse(null), report, f.reason());
            }
            if (!dryRun) {
                try {
                    s.targetConn = topo.ctx.connect(s.target.conninfo());
                } catch (ReplicationException e) {
                    String message = "unable to connect to " + s.target.describe() + "; nothing was changed";
                    topo.failureEvent(targetId, Events.STANDBY_SWITCHOVER, message);
                    throw new OperationException(ErrorCode.SWITCHOVER_FAIL, message, OperationRun.describe(e),
                            "check that the target is running, then try again", s.run.report(false, message), e);
                }
            }
            if (!dryRun) {
                pause = OperationPause.pause(topo.ctx, s.nodes, NAME); // every daemon of both kinds, as repmgr does
            }
            try {
                s.run.run(beforePromotion(s));
            } catch (RuntimeException e) {
                if (!dryRun) {
                    abort(s, e);
                }
            }
            return afterPromotion(s);
        } finally {
            if (pause != null) {
                pause.close();
            }
            FollowOperation.closeQuietly(s.targetConn);
            FollowOperation.closeQuietly(s.lock);
        }
    }

    // ------------------------------------------------------------------ checks

    private void checks(State s, int targetId) {
        OperationRun run = s.run;
        s.nodes = topo.nodes();
        run.check("target is registered", () -> {
            s.target = Topology.require(s.nodes, targetId);
            return OperationRun.Found.ok(s.target.describe());
        });
        run.check("current primary", () -> {
            ConnInfo p;
            try {
                p = topo.ctx.locatePrimary();
            } catch (ReplicationException e) {
                throw new ReplicationException(ErrorCode.SWITCHOVER_FAIL, "no running primary to switch over from",
                        OperationRun.describe(e), "promote a standby instead (promote)");
            }
            s.primary = Topology.byAddress(s.nodes, p).orElseThrow(() -> new ReplicationException(ErrorCode.SWITCHOVER_FAIL,
                    "the running primary at " + p.hosts() + " is not registered", null, "register it first"));
            if (s.primary.nodeId() == targetId) {
                throw new ReplicationException(ErrorCode.SWITCHOVER_FAIL,
                        s.target.describe() + " is already the primary", "a switchover needs a standby as its target",
                        "name one of the primary's standbys");
            }
            return OperationRun.Found.ok(s.primary.describe());
        });
        run.check(s.target.describe() + " is a running standby of the same system", () -> {
            if (!s.target.active()) {
                throw new ReplicationException(ErrorCode.SWITCHOVER_FAIL, s.target.describe() + " is inactive",
                        "its failure was recorded", "rejoin it first");
            }
            if (s.target.type() != NodeType.STANDBY) {
                throw new ReplicationException(ErrorCode.SWITCHOVER_FAIL, s.target.describe() + " is a "
                        + s.target.type().sqlName() + ", not a standby", null, "name a standby");
            }
            if (s.target.upstreamNodeId().isPresent() && s.target.upstreamNodeId().getAsInt() != s.primary.nodeId()) {
                throw new ReplicationException(ErrorCode.SWITCHOVER_FAIL, s.target.describe() + " is not a standby of the primary",
                        "its upstream is node " + s.target.upstreamNodeId().getAsInt() + " (a cascading standby)",
                        "make it follow the primary first (follow), then switch over to it");
            }
            Topology.ServerState t = topo.state(s.target, ErrorCode.SWITCHOVER_FAIL);
            if (!t.inRecovery()) {
                throw new ReplicationException(ErrorCode.SWITCHOVER_FAIL, s.target.describe() + " is not in recovery",
                        "it runs as a primary although the primary is " + s.primary.describe(),
                        "check the cluster with cluster show before switching over");
            }
            Topology.ServerState p = topo.state(s.primary, ErrorCode.SWITCHOVER_FAIL);
            if (p.systemIdentifier() != t.systemIdentifier()) {
                throw new ReplicationException(ErrorCode.SWITCHOVER_FAIL, s.target.describe() + " belongs to another cluster",
                        "system identifiers differ", "check the node's registration");
            }
            return OperationRun.Found.ok("in recovery; system identifier " + Long.toUnsignedString(t.systemIdentifier()));
        });
        run.check("configurations of the primary and the target are known", () -> {
            s.primaryConfig = topo.requireConfig(s.primary, "a switchover stops, checks and restarts the primary");
            s.targetConfig = topo.requireConfig(s.target, "a switchover may have to stop the target when its promotion fails");
            s.primaryControl = topo.ctx.control(s.primaryConfig);
            s.targetControl = topo.ctx.control(s.targetConfig);
            return OperationRun.Found.ok("shutdown_check_timeout " + s.primaryConfig.shutdownCheckTimeout()
                    + " s, promote_check_timeout " + s.targetConfig.promoteCheckTimeout() + " s");
        });
        run.check("the primary can be stopped and started through its runner", () -> {
            int v = topo.ctx.majorVersions(s.primaryControl, s.o.forceRewind() ? List.of("pg_ctl", "pg_rewind")
                    : List.of("pg_ctl")).get(0);
            if (!s.primaryControl.isRunning()) {
                throw new ReplicationException(ErrorCode.SWITCHOVER_FAIL,
                        "pg_ctl finds no server on " + s.primaryConfig.dataDirectory() + " of " + s.primary.describe(),
                        "the primary answers on " + s.primary.conninfo().hosts() + " but not from that data directory",
                        "check data_directory (and the runner) of the primary's configuration");
            }
            ControlData cd = s.primaryControl.controlData();
            long sql = topo.state(s.primary, ErrorCode.SWITCHOVER_FAIL).systemIdentifier();
            if (cd.systemIdentifier() != sql) {
                throw new ReplicationException(ErrorCode.SWITCHOVER_FAIL, "the primary's data_directory belongs to another system",
                        "pg_controldata of " + s.primaryConfig.dataDirectory() + " says " + Long.toUnsignedString(cd.systemIdentifier()),
                        "check data_directory in the primary's configuration");
            }
            if (s.o.forceRewind()) {
                if (!cd.walLogHints() && !cd.dataChecksumsEnabled()) {
                    return OperationRun.Found.warning("PostgreSQL " + v + "; pg_rewind could not run on the old primary"
                            + " (wal_log_hints off, no data checksums) if it were needed");
                }
            }
            return OperationRun.Found.ok("PostgreSQL " + v + " on " + s.primaryControl.runner().describe());
        });
        run.check("no other topology operation is running", () -> {
            s.lock = TopologyLock.acquire(topo.ctx, s.nodes, "standby switchover to node " + targetId, ErrorCode.SWITCHOVER_FAIL);
            return OperationRun.Found.ok("cluster-wide lock taken on nodes " + s.lock.nodeIds());
        });
        run.check(s.target.describe() + " streams from the primary and is caught up", () -> caughtUp(s));
        if (s.o.siblingsFollow()) {
            run.check("siblings to follow", () -> {
                s.siblings.addAll(Topology.standbysOf(s.nodes, s.primary.nodeId(), s.target.nodeId()));
                List<String> down = new ArrayList<>();
                for (NodeRecord n : s.siblings) {
                    try {
                        topo.state(n, ErrorCode.SWITCHOVER_FAIL);
                    } catch (ReplicationException e) {
                        down.add(n.describe());
                    }
                }
                String names = s.siblings.isEmpty() ? "none" : s.siblings.stream().map(NodeRecord::describe).toList().toString();
                return down.isEmpty() ? OperationRun.Found.ok(names)
                        : OperationRun.Found.warning(names + "; not reachable now: " + down);
            });
        }
    }

    /**
     * Waits (up to the timeout; a dry run looks once) until the target streams from the
     * primary and lags at most maxLag bytes: a standby cloned a moment ago, or one that
     * fell behind, is waited for rather than promoted without the primary's latest WAL.
     */
    private OperationRun.Found caughtUp(State s) {
        long t0 = System.nanoTime();
        long deadline = t0 + s.o.timeout().toNanos();
        String last;
        while (true) {
            last = lagProblem(s);
            if (last == null) {
                long waited = (System.nanoTime() - t0) / 1_000_000;
                return waited > 500 ? OperationRun.Found.warning("caught up after waiting " + waited + " ms")
                        : OperationRun.Found.ok("streaming; within the allowed lag of " + StandbyCloning.prettySize(s.o.maxLag()));
            }
            if (s.run.dryRun()) {
                return OperationRun.Found.warning(last + "; a real run waits up to " + Topology.seconds(s.o.timeout())
                        + " for it, then refuses");
            }
            if (System.nanoTime() > deadline) {
                throw new ReplicationException(ErrorCode.SWITCHOVER_FAIL,
                        s.target.describe() + " is not ready to become primary after waiting " + Topology.seconds(s.o.timeout()),
                        last, "check the standby's log and its primary_conninfo; a switchover to it would lose writes");
            }
            Topology.sleep(Duration.ofMillis(100), ErrorCode.SWITCHOVER_FAIL);
        }
    }

    /** Why the target is not ready now, or null when it is. */
    private String lagProblem(State s) {
        if (!Attachment.isAttached(topo.ctx, s.target.conninfo(), s.target.nodeName(), s.primary.conninfo())) {
            return s.target.describe() + " is not streaming from " + s.primary.describe();
        }
        try {
            Lsn primaryLsn = topo.withConnection(s.primary.conninfo(), ServerProbe::currentLsn);
            Optional<Lsn> received = topo.withConnection(s.target.conninfo(), ReplicationControl::receiveLsn);
            if (received.isEmpty()) {
                return s.target.describe() + " has not received any WAL yet";
            }
            long lag = primaryLsn.minus(received.get());
            return lag > s.o.maxLag() ? "replication lag is " + lag + " bytes (primary at " + primaryLsn + ", received "
                    + received.get() + "), more than the limit of " + StandbyCloning.prettySize(s.o.maxLag()) : null;
        } catch (ReplicationException e) {
            return OperationRun.describe(e);
        }
    }

    // ------------------------------------------------------------------ before the promotion

    private List<OperationRun.PlanStep> beforePromotion(State s) {
        String p = s.primary.describe();
        String t = s.target.describe();
        List<OperationRun.PlanStep> plan = new ArrayList<>();
        plan.add(new OperationRun.PlanStep("issue CHECKPOINT on " + p, () -> {
            topo.withConnection(s.primary.conninfo(), c -> {
                ReplicationControl.checkpoint(c);
                return null;
            });
            return null;
        }));
        plan.add(new OperationRun.PlanStep("stop " + p + " (fast) and wait up to " + s.primaryConfig.shutdownCheckTimeout()
                + " s (\"shutdown_check_timeout\") for a clean shutdown", () -> stopPrimary(s)));
        VirtualIp.of(s.primaryConfig).ifPresent(v -> plan.add(new OperationRun.PlanStep("remove the virtual IP " + v.cidr()
                + " on " + v.iface() + " from the host of " + p + ", before it starts again as a standby", () -> {
            String done = vipHost(s.primary, v).release();
            s.vipReleased = v;
            return done;
        })));
        plan.add(new OperationRun.PlanStep("wait until " + t + " has received the shutdown checkpoint of " + p,
                () -> awaitShutdownCheckpoint(s)));
        plan.add(new OperationRun.PlanStep("promote " + t + " (pg_promote, waiting up to " + s.targetConfig.promoteCheckTimeout()
                + " s (\"promote_check_timeout\"))", () -> {
            s.promotionRequested = true;
            String d = PromoteOperation.promoteAndWait(s.targetConn, s.target, s.promoteTimeout());
            s.promoted = true;
            topo.ctx.rememberPrimary(s.target.conninfo());
            return d;
        }));
        return plan;
    }

    /**
     * Starts the stop in the background and polls the control file until it says "shut
     * down"; the checkpoint it names is the primary's last WAL record.
     */
    private String stopPrimary(State s) {
        Duration timeout = s.shutdownTimeout();
        s.stop = topo.ctx.probePool().submit(() -> s.primaryControl.stop(PgControl.StopMode.FAST, timeout));
        long deadline = System.nanoTime() + timeout.toNanos();
        int polls = 0;
        while (true) {
            polls++;
            ControlData cd = null;
            try {
                cd = s.primaryControl.controlData();
            } catch (ReplicationException e) {
                LOG.debug("pg_controldata while the primary stops: {}", e.getMessage()); // a torn read; ask again
            }
            if (cd != null && cd.shutDownCleanly()) {
                s.stoppedAt = System.nanoTime();
                s.shutdownCheckpoint = cd.checkpointLocation();
                return "current primary has been cleanly shut down at location " + s.shutdownCheckpoint
                        + " (" + polls + " checks)";
            }
            if (s.stop.isDone()) {
                Optional<ReplicationException> failed = outcome(s.stop);
                ControlData now = s.primaryControl.controlData();
                if (now.shutDownCleanly()) {
                    continue;
                }
                if (failed.isPresent() || s.primaryControl.isRunning()) {
                    throw new ReplicationException(ErrorCode.SWITCHOVER_FAIL, "unable to stop " + s.primary.describe(),
                            failed.map(OperationRun::describe).orElse("the stop command returned, but the server still runs"),
                            "check service_stop_command or pg_ctl on the primary's host");
                }
                if (!s.o.alwaysPromote()) {
                    throw new ReplicationException(ErrorCode.SWITCHOVER_FAIL,
                            s.primary.describe() + " did not shut down cleanly",
                            "pg_controldata says \"" + now.clusterState() + "\": its last WAL may not have reached the target",
                            "find out why it crashed; alwaysPromote(true) promotes the target anyway (writes may be lost)");
                }
                s.stoppedAt = System.nanoTime();
                s.run.warn(s.primary.describe() + " stopped without a clean shutdown (\"" + now.clusterState()
                        + "\"); promoting anyway (always promote): writes it made last may be lost");
                return "stopped, not cleanly (\"" + now.clusterState() + "\")";
            }
            if (System.nanoTime() > deadline) {
                throw new ReplicationException(ErrorCode.SWITCHOVER_FAIL,
                        s.primary.describe() + " did not shut down within " + Topology.seconds(timeout) + " (\"shutdown_check_timeout\")",
                        "pg_controldata still says \"" + (cd == null ? "unknown" : cd.clusterState()) + "\"",
                        "check why the primary does not stop (long transactions, a hung service_stop_command), or raise"
                                + " shutdown_check_timeout");
            }
            Topology.sleep(Topology.HOST_POLL, ErrorCode.SWITCHOVER_FAIL);
        }
    }

    private static Optional<ReplicationException> outcome(Future<CommandResult> stop) {
        try {
            stop.get();
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.of(new ReplicationException(ErrorCode.SWITCHOVER_FAIL, "interrupted"));
        } catch (ExecutionException e) {
            return Optional.of(e.getCause() instanceof ReplicationException r ? r
                    : new ReplicationException(ErrorCode.SWITCHOVER_FAIL, "the stop command failed", e.getCause().toString(), null));
        }
    }

    /** Polls the target's receive location until it is past the shutdown checkpoint's start. */
    private String awaitShutdownCheckpoint(State s) {
        if (s.shutdownCheckpoint == null) {
            return "skipped: no clean shutdown checkpoint to wait for (always promote)";
        }
        long t0 = System.nanoTime();
        long deadline = t0 + WAL_RECEIVE_TIMEOUT.toNanos();
        Optional<Lsn> received = Optional.empty();
        while (true) {
            received = ReplicationControl.receiveLsn(s.targetConn);
            if (received.isPresent() && received.get().compareTo(s.shutdownCheckpoint) > 0) {
                return "received up to " + received.get() + " after " + (System.nanoTime() - t0) / 1_000_000 + " ms";
            }
            if (System.nanoTime() > deadline) {
                String why = s.target.describe() + " received WAL only up to " + received.map(Lsn::toString).orElse("nothing")
                        + ", not the shutdown checkpoint at " + s.shutdownCheckpoint;
                if (s.o.alwaysPromote()) {
                    s.run.warn(why + "; promoting anyway (always promote): the primary's last writes may be lost");
                    return why;
                }
                throw new ReplicationException(ErrorCode.SWITCHOVER_FAIL,
                        s.target.describe() + " did not receive the primary's last WAL within " + Topology.seconds(WAL_RECEIVE_TIMEOUT),
                        why, "check the standby's connection to the primary; alwaysPromote(true) would promote it anyway"
                        + " (writes may be lost)");
            }
            Topology.sleep(Topology.FAST_POLL, ErrorCode.SWITCHOVER_FAIL);
        }
    }

    /**
     * A step before the promotion failed: makes sure the old primary is the writable
     * primary again (or, if the target was promoted after all, goes on with it), then throws.
     */
    private void abort(State s, RuntimeException cause) {
        ReplicationException why = cause instanceof ReplicationException r ? r
                : new ReplicationException(ErrorCode.SWITCHOVER_FAIL, cause.toString(), null, null, cause);
        if (s.promotionRequested) {
            Boolean inRecovery = stillStandby(s);
            if (Boolean.FALSE.equals(inRecovery)) {
                s.run.warn("the promotion of " + s.target.describe() + " reported \"" + why.getMessage()
                        + "\", but the server is a primary now; going on with it");
                s.promoted = true;
                topo.ctx.rememberPrimary(s.target.conninfo());
                return;
            }
            try {
                s.run.step("stop " + s.target.describe() + " so that a late promotion cannot make a second primary", () -> {
                    s.targetControl.stop(PgControl.StopMode.FAST, s.promoteTimeout());
                    return "database cluster state: " + s.targetControl.controlData().clusterState();
                });
            } catch (RuntimeException e) {
                throw fail(s, why, "the promotion of " + s.target.describe() + " failed and the target could not be stopped ("
                        + e.getMessage() + "); the old primary was NOT restarted, to rule out two primaries: the cluster has no"
                        + " writable primary", "find out whether " + s.target.describe() + " promoted; start the old primary"
                        + " only if it did not");
            }
            if (s.targetControl.controlData().clusterState().equals("shut down")) {
                // it finished promoting while it was being stopped: it is the new primary
                s.run.step("start " + s.target.describe() + " again: it had finished its promotion", () -> {
                    s.targetControl.start(s.promoteTimeout());
                    return null;
                });
                s.promoted = true;
                topo.ctx.rememberPrimary(s.target.conninfo());
                return;
            }
        }
        String restored;
        try {
            restored = s.run.step("bring " + s.primary.describe() + " back as the primary", () -> restorePrimary(s));
            if (s.vipReleased != null) {
                VirtualIp v = s.vipReleased;
                s.run.step("put the virtual IP " + v.cidr() + " back on the host of " + s.primary.describe(),
                        () -> vipHost(s.primary, v).take(false, () -> true));
            }
        } catch (RuntimeException e) {
            throw fail(s, why, "the switchover failed (" + why.getMessage() + ") and " + s.primary.describe()
                    + " could not be brought back (" + e.getMessage() + "): the cluster has no writable primary",
                    "start " + s.primary.describe() + " by hand (its data directory is intact); do not promote "
                            + s.target.describe() + " unless " + s.primary.describe() + " cannot be started");
        }
        if (s.promotionRequested) {
            try {
                s.run.step("start " + s.target.describe() + " again as a standby", () -> {
                    s.targetControl.start(s.o.timeout());
                    return null;
                });
            } catch (RuntimeException e) {
                s.run.warn(s.target.describe() + " could not be started again: " + e.getMessage());
            }
        }
        throw fail(s, why, "switchover aborted: " + why.getMessage() + "; " + restored,
                "the cluster is as before the switchover; fix the cause and try again");
    }

    private OperationException fail(State s, ReplicationException why, String message, String hint) {
        OperationReport report = s.run.report(false, message);
        topo.failureEvent(s.target.nodeId(), Events.STANDBY_SWITCHOVER, message);
        return new OperationException(ErrorCode.SWITCHOVER_FAIL, message, why.detail().orElse(null), hint, report, why);
    }

    /** null when the target cannot be asked. */
    private Boolean stillStandby(State s) {
        try {
            return topo.withConnection(s.target.conninfo(), ServerProbe::isInRecovery);
        } catch (ReplicationException e) {
            return null;
        }
    }

    /**
     * Waits for the stop command to end, then: the primary still runs as primary (it never
     * stopped), or it is started again (it had stopped).
     */
    private String restorePrimary(State s) {
        Duration timeout = s.shutdownTimeout();
        if (s.stop != null) {
            try {
                s.stop.get(timeout.toMillis() + 15_000, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException e) {
                LOG.debug("the stop command ended with {}", e.toString());
            }
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (topo.ctx.isRunningPrimary(s.primary.conninfo())) {
                return s.primary.describe() + " did not stop and is still the primary";
            }
            if (!s.primaryControl.isRunning()) {
                break;
            }
            if (System.nanoTime() > deadline) {
                throw new ReplicationException(ErrorCode.SWITCHOVER_FAIL, s.primary.describe()
                        + " neither accepts connections nor stopped within " + Topology.seconds(timeout), null, null);
            }
            Topology.sleep(Duration.ofMillis(100), ErrorCode.SWITCHOVER_FAIL);
        }
        s.primaryControl.start(s.o.timeout());
        if (!topo.ctx.isRunningPrimary(s.primary.conninfo())) {
            throw new ReplicationException(ErrorCode.SWITCHOVER_FAIL, s.primary.describe()
                    + " was started but does not accept writes", null, "check its log");
        }
        topo.ctx.rememberPrimary(s.primary.conninfo());
        return s.primary.describe() + " was restarted as the primary";
    }

    // ------------------------------------------------------------------ after the promotion

    private OperationReport afterPromotion(State s) {
        OperationRun run = s.run;
        String p = s.primary.describe();
        String t = s.target.describe();
        List<String> incomplete = new ArrayList<>();
        VirtualIp.of(s.targetConfig).ifPresent(v -> {
            // the daemons are paused: the switchover moves the address itself, at once; when it
            // took it off the old primary just now, nobody else can hold it (no duplicate check)
            boolean check = s.vipReleased == null || !s.vipReleased.address().equals(v.address());
            try {
                run.step("add the virtual IP " + v.cidr() + " on " + v.iface() + " to the host of " + t
                        + " and announce it (gratuitous ARP)", () -> vipHost(s.target, v).take(check, () -> true));
            } catch (RuntimeException e) {
                run.warn("could not add the virtual IP to the host of " + t + ": " + e.getMessage()
                        + "; its daemon adds it once it is unpaused");
            }
        });
        try {
            run.step("record " + t + " as primary and " + p + " as its standby (voting term + 1, standby_promote)",
                    () -> PromoteOperation.recordPromotion(topo, s.target, Optional.of(s.primary),
                            r -> NodeRecord.builder().from(r).type(NodeType.STANDBY).upstreamNodeId(s.target.nodeId())
                                    .active(false).build()));
        } catch (RuntimeException e) {
            incomplete.add("the metadata could not be updated: " + e.getMessage());
        }
        NodeRecord newPrimary = NodeRecord.builder().from(s.target).type(NodeType.PRIMARY)
                .upstreamNodeId(java.util.OptionalInt.empty()).build();
        List<Runnable> tasks = new ArrayList<>();
        tasks.add(() -> demote(s, newPrimary));
        int demoteIndex = 0;
        List<NodeRecord> siblings = s.siblings;
        for (NodeRecord sib : siblings) {
            tasks.add(() -> {
                FollowOperation.Assessment[] a = {new FollowOperation.Assessment(sib, newPrimary, 130000, null)};
                run.step("check that " + sib.describe() + " can follow " + t, () -> {
                    a[0] = follow.assess(sib, newPrimary);
                    return a[0].verdict().detail();
                });
                follow.apply(run, a[0], newPrimary.conninfo(), s.o.timeout(), false);
            });
        }
        List<RuntimeException> failures = run.parallel(tasks, topo.ctx.probePool());
        boolean demoted = failures.get(demoteIndex) == null;
        if (!demoted) {
            RuntimeException e = failures.get(demoteIndex);
            incomplete.add(p + " could not be attached as a standby of " + t + ": "
                    + (e instanceof ReplicationException r ? OperationRun.describe(r) : e.toString()));
        }
        List<NodeRecord> followed = new ArrayList<>();
        for (int i = 0; i < siblings.size(); i++) {
            RuntimeException e = failures.get(i + 1);
            if (e == null) {
                followed.add(siblings.get(i));
            } else {
                String why = e instanceof ReplicationException r ? OperationRun.describe(r) : e.toString();
                run.warn(siblings.get(i).describe() + " could not follow " + t + ": " + why);
                topo.event(topo.ctx.storeOn(s.target.conninfo()), siblings.get(i).nodeId(), Events.STANDBY_FOLLOW, false, why);
            }
        }
        run.step("check that every node streams from " + t, () -> {
            if (run.dryRun()) {
                return null;
            }
            List<String> ok = new ArrayList<>();
            if (!topo.ctx.isRunningPrimary(s.target.conninfo())) {
                throw new ReplicationException(ErrorCode.SWITCHOVER_INCOMPLETE, t + " does not accept writes", null, null);
            }
            List<NodeRecord> check = new ArrayList<>(followed);
            if (demoted) {
                check.add(0, s.primary);
            }
            for (NodeRecord n : check) {
                if (Attachment.isAttached(topo.ctx, n.conninfo(), n.nodeName(), s.target.conninfo())) {
                    ok.add(n.nodeName());
                } else {
                    run.warn(n.describe() + " is not streaming from " + t + " any more");
                }
            }
            return "streaming from " + s.target.nodeName() + ": " + ok;
        });
        SyncStep.configure(topo.ctx, run, newPrimary, Duration.ofSeconds(5));
        if (run.dryRun()) {
            return run.report(true, t + " would be promoted to primary and " + p + " demoted to standby"
                    + (s.siblings.isEmpty() ? "" : "; " + s.siblings.size() + " sibling(s) would follow"));
        }
        String details = "node \"" + s.target.nodeName() + "\" (ID: " + s.target.nodeId() + ") promoted to primary, node \""
                + s.primary.nodeName() + "\" (ID: " + s.primary.nodeId() + ") demoted to standby";
        if (incomplete.isEmpty()) {
            topo.event(topo.ctx.storeOn(s.target.conninfo()), s.target.nodeId(), Events.STANDBY_SWITCHOVER, true, details);
            if (!s.siblings.isEmpty()) {
                LOG.info("STANDBY FOLLOW executed successfully on {} of {} siblings", followed.size(), s.siblings.size());
            }
            return run.report(true, details);
        }
        String message = "switchover incomplete: " + t + " is the new primary, but " + String.join("; ", incomplete);
        OperationReport report = run.report(false, message);
        topo.event(topo.ctx.storeOn(s.target.conninfo()), s.target.nodeId(), Events.STANDBY_SWITCHOVER, false, message);
        throw new OperationException(ErrorCode.SWITCHOVER_INCOMPLETE, message, null,
                demoted ? "see the report's steps" : "rejoin " + p + " to " + t + " (node rejoin, with forceRewind if it diverged)",
                report, null);
    }

    private io.repmgr4j.core.host.VirtualIpHost vipHost(NodeRecord n, VirtualIp v) {
        return new io.repmgr4j.core.host.VirtualIpHost(v, topo.ctx.runner(n.nodeId()), n.nodeName());
    }

    /** The old primary rejoins as a standby of the new one (no node_rejoin event: the switchover writes its own). */
    private void demote(State s, NodeRecord newPrimary) {
        OperationRun run = s.run;
        if (!run.dryRun() && s.stop != null) {
            Optional<ReplicationException> stopFailed;
            try {
                s.stop.get(s.shutdownTimeout().toMillis() + 15_000, TimeUnit.MILLISECONDS);
                stopFailed = Optional.empty();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                stopFailed = Optional.of(new ReplicationException(ErrorCode.SWITCHOVER_INCOMPLETE, "interrupted"));
            } catch (ExecutionException | TimeoutException e) {
                stopFailed = Optional.of(new ReplicationException(ErrorCode.SWITCHOVER_INCOMPLETE,
                        "the stop command of " + s.primary.describe() + " did not end well", e.toString(), null));
            }
            if (stopFailed.isPresent() && s.primaryControl.isRunning()) {
                throw stopFailed.get();
            }
        }
        RejoinOperation.Attach a = new RejoinOperation.Attach(s.primaryConfig, s.primary, newPrimary, s.primaryControl,
                s.o.forceRewind(), s.o.alwaysPromote(), s.o.timeout(), false);
        a.leaving = s.siblings.stream().map(NodeRecord::nodeId).collect(java.util.stream.Collectors.toSet());
        run.step("check that " + s.primary.describe() + " can attach to " + newPrimary.describe(), () -> {
            List<String> found = new ArrayList<>();
            found.add(rejoin.checkStopped(a).detail());
            found.add(rejoin.checkSystem(a).detail());
            found.add(rejoin.checkClean(a).detail());
            found.add(rejoin.checkAttach(a).detail());
            return String.join("; ", found);
        });
        if (!s.o.restartDelay().isZero()) {
            run.step("keep " + s.primary.describe() + " stopped until " + s.o.restartDelay().toMillis()
                    + " ms after its shutdown (oldPrimaryRestartDelay: a load balancer marks it down meanwhile)", () -> {
                long left = s.stoppedAt + s.o.restartDelay().toNanos() - System.nanoTime();
                if (left > 0) {
                    Topology.sleep(Duration.ofNanos(left), ErrorCode.SWITCHOVER_INCOMPLETE);
                }
                return left > 0 ? "waited " + left / 1_000_000 + " ms" : "already past";
            });
        }
        if (run.dryRun()) {
            run.step("write the recovery configuration of " + s.primary.describe() + ", start it and wait until it streams from "
                    + newPrimary.describe() + (s.o.forceRewind() ? " (pg_rewind first if needed)" : ""), () -> null);
            return;
        }
        run.run(rejoin.steps(a));
    }
}
