package io.repmgr4j.core;

import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The handle's probe pool: each task runs under the {@link OperationDeadline} of the
 * thread that submitted it (captured when it is submitted), so the connections a parallel
 * probe, lock or follow opens end by the operation's deadline like those of the
 * operation's own thread, instead of the 2-minute default. Every way of submitting
 * ({@code execute}, {@code submit}, {@code invokeAll}, {@code CompletableFuture.*Async})
 * goes through {@link #execute}. Thread-safe.
 */
final class DeadlineExecutor extends AbstractExecutorService {
    private final ExecutorService delegate;

    DeadlineExecutor(ExecutorService delegate) {
        this.delegate = delegate;
    }

    @Override
    public void execute(Runnable task) {
        delegate.execute(OperationDeadline.carry(task));
    }

    @Override
    public void shutdown() {
        delegate.shutdown();
    }

    @Override
    public List<Runnable> shutdownNow() {
        return delegate.shutdownNow();
    }

    @Override
    public boolean isShutdown() {
        return delegate.isShutdown();
    }

    @Override
    public boolean isTerminated() {
        return delegate.isTerminated();
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        return delegate.awaitTermination(timeout, unit);
    }
}
