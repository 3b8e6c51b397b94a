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

/**
 * The step topology operations (switchover, promote, rejoin) add when the library manages
 * synchronous replication: configure the primary's synchronous standbys before the
 * operation reports success. Nothing is added when the synchronous record is absent or
 * says off. A failure is a warning of the operation, not its failure (the primary's daemon
 * goes on trying). A static utility; thread-safe.
 */
final class SyncStep {
    private SyncStep() {
    }

    /**
     * Adds the step for {@code primary} (in a dry run, listed only).
     *
     * @param budget the longest each wait may take (promotion: next to none, its standbys follow later)
     */
    static void configure(ClusterContext ctx, OperationRun run, NodeRecord primary, Duration budget) {
        Optional<SynchronousRecord> rec = Optional.empty();
        try (Connection c = ctx.connect(primary.conninfo())) {
            rec = SyncStateTable.read(c);
        } catch (SQLException | ReplicationException e) {
            // no record readable: nothing to configure
        }
        if (rec.isEmpty() || rec.get().mode() == SyncMode.OFF) {
            return;
        }
        String name = "configure the synchronous standbys of " + primary.describe() + " (synchronous = "
                + rec.get().mode().confValue() + (rec.get().strict() ? ", strict" : "") + ")";
        ConnInfo at = primary.conninfo();
        try {
            run.step(name, () -> {
                SynchronousPlan p = new SynchronousReplicationBuilder(ctx).applyOn(at, budget);
                return "synchronous_standby_names '" + p.standbyNames() + "': " + p.reason()
                        + (p.complete() ? "" : "; the record is narrowed once the standbys confirm");
            });
        } catch (RuntimeException e) {
            run.warn("could not configure the synchronous standbys of " + primary.describe() + ": "
                    + (e instanceof ReplicationException r ? OperationRun.describe(r) : e.toString())
                    + "; its daemon keeps trying");
        }
    }
}
