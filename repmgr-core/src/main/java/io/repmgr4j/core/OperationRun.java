package io.repmgr4j.core;

import io.repmgr4j.ReplicationException;
import io.repmgr4j.plan.Check;
import io.repmgr4j.plan.OperationReport;
import io.repmgr4j.plan.Step;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One run of an operation: records its checks, runs (or, in a dry run, only lists) its
 * steps, collects warnings, and builds the {@link OperationReport}. Checks and steps are
 * logged as they happen. Thread-safe: steps of one run may run in parallel.
 */
final class OperationRun {
    private static final Logger LOG = LoggerFactory.getLogger(OperationRun.class);

    private final String operation;
    private final boolean dryRun;
    private final long started = System.nanoTime();
    private final List<Check> checks = new ArrayList<>();
    private final List<Step> steps = new ArrayList<>();
    private final List<String> warnings = new ArrayList<>();

    OperationRun(String operation, boolean dryRun) {
        this.operation = operation;
        this.dryRun = dryRun;
    }

    boolean dryRun() {
        return dryRun;
    }

    String operation() {
        return operation;
    }

    /** What a check found: OK or WARNING, with a detail. A failing check throws instead. */
    record Found(Check.Outcome outcome, String detail) {
        static Found ok(String detail) {
            return new Found(Check.Outcome.OK, detail);
        }

        static Found warning(String detail) {
            return new Found(Check.Outcome.WARNING, detail);
        }
    }

    /** A step of a plan: what it is called and what it does (returning a detail for the report, or null). */
    record PlanStep(String name, Supplier<String> action) {
    }

    /** Thrown by {@link #check} when a check failed; carries the reason. */
    static final class CheckFailed extends RuntimeException {
        private static final long serialVersionUID = 1L;

        CheckFailed(ReplicationException reason) {
            super(reason.getMessage(), reason);
        }

        ReplicationException reason() {
            return (ReplicationException) getCause();
        }
    }

    /**
     * Runs a check: records OK or WARNING with what it found, or FAILED when it throws a
     * {@link ReplicationException}, which is then thrown on wrapped in {@link CheckFailed}.
     */
    void check(String name, Supplier<Found> body) {
        Found found;
        try {
            found = body.get();
        } catch (ReplicationException e) {
            add(Check.failed(name, e.code(), describe(e), e.hint().orElse(null)));
            LOG.info("check failed: {}: {}", name, e.getMessage());
            throw new CheckFailed(e);
        }
        add(Check.builder().name(name).outcome(found.outcome()).detail(Optional.ofNullable(found.detail())).build());
        if (found.outcome() == Check.Outcome.WARNING) {
            LOG.warn("check: {}: {}", name, found.detail());
        } else {
            LOG.info("check passed: {}{}", name, found.detail() == null ? "" : " (" + found.detail() + ")");
        }
    }

    private synchronized void add(Check c) {
        checks.add(c);
    }

    /**
     * Runs a step (in a dry run: records it as planned and returns null). Records it DONE
     * with the detail its action returns, or FAILED with the error, which is rethrown.
     */
    String step(String name, Supplier<String> action) {
        if (dryRun) {
            record(Step.of(name, Step.Status.PLANNED, null));
            return null;
        }
        LOG.info("{}: {}", operation, name);
        long t0 = System.nanoTime();
        try {
            String detail = action.get();
            record(Step.builder().name(name).status(Step.Status.DONE).detail(Optional.ofNullable(detail))
                    .duration(Duration.ofNanos(System.nanoTime() - t0)).build());
            if (detail != null) {
                LOG.info("{}: {}: {}", operation, name, detail);
            }
            return detail;
        } catch (RuntimeException e) {
            String why = e instanceof ReplicationException r ? describe(r) : e.toString();
            record(Step.builder().name(name).status(Step.Status.FAILED).detail(why)
                    .duration(Duration.ofNanos(System.nanoTime() - t0)).build());
            LOG.warn("{}: {} failed: {}", operation, name, why);
            throw e;
        }
    }

    /** Runs the plan's steps in order (a dry run lists them); the first failure is rethrown. */
    void run(List<PlanStep> plan) {
        for (PlanStep s : plan) {
            step(s.name(), s.action());
        }
    }

    /**
     * Runs tasks (which record their own steps) at the same time on {@code pool}, or one
     * after the other in a dry run, and waits for all. Returns each task's failure, or
     * null for a task that succeeded, in task order.
     */
    List<RuntimeException> parallel(List<Runnable> tasks, ExecutorService pool) {
        List<RuntimeException> failures = new ArrayList<>();
        if (dryRun || tasks.size() <= 1) {
            for (Runnable t : tasks) {
                try {
                    t.run();
                    failures.add(null);
                } catch (RuntimeException e) {
                    failures.add(e);
                }
            }
            return failures;
        }
        List<Future<?>> futures = new ArrayList<>();
        for (Runnable t : tasks) {
            futures.add(pool.submit(t));
        }
        for (Future<?> f : futures) {
            try {
                f.get();
                failures.add(null);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                failures.add(new IllegalStateException("interrupted"));
            } catch (java.util.concurrent.ExecutionException e) {
                Throwable c = e.getCause();
                failures.add(c instanceof RuntimeException r ? r : new IllegalStateException(c));
            }
        }
        return failures;
    }

    /** Records a step that was not run, with why. */
    void skipped(String name, String detail) {
        record(Step.of(name, Step.Status.SKIPPED, detail));
    }

    private synchronized void record(Step s) {
        steps.add(s);
    }

    /** Adds a warning to the report (and the log). */
    synchronized void warn(String warning) {
        LOG.warn("{}: {}", operation, warning);
        warnings.add(warning);
    }

    synchronized List<String> warnings() {
        return List.copyOf(warnings);
    }

    /** The report so far. */
    synchronized OperationReport report(boolean successful, String summary) {
        return OperationReport.builder()
                .operation(operation)
                .dryRun(dryRun)
                .checks(checks)
                .steps(steps)
                .warnings(warnings)
                .successful(successful)
                .summary(summary)
                .duration(Duration.ofNanos(System.nanoTime() - started))
                .build();
    }

    /** An error as one line of text for a check or step detail: message, then detail. */
    static String describe(ReplicationException e) {
        return e.getMessage() + e.detail().map(d -> ": " + d).orElse("");
    }
}
