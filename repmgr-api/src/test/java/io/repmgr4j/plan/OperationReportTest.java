package io.repmgr4j.plan;

import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.ErrorCode;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.format.OperationReportFormat;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** An operation report as a plan: readiness, the refusal a real run throws, and the dry-run and step renderings. */
class OperationReportTest {
    private final Check ok = Check.ok("WAL senders", "2 required, 10 available");
    private final Check warn = Check.warning("pg_rewind readiness", "wal_log_hints is off", "enable it");
    private final Check dir = Check.failed("target data directory", ErrorCode.BAD_CONFIG, "\"/d\" is not empty (3 entries)",
            "use force");
    private final Check conn = Check.failed("replication connections", ErrorCode.DB_CONN, "refused", null);

    private static OperationReport plan(List<Check> checks, String... steps) {
        return OperationReport.builder().operation("standby clone").dryRun(true).checks(checks)
                .steps(List.of(steps).stream().map(s -> Step.of(s, Step.Status.PLANNED, null)).toList())
                .successful(checks.stream().allMatch(Check::passed)).summary("s").duration(Duration.ZERO).build();
    }

    @Test
    void aPlanWithoutFailuresIsReadyAndRendersLikeARepmgrDryRun() {
        OperationReport plan = plan(List.of(ok, warn), "run pg_basebackup", "start");
        assertThat(plan.ready()).isTrue();
        assertThat(plan.refusal()).isEmpty();
        assertThat(plan.checkWarnings()).containsExactly(warn);
        assertThat(plan.check("WAL senders")).contains(ok);
        assertThat(OperationReportFormat.dryRun(plan)).isEqualTo("""
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
        OperationReport plan = plan(List.of(ok, dir, conn), "x");
        assertThat(plan.ready()).isFalse();
        assertThat(plan.failures()).containsExactly(dir, conn);
        assertThat(plan.failedCheck()).contains(dir);
        ReplicationException e = plan.refusal().orElseThrow();
        assertThat(e.code()).isEqualTo(ErrorCode.BAD_CONFIG);
        assertThat(e.getMessage()).isEqualTo("target data directory: \"/d\" is not empty (3 entries)");
        assertThat(e.detail()).contains("prerequisite for \"standby clone\" not met; also failed: replication connections: refused");
        assertThat(e.hint()).contains("use force");
        assertThat(OperationReportFormat.dryRun(plan))
                .contains("ERROR: target data directory: \"/d\" is not empty (3 entries)\nHINT: use force\n")
                .endsWith("ERROR: 2 prerequisites for \"standby clone\" not met\n").doesNotContain("a real run would");
    }

    @Test
    void aFailedCheckWithoutAnErrorCodeRefusesAsAnUnmetPrerequisite() {
        OperationReport plan = plan(List.of(Check.failed("node is registered", "no record for node ID 7")));
        ReplicationException e = plan.refusal().orElseThrow();
        assertThat(e.code()).isEqualTo(ErrorCode.BAD_CONFIG);
        assertThat(e.getMessage()).isEqualTo("node is registered: no record for node ID 7");
        assertThat(e.hint()).isEmpty();
        assertThat(conn.errorCode()).contains(ErrorCode.DB_CONN);
        assertThat(ok.passed()).isTrue();
        assertThat(warn.passed()).isTrue();
        assertThat(dir.passed()).isFalse();
    }

    @Test
    void stepsRenderWithStatusAndDuration() {
        String text = OperationReportFormat.steps(List.of(
                Step.builder().name("run pg_basebackup").status(Step.Status.FAILED).duration(Duration.ofMillis(1500))
                        .detail("pg_basebackup failed").build(),
                Step.builder().name("drop replication slot").status(Step.Status.UNDONE).duration(Duration.ofMillis(3)).build(),
                Step.of("register the standby", Step.Status.PLANNED, null)));
        assertThat(text).isEqualTo("FAILED         1500 ms  run pg_basebackup (pg_basebackup failed)\n"
                + "UNDONE            3 ms  drop replication slot\n"
                + "PLANNED                 register the standby\n");
    }
}
