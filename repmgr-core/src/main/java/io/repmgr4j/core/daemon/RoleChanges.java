package io.repmgr4j.core.daemon;

import io.repmgr4j.NodeConfig;
import io.repmgr4j.spi.RoleChange;
import io.repmgr4j.spi.RoleChangeListener;
import java.time.Instant;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells a daemon's {@link RoleChangeListener}s of its node's role changes, in order, on
 * one thread of its own ({@code repmgr4j-daemon-<id>-role}), started on the first change.
 * {@link #primary(boolean, String)} is level-triggered: only a change of the legitimate
 * primary state is told. Thread-safe.
 */
final class RoleChanges implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RoleChanges.class);

    private final NodeConfig self;
    private final List<RoleChangeListener> listeners;
    private final ExecutorService thread;
    private boolean primary;

    RoleChanges(NodeConfig self, List<RoleChangeListener> listeners) {
        this.self = self;
        this.listeners = List.copyOf(listeners);
        ThreadPoolExecutor t = new ThreadPoolExecutor(0, 1, 1, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread th = new Thread(r, "repmgr4j-daemon-" + self.nodeId() + "-role");
            th.setDaemon(true);
            return th;
        });
        this.thread = t;
    }

    /** Whether there is anyone to tell. */
    boolean active() {
        return !listeners.isEmpty();
    }

    /** The legitimate-primary state is now {@code now}; tells onPromote or onDemote when it changed. */
    void primary(boolean now, String reason) {
        synchronized (this) {
            if (now == primary) {
                return;
            }
            primary = now;
        }
        LOG.info("[{}] {} ({})", self.nodeName(), now ? "is now the primary" : "is no longer the primary", reason);
        RoleChange c = new RoleChange(self.nodeId(), self.nodeName(), reason, OptionalInt.empty(), Instant.now());
        tell(now ? l -> l.onPromote(c) : l -> l.onDemote(c));
    }

    /** The daemon made this standby follow {@code upstreamId}. */
    void followed(int upstreamId, String reason) {
        RoleChange c = new RoleChange(self.nodeId(), self.nodeName(), reason, OptionalInt.of(upstreamId), Instant.now());
        tell(l -> l.onFollow(c));
    }

    private void tell(Consumer<RoleChangeListener> call) {
        if (listeners.isEmpty()) {
            return;
        }
        try {
            thread.execute(() -> {
                for (RoleChangeListener l : listeners) {
                    try {
                        call.accept(l);
                    } catch (RuntimeException e) {
                        LOG.warn("[{}] role change listener {} failed: {}", self.nodeName(), l, e.toString());
                    }
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            LOG.debug("[{}] role change after close not told", self.nodeName());
        }
    }

    /** Waits up to {@code millis} for the calls queued, then stops the thread. */
    void close(long millis) {
        thread.shutdown();
        try {
            if (!thread.awaitTermination(millis, TimeUnit.MILLISECONDS)) {
                thread.shutdownNow();
            }
        } catch (InterruptedException e) {
            thread.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        close(10_000);
    }
}
