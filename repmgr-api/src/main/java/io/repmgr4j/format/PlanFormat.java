package io.repmgr4j.format;

import io.repmgr4j.plan.CheckResult;
import io.repmgr4j.plan.Plan;
import io.repmgr4j.plan.StepResult;
import java.util.List;

/**
 * Renders a {@link Plan} the way repmgr prints a {@code --dry-run}: one
 * {@code INFO:}/{@code WARNING:}/{@code ERROR:} line per check (with its {@code HINT:}),
 * the steps a real run would take, and the closing verdict
 * ({@code INFO: all prerequisites for "standby clone" are met}). Stateless; thread-safe.
 */
public final class PlanFormat {
    private PlanFormat() {
    }

    public static String text(Plan plan) {
        StringBuilder sb = new StringBuilder();
        for (CheckResult c : plan.checks()) {
            String level = switch (c.outcome()) {
                case OK -> "INFO";
                case WARNING -> "WARNING";
                case FAILED -> "ERROR";
            };
            sb.append(level).append(": ").append(c.name()).append(": ").append(c.detail()).append('\n');
            c.hint().ifPresent(h -> sb.append("HINT: ").append(h).append('\n'));
        }
        if (plan.ready()) {
            sb.append("NOTICE: a real run would:\n");
            int i = 1;
            for (String step : plan.steps()) {
                sb.append("  ").append(i++).append(". ").append(step).append('\n');
            }
            sb.append("INFO: all prerequisites for \"").append(plan.operation()).append("\" are met\n");
        } else {
            int n = plan.failures().size();
            sb.append("ERROR: ").append(n).append(n == 1 ? " prerequisite" : " prerequisites")
                    .append(" for \"").append(plan.operation()).append("\" not met\n");
        }
        return sb.toString();
    }

    /** The steps an operation ran: {@code DONE      120 ms  run pg_basebackup ...}, one per line. */
    public static String steps(List<StepResult> steps) {
        StringBuilder sb = new StringBuilder();
        for (StepResult s : steps) {
            sb.append(String.format("%-11s %7d ms  %s", s.status(), s.duration().toMillis(), s.name()));
            s.detail().ifPresent(d -> sb.append(" (").append(d).append(')'));
            sb.append('\n');
        }
        return sb.toString();
    }
}
