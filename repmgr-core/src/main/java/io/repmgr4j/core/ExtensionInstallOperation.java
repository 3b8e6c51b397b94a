package io.repmgr4j.core;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.plan.OperationException;
import io.repmgr4j.plan.OperationReport;
import io.repmgr4j.sql.ExtensionMigration;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;

/**
 * {@code cluster.installRepmgrExtension()}: checks, then moves the primary's
 * extension-free {@code repmgr} schema under {@code CREATE EXTENSION repmgr} in one
 * transaction with every row kept ({@link ExtensionMigration}). Checks: a reachable
 * primary, a repmgr4j-made schema, the extension available and not yet installed, a
 * superuser connection; a warning when the primary's {@code shared_preload_libraries}
 * lacks {@code repmgr} (the tables work, a real repmgrd could not run). Thread-safe: each
 * run has its own state.
 */
final class ExtensionInstallOperation {
    static final String NAME = "install repmgr extension";

    private final ClusterContext ctx;

    ExtensionInstallOperation(ClusterContext ctx) {
        this.ctx = ctx;
    }

    OperationReport run(boolean dryRun) {
        OperationRun run = new OperationRun(NAME, dryRun);
        ConnInfo[] primary = new ConnInfo[1];
        ExtensionMigration.Findings[] f = new ExtensionMigration.Findings[1];
        try {
            run.check("primary is reachable", () -> {
                primary[0] = ctx.locatePrimary();
                try (Connection c = ctx.connect(primary[0])) {
                    f[0] = ExtensionMigration.inspect(c);
                } catch (SQLException e) {
                    throw new ReplicationException(ErrorCode.DB_CONN, "unable to connect to the primary", e.getMessage(), null, e);
                }
                if (f[0].inRecovery()) {
                    throw new ReplicationException(ErrorCode.DB_QUERY, "the primary found is in recovery", null,
                            "try again once the cluster has a primary");
                }
                return OperationRun.Found.ok(primary[0].hosts().toString());
            });
            run.check("schema repmgr is repmgr4j's extension-free schema", () -> {
                if (f[0].extensionInstalled().isPresent()) {
                    throw new ReplicationException(ErrorCode.BAD_CONFIG, "the repmgr extension is installed already (version "
                            + f[0].extensionInstalled().get() + ")", "schema repmgr is the extension's", "nothing to do");
                }
                if (f[0].repmgr4jVersion().isEmpty()) {
                    throw new ReplicationException(ErrorCode.BAD_CONFIG, "schema repmgr was not made by repmgr4j",
                            "it has no repmgr4j schema version comment, or there is no schema repmgr",
                            "register the primary first; a schema made by hand is not migrated");
                }
                return OperationRun.Found.ok("repmgr4j schema version " + f[0].repmgr4jVersion().get() + ", rows " + f[0].rows());
            });
            run.check("the repmgr extension is available on the primary", () -> {
                if (f[0].extensionAvailable().isEmpty()) {
                    throw new ReplicationException(ErrorCode.BAD_CONFIG, "the repmgr extension is not available on the primary",
                            "no repmgr.control in the server's extension directory (pg_available_extensions)",
                            "install repmgr's package on every node (Debian: postgresql-NN-repmgr), then run this again");
                }
                return OperationRun.Found.ok("version " + f[0].extensionAvailable().get());
            });
            run.check("connected as a superuser", () -> {
                if (!f[0].superuser()) {
                    throw new ReplicationException(ErrorCode.BAD_CONFIG, "CREATE EXTENSION repmgr needs a superuser",
                            "the user of the primary's conninfo is not one", "run it with a superuser's conninfo");
                }
                return OperationRun.Found.ok("yes");
            });
            run.check("shared_preload_libraries", () -> f[0].libraryLoaded() ? OperationRun.Found.ok("repmgr is loaded")
                    : OperationRun.Found.warning("'repmgr' is not in the primary's shared_preload_libraries: the extension's"
                            + " tables work, but a real repmgrd needs it (set it on every node and restart)"));
        } catch (OperationRun.CheckFailed e) {
            OperationReport report = run.report(false, OperationRun.describe(e.reason()));
            if (dryRun) {
                return report;
            }
            throw new OperationException(e.reason().code(), e.reason().getMessage(), e.reason().detail().orElse(null),
                    e.reason().hint().orElse(null), report, e.reason());
        }
        try {
            run.step("move schema repmgr under CREATE EXTENSION repmgr, rows kept (one transaction)", () -> {
                try (Connection c = ctx.connect(primary[0])) {
                    Map<String, Long> rows = ExtensionMigration.migrate(c);
                    return "rows copied: " + rows;
                } catch (SQLException e) {
                    throw new ReplicationException(ErrorCode.DB_CONN, "unable to connect to the primary", e.getMessage(), null, e);
                }
            });
        } catch (ReplicationException e) {
            OperationReport report = run.report(false, OperationRun.describe(e));
            throw new OperationException(e.code(), e.getMessage(), e.detail().orElse(null),
                    e.hint().orElse("nothing was changed; fix the cause and run it again"), report, e);
        }
        return run.report(true, dryRun ? "schema repmgr would be moved under the repmgr extension"
                : "schema repmgr is now the repmgr extension's (" + f[0].extensionAvailable().orElse("?") + "), every row kept");
    }
}
