package io.repmgr4j.core;

import io.repmgr4j.ErrorCode;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.ReplicationException;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

/**
 * The cluster-wide topology lock, taken in the background while an operation's other
 * checks run: when a node is unreachable (a partitioned old primary), the lock's connect
 * to it and the check that the old primary is not running wait out the same connect
 * timeout at the same time instead of one after the other. Used by one operation thread.
 */
final class EarlyLock {
    private final Future<TopologyLock> future;
    private final ClusterContext ctx;

    private EarlyLock(ClusterContext ctx, Future<TopologyLock> future) {
        this.ctx = ctx;
        this.future = future;
    }

    static EarlyLock start(ClusterContext ctx, List<NodeRecord> nodes, String what, ErrorCode code,
                           java.util.Optional<java.time.Duration> cap) {
        return start(ctx, nodes, what, code, cap, java.util.Map.of());
    }

    /** {@link #start}, the nodes in {@code capOf} (with a cap given) bounded by their own cap. */
    static EarlyLock start(ClusterContext ctx, List<NodeRecord> nodes, String what, ErrorCode code,
                           java.util.Optional<java.time.Duration> cap, java.util.Map<Integer, java.time.Duration> capOf) {
        return new EarlyLock(ctx, ctx.probePool().submit(() -> cap.isPresent()
                ? TopologyLock.acquire(ctx, nodes, what, code, cap.get(), capOf) : TopologyLock.acquire(ctx, nodes, what, code)));
    }

    /** The lock, or the reason it could not be taken. */
    TopologyLock take() {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            abandon();
            throw new ReplicationException(ErrorCode.INTERNAL, "interrupted while taking the cluster lock");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new ReplicationException(ErrorCode.INTERNAL, "could not take the cluster lock", String.valueOf(e.getCause()),
                    null, e.getCause());
        }
    }

    /** Releases the lock once it is taken, without waiting (an earlier check failed). */
    void abandon() {
        ctx.probePool().execute(() -> {
            try {
                FollowOperation.closeQuietly(future.get());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException e) {
                // it was not taken: nothing to release
            }
        });
    }
}
