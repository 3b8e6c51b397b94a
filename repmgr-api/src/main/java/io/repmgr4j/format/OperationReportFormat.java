package io.repmgr4j.format;

import io.repmgr4j.plan.Check;
import io.repmgr4j.plan.OperationReport;
import io.repmgr4j.plan.Step;
import java.util.List;
import java.util.Locale;

/**
 * Renders an {@link OperationReport} for people. {@link #text} gives the whole report:
 * the checks, the steps with their status and time, the warnings, and the summary in
 * repmgr's NOTICE form. {@link #dryRun} gives what repmgr prints for {@code --dry-run}:
 * one {@code INFO:}/{@code WARNING:}/{@code ERROR:} line per check (with its
 * {@code HINT:}), the steps a real run would take, and the closing verdict
 * ({@code INFO: all prerequisites for "standby clone" are met}). {@link #steps} lists
 * steps with their status and time, one per line.
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

    /**
     * The report as repmgr prints a {@code --dry-run}: a line per check, its hint, the
     * report's warnings, then either the steps a real run would take and
     * {@code INFO: all prerequisites for "<operation>" are met}, or
     * {@code ERROR: <n> prerequisites for "<operation>" not met}.
     */
    public static String dryRun(OperationReport report) {
        StringBuilder sb = new StringBuilder();
        for (Check c : report.checks()) {
            String level = switch (c.outcome()) {
                case OK -> "INFO";
                case WARNING -> "WARNING";
                case FAILED -> "ERROR";
            };
            sb.append(level).append(": ").append(c.describe()).append('\n');
            c.hint().ifPresent(h -> sb.append("HINT: ").append(h).append('\n'));
        }
        for (String w : report.warnings()) {
            sb.append("WARNING: ").append(w).append('\n');
        }
        if (report.ready()) {
            sb.append("NOTICE: a real run would:\n");
            int i = 1;
            for (Step step : report.steps()) {
                sb.append("  ").append(i++).append(". ").append(step.name()).append('\n');
            }
            sb.append("INFO: all prerequisites for \"").append(report.operation()).append("\" are met\n");
        } else {
            int n = report.failures().size();
            sb.append("ERROR: ").append(n).append(n == 1 ? " prerequisite" : " prerequisites")
                    .append(" for \"").append(report.operation()).append("\" not met\n");
        }
        return sb.toString();
    }

    /**
     * Steps, one per line: {@code DONE      120 ms  run pg_basebackup ...}, the detail in
     * parentheses; a step that did not run shows no time.
     */
    public static String steps(List<Step> steps) {
        StringBuilder sb = new StringBuilder();
        for (Step s : steps) {
            String took = s.duration().map(d -> String.format("%7d ms", d.toMillis())).orElse(" ".repeat(10));
            sb.append(String.format("%-11s %s  %s", s.status(), took, s.name()));
            s.detail().ifPresent(d -> sb.append(" (").append(d).append(')'));
            sb.append('\n');
        }
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
