package io.repmgr4j.core;

import io.repmgr4j.ErrorCode;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.plan.Step;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the steps of one operation in order: times each, records it as a
 * {@link Step}, stops at the first failure (the failure propagates), and keeps the
 * undo actions of steps whose effect must not outlive a failed operation (a slot
 * created, a directory filled), to run newest first. Shared by the operations that
 * change topology; not thread-safe (one per operation run).
 */
final class StepRunner {
    private static final Logger LOG = LoggerFactory.getLogger(StepRunner.class);

    private final List<Step> results = new ArrayList<>();
    private final Deque<Undo> undos = new ArrayDeque<>();

    private record Undo(String name, Runnable action) {
    }

    /** Runs a step; a {@link ReplicationException} (or any runtime exception) marks it FAILED and propagates. */
    <T> T run(String name, Supplier<T> body) {
        return run(name, body, v -> null);
    }

    /** Runs a step whose result says what it did: that sentence becomes the step's detail. */
    String runDescribed(String name, Supplier<String> body) {
        return run(name, body, v -> v);
    }

    private <T> T run(String name, Supplier<T> body, Function<T, String> detail) {
        long t0 = System.nanoTime();
        LOG.info("{}", name);
        try {
            T value = body.get();
            record(name, Step.Status.DONE, t0, detail.apply(value));
            return value;
        } catch (ReplicationException e) {
            record(name, Step.Status.FAILED, t0, e.getMessage());
            throw e;
        } catch (RuntimeException e) {
            record(name, Step.Status.FAILED, t0, e.toString());
            throw new ReplicationException(ErrorCode.INTERNAL, "step \"" + name + "\" failed unexpectedly", e.toString(),
                    null, e);
        }
    }

    /** Runs a step that returns nothing. */
    void run(String name, Runnable body) {
        run(name, () -> {
            body.run();
            return null;
        });
    }

    /**
     * Records a step that ran inside another's command (timed by the caller): a copy and
     * the configuration written right after it by the same process, say.
     */
    void record(String name, Step.Status status, Duration took, String detail) {
        results.add(Step.builder().name(name).status(status).duration(took).detail(Optional.ofNullable(detail)).build());
    }

    /** Registers what undoes a step's effect should the operation fail later. */
    void undoOnFailure(String name, Runnable action) {
        undos.push(new Undo(name, action));
    }

    /** The operation's effects are kept from now on: forget the undo actions. */
    void commit() {
        undos.clear();
    }

    /**
     * Runs the undo actions, newest first; never throws. Returns one sentence per undo
     * that failed (what is left behind), empty when everything was undone.
     */
    List<String> undoAll() {
        List<String> left = new ArrayList<>();
        while (!undos.isEmpty()) {
            Undo u = undos.pop();
            long t0 = System.nanoTime();
            try {
                u.action().run();
                record(u.name(), Step.Status.UNDONE, t0, null);
            } catch (RuntimeException e) {
                String why = e instanceof ReplicationException re
                        ? re.getMessage() + re.detail().map(d -> ": " + d).orElse("")
                        : e.toString();
                record(u.name(), Step.Status.UNDO_FAILED, t0, why);
                left.add(u.name() + " failed: " + why);
                LOG.warn("could not {}: {}", u.name(), why);
            }
        }
        return left;
    }

    /** Every step recorded so far, in order. */
    List<Step> results() {
        return List.copyOf(results);
    }

    /** The steps so far, for an error's detail: {@code done: a, b; failed: c; undone: d}. */
    String summary() {
        StringBuilder sb = new StringBuilder();
        for (Step.Status status : Step.Status.values()) {
            List<String> names = results.stream().filter(r -> r.status() == status).map(Step::name).toList();
            if (!names.isEmpty()) {
                if (sb.length() > 0) {
                    sb.append("; ");
                }
                sb.append(status.name().toLowerCase().replace('_', ' ')).append(": ").append(String.join(", ", names));
            }
        }
        return sb.toString();
    }

    private void record(String name, Step.Status status, long t0, String detail) {
        results.add(Step.builder().name(name).status(status).duration(Duration.ofNanos(System.nanoTime() - t0))
                .detail(Optional.ofNullable(detail)).build());
    }
}
