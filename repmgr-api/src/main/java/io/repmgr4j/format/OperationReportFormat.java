package io.repmgr4j.format;

import io.repmgr4j.plan.Check;
import io.repmgr4j.plan.OperationReport;
import io.repmgr4j.plan.Step;
import java.util.Locale;

/**
 * Renders an {@link OperationReport} for people: the checks, the steps with their
 * status and time, the warnings, and the summary in repmgr's NOTICE form.
 *
 * <pre>
 * standby switchover
 * checks:
 *   [ok]      target "pg2" (ID: 2) is a running standby
 * steps:
 *   [done]    CHECKPOINT on primary "pg1" (ID: 1)  (12 ms)
 * NOTICE: node "pg2" (ID: 2) promoted to primary, node "pg1" (ID: 1) demoted to standby
 * </pre>
 *
 * Stateless; thread-safe.
 */
public final class OperationReportFormat {
    private OperationReportFormat() {
    }

    public static String text(OperationReport report) {
        StringBuilder sb = new StringBuilder(report.operation());
        if (report.dryRun()) {
            sb.append(" (dry run)");
        }
        sb.append('\n');
        if (!report.checks().isEmpty()) {
            sb.append("checks:\n");
            for (Check c : report.checks()) {
                line(sb, c.outcome().name(), c.name(), c.detail().orElse(null), null);
            }
        }
        if (!report.steps().isEmpty()) {
            sb.append("steps:\n");
            for (Step s : report.steps()) {
                line(sb, s.status().name(), s.name(), s.detail().orElse(null),
                        s.duration().map(d -> d.toMillis() + " ms").orElse(null));
            }
        }
        for (String w : report.warnings()) {
            sb.append("WARNING: ").append(w).append('\n');
        }
        sb.append(report.successful() ? "NOTICE: " : "ERROR: ").append(report.summary()).append('\n');
        return sb.toString();
    }

    private static void line(StringBuilder sb, String status, String name, String detail, String took) {
        String tag = "[" + status.toLowerCase(Locale.ROOT) + "]";
        sb.append("  ").append(tag).append(" ".repeat(Math.max(1, 10 - tag.length()))).append(name);
        if (took != null) {
            sb.append("  (").append(took).append(')');
        }
        sb.append('\n');
        if (detail != null && !detail.isBlank()) {
            for (String l : detail.split("\n")) {
                sb.append("            ").append(l).append('\n');
            }
        }
    }
}
