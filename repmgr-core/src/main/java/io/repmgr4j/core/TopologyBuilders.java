package io.repmgr4j.core;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.plan.OperationReport;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The builders of the topology operations (promote, follow, switchover, rejoin) of
 * {@link ReplicationCluster}: they collect options and hand them to the operation
 * classes. A builder is not thread-safe; the operations are.
 */
final class TopologyBuilders {
    private final ClusterContext ctx;
    private final Runnable checkOpen;
    private final FollowOperation follow;
    private final PromoteOperation promote;
    private final RejoinOperation rejoin;
    private final SwitchoverOperation switchover;

    TopologyBuilders(ClusterContext ctx, Runnable checkOpen) {
        this.ctx = ctx;
        this.checkOpen = checkOpen;
        Topology topo = new Topology(ctx);
        this.follow = new FollowOperation(topo);
        this.promote = new PromoteOperation(topo, follow);
        this.rejoin = new RejoinOperation(topo);
        this.switchover = new SwitchoverOperation(topo, follow, rejoin);
    }

    private static Duration positive(Duration d) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException("a timeout must be positive");
        }
        return d;
    }

    ReplicationCluster.StandbyPromotion promote(NodeConfig node) {
        Objects.requireNonNull(node, "node");
        return TentativeBinding.wrap(ctx, node, ReplicationCluster.StandbyPromotion.class, promote(node.nodeId()));
    }

    ReplicationCluster.StandbyPromotion promote(int nodeId) {
        return new ReplicationCluster.StandbyPromotion() {
            private boolean siblingsFollow;
            private boolean force;
            private Optional<Duration> timeout = Optional.empty();

            @Override
            public ReplicationCluster.StandbyPromotion siblingsFollow(boolean siblingsFollow) {
                this.siblingsFollow = siblingsFollow;
                return this;
            }

            @Override
            public ReplicationCluster.StandbyPromotion force(boolean force) {
                this.force = force;
                return this;
            }

            @Override
            public ReplicationCluster.StandbyPromotion timeout(Duration timeout) {
                this.timeout = Optional.of(positive(timeout));
                return this;
            }

            @Override
            public OperationReport plan() {
                checkOpen.run();
                return promote.run(nodeId, siblingsFollow, force, timeout, true);
            }

            @Override
            public OperationReport execute() {
                checkOpen.run();
                try (OperationDeadline d = OperationDeadline.within(timeout)) {
                    return promote.run(nodeId, siblingsFollow, force, timeout, false);
                }
            }
        };
    }

    ReplicationCluster.StandbyFollow follow(NodeConfig standby) {
        Objects.requireNonNull(standby, "standby");
        return TentativeBinding.wrap(ctx, standby, ReplicationCluster.StandbyFollow.class, follow(standby.nodeId()));
    }

    ReplicationCluster.StandbyFollow follow(int nodeId) {
        return new ReplicationCluster.StandbyFollow() {
            private OptionalInt upstream = OptionalInt.empty();
            private Optional<Duration> timeout = Optional.empty();

            @Override
            public ReplicationCluster.StandbyFollow upstreamNodeId(int upstreamNodeId) {
                this.upstream = OptionalInt.of(upstreamNodeId);
                return this;
            }

            @Override
            public ReplicationCluster.StandbyFollow timeout(Duration timeout) {
                this.timeout = Optional.of(positive(timeout));
                return this;
            }

            @Override
            public OperationReport plan() {
                checkOpen.run();
                return follow.run(nodeId, upstream, timeout, true);
            }

            @Override
            public OperationReport execute() {
                checkOpen.run();
                try (OperationDeadline d = OperationDeadline.within(timeout)) {
                    return follow.run(nodeId, upstream, timeout, false);
                }
            }
        };
    }

    ReplicationCluster.StandbySwitchover switchover(NodeConfig target) {
        Objects.requireNonNull(target, "target");
        return TentativeBinding.wrap(ctx, target, ReplicationCluster.StandbySwitchover.class, switchover(target.nodeId()));
    }

    ReplicationCluster.StandbySwitchover switchover(int targetId) {
        return new ReplicationCluster.StandbySwitchover() {
            private boolean siblingsFollow;
            private boolean forceRewind;
            private boolean alwaysPromote;
            private long maxLag = SwitchoverOperation.DEFAULT_MAX_LAG;
            private Duration timeout = SwitchoverOperation.DEFAULT_TIMEOUT;
            private Duration restartDelay = Duration.ZERO;

            @Override
            public ReplicationCluster.StandbySwitchover oldPrimaryRestartDelay(Duration delay) {
                Objects.requireNonNull(delay, "delay");
                if (delay.isNegative() || delay.compareTo(Duration.ofMinutes(10)) > 0) {
                    throw new IllegalArgumentException("oldPrimaryRestartDelay must be between 0 and 10 minutes, not " + delay
                            + " (the time a load balancer takes to mark a node down, e.g. HAProxy's fall x inter)");
                }
                this.restartDelay = delay;
                return this;
            }

            @Override
            public ReplicationCluster.StandbySwitchover siblingsFollow(boolean siblingsFollow) {
                this.siblingsFollow = siblingsFollow;
                return this;
            }

            @Override
            public ReplicationCluster.StandbySwitchover forceRewind(boolean forceRewind) {
                this.forceRewind = forceRewind;
                return this;
            }

            @Override
            public ReplicationCluster.StandbySwitchover alwaysPromote(boolean alwaysPromote) {
                this.alwaysPromote = alwaysPromote;
                return this;
            }

            @Override
            public ReplicationCluster.StandbySwitchover maxLag(long bytes) {
                if (bytes < 0) {
                    throw new IllegalArgumentException("maxLag must not be negative");
                }
                this.maxLag = bytes;
                return this;
            }

            @Override
            public ReplicationCluster.StandbySwitchover timeout(Duration timeout) {
                this.timeout = positive(timeout);
                return this;
            }

            private SwitchoverOperation.Options options() {
                return new SwitchoverOperation.Options(siblingsFollow, forceRewind, alwaysPromote, maxLag, timeout,
                        restartDelay);
            }

            @Override
            public OperationReport plan() {
                checkOpen.run();
                return switchover.run(targetId, options(), true);
            }

            @Override
            public OperationReport execute() {
                checkOpen.run();
                try (OperationDeadline d = OperationDeadline.enter(timeout)) {
                    return switchover.run(targetId, options(), false);
                }
            }
        };
    }

    ReplicationCluster.NodeRejoin rejoin(NodeConfig node) {
        Objects.requireNonNull(node, "node");
        return TentativeBinding.wrap(ctx, node, ReplicationCluster.NodeRejoin.class, new ReplicationCluster.NodeRejoin() {
            private Optional<ConnInfo> target = Optional.empty();
            private OptionalInt targetId = OptionalInt.empty();
            private boolean forceRewind;
            private boolean recoverCrashed;
            private Optional<Duration> timeout = Optional.empty();

            @Override
            public ReplicationCluster.NodeRejoin target(ConnInfo target) {
                this.target = Optional.of(Objects.requireNonNull(target, "target"));
                this.targetId = OptionalInt.empty();
                return this;
            }

            @Override
            public ReplicationCluster.NodeRejoin targetNodeId(int targetNodeId) {
                this.targetId = OptionalInt.of(targetNodeId);
                this.target = Optional.empty();
                return this;
            }

            @Override
            public ReplicationCluster.NodeRejoin forceRewind(boolean forceRewind) {
                this.forceRewind = forceRewind;
                return this;
            }

            @Override
            public ReplicationCluster.NodeRejoin recoverCrashedNode(boolean recover) {
                this.recoverCrashed = recover;
                return this;
            }

            @Override
            public ReplicationCluster.NodeRejoin timeout(Duration timeout) {
                this.timeout = Optional.of(positive(timeout));
                return this;
            }

            @Override
            public OperationReport plan() {
                checkOpen.run();
                return rejoin.run(node, target, targetId, forceRewind, recoverCrashed, timeout, true);
            }

            @Override
            public OperationReport execute() {
                checkOpen.run();
                try (OperationDeadline d = OperationDeadline.within(timeout)) {
                    return rejoin.run(node, target, targetId, forceRewind, recoverCrashed, timeout, false);
                }
            }
        });
    }
}
