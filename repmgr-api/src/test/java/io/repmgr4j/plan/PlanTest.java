package io.repmgr4j.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.repmgr4j.ErrorCode;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.format.PlanFormat;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class PlanTest {
    private final CheckResult ok = CheckResult.ok("WAL senders", "2 required, 10 available");
    private final CheckResult warn = CheckResult.warning("pg_rewind readiness", "wal_log_hints is off", "enable it");
    private final CheckResult dir = CheckResult.failed("target data directory", ErrorCode.BAD_CONFIG, "\"/d\" is not empty (3 entries)",
            "use force");
    private final CheckResult conn = CheckResult.failed("replication connections", ErrorCode.DB_CONN, "refused", null);

    @Test
    void aPlanWithoutFailuresIsReadyAndRendersLikeARepmgrDryRun() {
        Plan plan = Plan.builder().operation("standby clone").checks(List.of(ok, warn)).steps(List.of("run pg_basebackup", "start")).build();
        assertThat(plan.ready()).isTrue();
        assertThat(plan.refusal()).isEmpty();
        assertThat(plan.warnings()).containsExactly(warn);
        assertThat(plan.check("WAL senders")).contains(ok);
        assertThat(PlanFormat.text(plan)).isEqualTo("""
                INFO: WAL senders: 2 required, 10 available
                WARNING: pg_rewind readiness: wal_log_hints is off
                HINT: enable it
                NOTICE: a real run would:
                  1. run pg_basebackup
                  2. start
                INFO: all prerequisites for "standby clone" are met
                """);
    }

    @Test
    void theRefusalCarriesTheFirstFailureAndListsTheOthers() {
        Plan plan = Plan.builder().operation("standby clone").checks(List.of(ok, dir, conn)).steps(List.of("x")).build();
        assertThat(plan.ready()).isFalse();
        assertThat(plan.failures()).containsExactly(dir, conn);
        ReplicationException e = plan.refusal().orElseThrow();
        assertThat(e.code()).isEqualTo(ErrorCode.BAD_CONFIG);
        assertThat(e.getMessage()).isEqualTo("target data directory: \"/d\" is not empty (3 entries)");
        assertThat(e.detail()).contains("prerequisite for \"standby clone\" not met; also failed: replication connections: refused");
        assertThat(e.hint()).contains("use force");
        assertThat(PlanFormat.text(plan)).contains("ERROR: target data directory: \"/d\" is not empty (3 entries)\nHINT: use force\n")
                .endsWith("ERROR: 2 prerequisites for \"standby clone\" not met\n").doesNotContain("a real run would");
    }

    @Test
    void aFailedCheckNeedsAnErrorCode() {
        assertThatThrownBy(() -> CheckResult.builder().name("x").outcome(CheckOutcome.FAILED).detail("y").build())
                .isInstanceOf(IllegalStateException.class);
        assertThat(ok.passed()).isTrue();
        assertThat(warn.passed()).isTrue();
        assertThat(dir.passed()).isFalse();
    }

    @Test
    void stepsRenderWithStatusAndDuration() {
        String text = PlanFormat.steps(List.of(
                StepResult.builder().name("run pg_basebackup").status(StepStatus.FAILED).duration(Duration.ofMillis(1500))
                        .detail("pg_basebackup failed").build(),
                StepResult.builder().name("drop replication slot").status(StepStatus.UNDONE).duration(Duration.ofMillis(3)).build()));
        assertThat(text).isEqualTo("FAILED         1500 ms  run pg_basebackup (pg_basebackup failed)\n"
                + "UNDONE            3 ms  drop replication slot\n");
    }
}
