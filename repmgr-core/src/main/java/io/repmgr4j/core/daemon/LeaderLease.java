package io.repmgr4j.core.daemon;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.spi.ConsensusException;
import io.repmgr4j.spi.ConsensusStore;
import io.repmgr4j.spi.Leadership;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One daemon's side of a {@link ConsensusStore} ({@code consensus = etcd}): the hook the
 * monitoring loop consults, kept out of the loop's own code.
 * <ul>
 *   <li>While this node's server is a writable primary, its own thread holds the leader
 *       key: it campaigns when it holds none, renews every ttl/3 (calls run on a worker, so
 *       a hanging call never delays a decision), and fences the server through
 *       {@link FenceGuard} when the key names another node, or when the lease could end
 *       before the fence completes: at {@code validUntil − FENCE_DEADLINE − 2 ticks} on this
 *       host's monotonic clock. A primary that cannot get the key for one ttl (etcd
 *       unreachable, or another node holds it) fences too.</li>
 *   <li>A standby that won the election promotes only after {@link #takeForPromotion}
 *       took the key in a transaction; it waits (bounded by ttl + timeout + 1 s) while
 *       another node holds it, and gives up when the old primary answers again.</li>
 *   <li>When the primary's server is gone (its port refuses connections) the key is
 *       resigned at once, so a standby does not wait for the lease; when it is only silent,
 *       renewals stop and the lease runs out. When it answers as a standby (fenced,
 *       demoted by a switchover) the key is resigned.</li>
 *   <li>A readonly fence is lifted only after the key was taken again.</li>
 * </ul>
 * Thread-safe: the monitoring thread and its own thread call it.
 */
final class LeaderLease implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LeaderLease.class);
    private static final Duration TICK = FenceSettings.TICK;
    private static final Duration RETRY = Duration.ofMillis(200);

    private final ConsensusStore store;
    private final String name;
    private final ConnInfo conninfo;
    private final Duration timeout;
    private final long renewEveryNanos;
    private final long fenceLeadNanos;
    private final Thread thread;
    private final ExecutorService calls;

    private volatile FenceGuard guard;
    private volatile Leadership held;
    /** The local server is a writable primary and not fenced (set by the monitoring loop each cycle). */
    private volatile boolean primaryActive;
    /** A promotion is under way with the key held: keep renewing, do not resign. */
    private volatile boolean promoting;
    private volatile boolean closed;
    /** The local server did not answer in the last cycle (its port did not refuse: no evidence it is gone). */
    private volatile boolean localDown;
    private volatile String blockedReason;
    private volatile long noKeySince;
    private long nextCallAt;
    private Future<?> inFlight;
    /** Failed campaigns in a row (calls thread only), to log the first one as a warning. */
    private int campaignFailures;

    /**
     * @throws ReplicationException BAD_CONFIG when the lease is too short for a renewal, one
     *     call timeout and the fence to fit in it
     */
    LeaderLease(ConsensusStore store, String name, ConnInfo conninfo, Duration callTimeout, String threadName) {
        this.store = store;
        this.name = name;
        this.conninfo = conninfo;
        this.timeout = callTimeout;
        Duration ttl = store.ttl();
        this.renewEveryNanos = ttl.toNanos() / 3;
        this.fenceLeadNanos = FenceSettings.FENCE_DEADLINE.plus(TICK.multipliedBy(2)).toNanos();
        long need = renewEveryNanos + callTimeout.toNanos() + fenceLeadNanos;
        if (need >= ttl.toNanos()) {
            throw new ReplicationException(ErrorCode.BAD_CONFIG, "etcd_ttl " + ttl.toSeconds() + " s is too short",
                    "the primary renews every ttl/3 (" + renewEveryNanos / 1_000_000 + " ms); one renewal may take the call"
                            + " timeout (" + callTimeout.toMillis() + " ms) and the fence needs " + fenceLeadNanos / 1_000_000
                            + " ms before the lease can end: " + need / 1_000_000 + " ms do not fit in " + ttl.toMillis() + " ms",
                    "raise etcd_ttl (default 10 s) or lower etcd_timeout");
        }
        this.calls = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, threadName + "-call");
            t.setDaemon(true);
            return t;
        });
        this.thread = new Thread(this::loop, threadName);
        this.thread.setDaemon(true);
    }

    /** For logs: the safety figures. */
    String figures() {
        return store.kind() + " lease " + store.ttl().toSeconds() + " s, renewed every " + renewEveryNanos / 1_000_000
                + " ms, fence decided " + fenceLeadNanos / 1_000_000 + " ms before the lease can end";
    }

    /** Starts the renewal thread; {@code guard} fences this node. */
    void start(FenceGuard guard) {
        this.guard = guard;
        thread.start();
    }

    /** Each monitoring cycle: whether the local server is a writable primary that is not fenced. */
    void observe(boolean writablePrimary) {
        localDown = false;
        primaryActive = writablePrimary;
        if (writablePrimary) {
            promoting = false;
        }
    }

    /** Why the last promotion attempt was refused by the store, or null. */
    String blockedReason() {
        return blockedReason;
    }

    // ------------------------------------------------------------------ standby side

    /**
     * Takes the leader key before this standby promotes. Waits while another node holds it
     * (the old primary resigns, or its lease runs out), at most ttl + call timeout + 1 s.
     *
     * @param upstreamBack whether the failed primary answers again (then: no promotion)
     * @param pause sleeps (and throws when the daemon closes)
     * @return true when the key is held: promote now
     */
    boolean takeForPromotion(BooleanSupplier upstreamBack, Consumer<Duration> pause) {
        long deadline = System.nanoTime() + store.ttl().plus(timeout).plusSeconds(1).toNanos();
        String why = null;
        int polls = 0;
        while (true) {
            try {
                Optional<Leadership> l = store.campaign(name);
                if (l.isPresent()) {
                    held = l.get();
                    promoting = true;
                    blockedReason = null;
                    LOG.info("[{}] took the leader key (term {}): promoting", name, l.get().term());
                    return true;
                }
                why = store.leader().map(x -> "the leader key is held by " + x.name() + " (term " + x.term() + ")")
                        .orElse("the leader key was taken meanwhile");
            } catch (ConsensusException e) {
                why = "the consensus store is unavailable: " + e.getMessage();
            }
            if (System.nanoTime() > deadline) {
                blockedReason = why;
                LOG.warn("[{}] no promotion: {}", name, why);
                return false;
            }
            if (polls++ % 5 == 4 && upstreamBack.getAsBoolean()) {
                blockedReason = null;
                return false;
            }
            pause.accept(RETRY);
        }
    }

    /** The promotion failed: give the key up at once. */
    void promotionFailed() {
        promoting = false;
        resignNow("promotion failed");
    }

    // ------------------------------------------------------------------ primary side

    /** The local server does not answer: when it was the primary and its port refuses connections, resign at once. */
    void onLocalDown(boolean wasPrimary) {
        primaryActive = false;
        localDown = true;
        if (!wasPrimary || held == null) {
            return;
        }
        if (PortProbe.probe(conninfo, timeout) == PortProbe.Reach.REFUSED) {
            resignNow("its server is down (its port refuses connections)");
        }
    }

    /** For lifting a readonly fence: takes the key (one campaign); true when this node holds it. */
    boolean mayLift() {
        try {
            Optional<Leadership> l = store.campaign(name);
            l.ifPresent(x -> held = x);
            return l.isPresent();
        } catch (ConsensusException e) {
            LOG.debug("[{}] the fence stays: {}", name, e.getMessage());
            return false;
        }
    }

    private void resignNow(String why) {
        Leadership h = held;
        held = null;
        if (h == null) {
            return;
        }
        try {
            store.resign(h);
            LOG.info("[{}] resigned the leader key (term {}): {}", name, h.term(), why);
        } catch (ConsensusException e) {
            if (e.unavailable() && h.remainingNanos(System.nanoTime()) > 0) {
                held = h; // tried again on the next cycle (an etcd leader election, say); the lease ends anyway
            }
            LOG.warn("[{}] could not resign the leader key ({}); trying again, it is freed when its lease ends at the latest: {}",
                    name, why, e.getMessage());
        }
    }

    private void loop() {
        while (!closed) {
            try {
                tick();
            } catch (RuntimeException e) {
                LOG.warn("[{}] leader lease: {}", name, e.toString());
            }
            try {
                Thread.sleep(TICK.toMillis());
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private synchronized void tick() {
        long now = System.nanoTime();
        Leadership h = held;
        boolean busy = inFlight != null && !inFlight.isDone();
        if (h != null && (primaryActive || promoting)) {
            if (h.remainingNanos(now) <= fenceLeadNanos) {
                if (primaryActive) {
                    held = null;
                    fence("could not renew the leader lease in time: it can end in " + Math.max(0, h.remainingNanos(now))
                            / 1_000_000 + " ms");
                }
                return;
            }
            if (!busy && now >= nextCallAt) {
                nextCallAt = now + renewEveryNanos;
                inFlight = calls.submit(() -> renew(h));
            }
            return;
        }
        if (h != null) {
            if (localDown) {
                // a silent server is no evidence: stop renewing and let the lease decide (a refused
                // port resigns at once, in onLocalDown)
                return;
            }
            // the server answers, but not as a writable primary (fenced, demoted): give the key up
            if (!busy) {
                inFlight = calls.submit(() -> resignNow("this node is no longer a writable primary"));
            }
            return;
        }
        if (!primaryActive) {
            noKeySince = 0;
            return;
        }
        if (noKeySince == 0) {
            noKeySince = now;
        }
        if (now - noKeySince > store.ttl().toNanos()) {
            noKeySince = 0;
            fence("it could not take the leader key for " + store.ttl().toSeconds() + " s (etcd unreachable, or another"
                    + " node holds it)");
            return;
        }
        if (!busy && now >= nextCallAt) {
            nextCallAt = now + RETRY.toNanos();
            inFlight = calls.submit(this::campaignAsPrimary);
        }
    }

    private void renew(Leadership h) {
        try {
            Leadership r = store.renew(h);
            if (held == h) {
                held = r;
            }
        } catch (ConsensusException e) {
            if (e.lost()) {
                if (held == h) {
                    held = null;
                }
                if (primaryActive) {
                    fence("lost the leader key: " + e.getMessage() + e.detail().map(d -> " (" + d + ")").orElse(""));
                }
                return;
            }
            synchronized (this) {
                nextCallAt = System.nanoTime() + RETRY.toNanos(); // retry soon; the tick fences if time runs out
            }
            LOG.warn("[{}] could not renew the leader lease ({} ms left): {}", name,
                    Math.max(0, h.remainingNanos(System.nanoTime())) / 1_000_000, e.getMessage());
        }
    }

    private void campaignAsPrimary() {
        try {
            Optional<Leadership> l = store.campaign(name);
            if (l.isPresent()) {
                held = l.get();
                noKeySince = 0;
                campaignFailures = 0;
                return;
            }
            // Another node holds the key: after a switchover that is the old primary, which resigns
            // once its server is a standby (or its lease ends); a stale primary is fenced sooner by
            // the two-primaries check. The tick fences when the key is not taken within one ttl.
            store.leader().filter(other -> !other.name().equals(name)).ifPresent(other ->
                    LOG.warn("[{}] a writable primary, but {} holds the leader key (term {})", name, other.name(), other.term()));
        } catch (ConsensusException e) {
            if (campaignFailures++ == 0) {
                LOG.warn("[{}] a writable primary without the leader key: {}", name, e.getMessage());
            } else {
                LOG.debug("[{}] still without the leader key: {}", name, e.getMessage());
            }
            return;
        }
        campaignFailures = 0;
    }

    private void fence(String reason) {
        FenceGuard g = guard;
        primaryActive = false;
        if (g != null) {
            LOG.warn("[{}] fencing: {}", name, reason);
            g.fenceForConsensus(reason);
        }
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        calls.shutdownNow();
        try {
            thread.join(2000);
            calls.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        store.close();
    }
}
