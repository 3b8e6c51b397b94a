package io.repmgr4j.core;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.SyncMode;
import io.repmgr4j.SynchronousPlan;
import io.repmgr4j.SynchronousRecord;
import io.repmgr4j.sql.SyncStateTable;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The step operations add when the library manages synchronous replication: configure the
 * primary's synchronous standbys before the operation reports success. Topology operations
 * (switchover, promote, rejoin) add it for the new primary; membership changes (a standby
 * registered, unregistered, or cloned with registration) add it for the current primary,
 * so a new candidate is named and a removed one is dropped without waiting for the
 * primary's daemon. Nothing is added when the synchronous record is absent or says off. A
 * failure is a warning of the operation, not its failure (the primary's daemon goes on
 * trying). A static utility; thread-safe.
 */
final class SyncStep {
    private static final Logger LOG = LoggerFactory.getLogger(SyncStep.class);

    private SyncStep() {
    }

    /**
     * Adds the step for {@code primary} (in a dry run, listed only).
     *
     * @param budget the longest each wait may take (promotion: next to none, its standbys follow later)
     */
    static void configure(ClusterContext ctx, OperationRun run, NodeRecord primary, Duration budget) {
        Optional<String> name = stepName(ctx, primary.conninfo(), primary.describe());
        if (name.isEmpty()) {
            return;
        }
        ConnInfo at = primary.conninfo();
        try {
            run.step(name.get(), () -> apply(ctx, at, budget));
        } catch (RuntimeException e) {
            run.warn(warning(primary.describe(), e));
        }
    }

    /**
     * The step's name when the synchronous record readable at {@code at} says the library
     * manages synchronous replication; empty when it does not (or no record is readable).
     *
     * @param primaryName how the step names the primary
     */
    static Optional<String> stepName(ClusterContext ctx, ConnInfo at, String primaryName) {
        Optional<SynchronousRecord> rec = Optional.empty();
        try (Connection c = ctx.connect(at)) {
            rec = SyncStateTable.read(c);
        } catch (SQLException | ReplicationException e) {
            // no record readable: nothing to configure
        }
        if (rec.isEmpty() || rec.get().mode() == SyncMode.OFF) {
            return Optional.empty();
        }
        return Optional.of("configure the synchronous standbys of " + primaryName + " (synchronous = "
                + rec.get().mode().confValue() + (rec.get().strict() ? ", strict" : "") + ")");
    }

    /** Applies the setting on the primary at {@code at}; returns what was set and why. */
    static String apply(ClusterContext ctx, ConnInfo at, Duration budget) {
        SynchronousPlan p = new SynchronousReplicationBuilder(ctx).applyOn(at, budget);
        return "synchronous_standby_names '" + p.standbyNames() + "': " + p.reason()
                + (p.complete() ? "" : "; the record is narrowed once the standbys confirm");
    }

    /**
     * For an operation without a step report (standby register and unregister): applies
     * the setting on the primary at {@code primary} when the library manages it, and logs
     * the outcome; a failure is logged as a warning and never thrown.
     */
    static void afterMembershipChange(ClusterContext ctx, ConnInfo primary, Duration budget) {
        Optional<String> name = stepName(ctx, primary, "the primary");
        if (name.isEmpty()) {
            return;
        }
        try {
            LOG.info("{}: {}", name.get(), apply(ctx, primary, budget));
        } catch (RuntimeException e) {
            LOG.warn("{}", warning("the primary", e));
        }
    }

    private static String warning(String primaryName, RuntimeException e) {
        return "could not configure the synchronous standbys of " + primaryName + ": "
                + (e instanceof ReplicationException r ? OperationRun.describe(r) : e.toString())
                + "; its daemon keeps trying";
    }
}
