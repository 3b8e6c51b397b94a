package io.repmgr4j.core;

import java.time.Duration;
import java.util.Optional;

/**
 * The deadline of the operation running on the current thread, from which the handle's
 * connections take their socket timeout ({@link ClusterContext#connect}): a server that
 * stops answering in the middle of a query (SIGSTOP, a hung host) fails the read when the
 * operation's time is up, instead of holding the operation past it. Connections opened
 * with no operation deadline on the thread (reads, registration) get
 * {@link #DEFAULT_SOCKET_TIMEOUT}. Tasks an operation runs on the handle's probe pool
 * ({@link DeadlineExecutor}) carry the deadline of the thread that submitted them. A nested operation keeps the sooner deadline.
 * Thread-confined by design (a thread-local); thread-safe.
 */
final class OperationDeadline implements AutoCloseable {
    /** The socket timeout of a connection opened outside any operation deadline. */
    static final Duration DEFAULT_SOCKET_TIMEOUT = Duration.ofMinutes(2);
    /** The least socket timeout a connection gets, even when the deadline has (almost) passed. */
    static final Duration MINIMUM = Duration.ofSeconds(1);

    private static final ThreadLocal<Long> DEADLINE = new ThreadLocal<>();
    private final Long previous;

    private OperationDeadline(Long previous) {
        this.previous = previous;
    }

    /** Sets the deadline {@code timeout} from now (unless a sooner one is set); close to restore the earlier one. */
    static OperationDeadline enter(Duration timeout) {
        Long previous = DEADLINE.get();
        long mine = System.nanoTime() + timeout.toNanos();
        if (previous == null || mine - previous < 0) {
            DEADLINE.set(mine);
        }
        return new OperationDeadline(previous);
    }

    /** {@link #enter} when the operation was given a timeout; else a no-op (the default applies). */
    static OperationDeadline within(Optional<Duration> timeout) {
        return timeout.isPresent() ? enter(timeout.get()) : new OperationDeadline(DEADLINE.get());
    }

    /** What is left of the current thread's operation deadline, if one is set. */
    static Optional<Duration> remaining() {
        Long d = DEADLINE.get();
        return d == null ? Optional.empty() : Optional.of(Duration.ofNanos(Math.max(0, d - System.nanoTime())));
    }

    /** The socket timeout for a connection opened now on this thread. */
    static Duration socketTimeout() {
        Duration left = remaining().orElse(DEFAULT_SOCKET_TIMEOUT);
        return left.compareTo(MINIMUM) < 0 ? MINIMUM : left;
    }

    /**
     * {@code task} made to run under the deadline of the thread calling this (none when it
     * has none), whatever thread then runs it: how the handle's probe pool hands an
     * operation's remaining time to the tasks it runs in parallel.
     */
    static Runnable carry(Runnable task) {
        Long mine = DEADLINE.get();
        return () -> {
            Long previous = DEADLINE.get();
            if (mine == null) {
                DEADLINE.remove();
            } else {
                DEADLINE.set(mine);
            }
            try {
                task.run();
            } finally {
                new OperationDeadline(previous).close();
            }
        };
    }

    /**
     * No deadline on this thread until closed: for work an operation leaves behind that is
     * not part of it (a topology notice sent after it returns).
     */
    static OperationDeadline outside() {
        Long previous = DEADLINE.get();
        DEADLINE.remove();
        return new OperationDeadline(previous);
    }

    @Override
    public void close() {
        if (previous == null) {
            DEADLINE.remove();
        } else {
            DEADLINE.set(previous);
        }
    }
}
