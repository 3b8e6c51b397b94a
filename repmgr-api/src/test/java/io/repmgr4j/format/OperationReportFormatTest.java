package io.repmgr4j.format;

import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.plan.Check;
import io.repmgr4j.plan.OperationReport;
import io.repmgr4j.plan.Step;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The text form of an operation report. */
class OperationReportFormatTest {

    @Test
    void rendersChecksStepsWarningsAndTheSummary() {
        OperationReport r = OperationReport.builder()
                .operation("standby switchover")
                .dryRun(false)
                .checks(List.of(Check.ok("target is registered", "node \"pg2\" (ID: 2)"),
                        Check.warning("siblings to follow", "none")))
                .steps(List.of(Step.builder().name("issue CHECKPOINT on node \"pg1\" (ID: 1)").status(Step.Status.DONE)
                                .duration(Duration.ofMillis(12)).build(),
                        Step.of("promote node \"pg2\" (ID: 2)", Step.Status.FAILED, "line one\nline two")))
                .warnings(List.of("something odd"))
                .successful(false)
                .summary("switchover aborted")
                .duration(Duration.ofMillis(300))
                .build();
        assertThat(OperationReportFormat.text(r)).isEqualTo("""
                standby switchover
                checks:
                  [ok]      target is registered
                            node "pg2" (ID: 2)
                  [warning] siblings to follow
                            none
                steps:
                  [done]    issue CHECKPOINT on node "pg1" (ID: 1)  (12 ms)
                  [failed]  promote node "pg2" (ID: 2)
                            line one
                            line two
                WARNING: something odd
                ERROR: switchover aborted
                """);
        assertThat(r.failedStep()).hasValueSatisfying(s -> assertThat(s.name()).startsWith("promote"));
        assertThat(r.failedCheck()).isEmpty();
    }

    @Test
    void aDryRunSaysSo() {
        OperationReport r = OperationReport.builder().operation("node rejoin").dryRun(true)
                .steps(List.of(Step.of("start node \"pg1\" (ID: 1) as a standby", Step.Status.PLANNED, null)))
                .successful(true).summary("node \"pg1\" (ID: 1) would be attached").duration(Duration.ZERO).build();
        assertThat(OperationReportFormat.text(r)).isEqualTo("""
                node rejoin (dry run)
                steps:
                  [planned] start node "pg1" (ID: 1) as a standby
                NOTICE: node "pg1" (ID: 1) would be attached
                """);
    }
}
