package io.repmgr4j.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.repmgr4j.ErrorCode;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.plan.Step;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class StepRunnerTest {

    @Test
    void runsInOrderStopsAtTheFailureAndUndoesNewestFirst() {
        StepRunner steps = new StepRunner();
        List<String> log = new ArrayList<>();
        assertThat(steps.run("one", () -> 1)).isEqualTo(1);
        steps.undoOnFailure("undo one", () -> log.add("undo one"));
        steps.run("two", () -> log.add("two"));
        steps.undoOnFailure("undo two", () -> {
            throw new ReplicationException(ErrorCode.DB_CONN, "upstream gone", "connection refused", null);
        });
        steps.undoOnFailure("undo three", () -> log.add("undo three"));
        assertThatThrownBy(() -> steps.run("four", () -> {
            throw new ReplicationException(ErrorCode.BAD_BASEBACKUP, "copy failed");
        })).isInstanceOfSatisfying(ReplicationException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.BAD_BASEBACKUP));

        List<String> left = steps.undoAll();
        assertThat(log).containsExactly("two", "undo three", "undo one");
        assertThat(left).containsExactly("undo two failed: upstream gone: connection refused");
        assertThat(steps.results()).extracting(Step::name, Step::status).containsExactly(
                org.assertj.core.groups.Tuple.tuple("one", Step.Status.DONE),
                org.assertj.core.groups.Tuple.tuple("two", Step.Status.DONE),
                org.assertj.core.groups.Tuple.tuple("four", Step.Status.FAILED),
                org.assertj.core.groups.Tuple.tuple("undo three", Step.Status.UNDONE),
                org.assertj.core.groups.Tuple.tuple("undo two", Step.Status.UNDO_FAILED),
                org.assertj.core.groups.Tuple.tuple("undo one", Step.Status.UNDONE));
        assertThat(steps.results().get(2).detail()).contains("copy failed");
        assertThat(steps.summary()).isEqualTo("done: one, two; failed: four; undone: undo three, undo one; undo failed: undo two");
        assertThat(steps.undoAll()).as("undo actions run once").isEmpty();
    }

    @Test
    void committedStepsAreNotUndoneAndUnexpectedErrorsBecomeInternal() {
        StepRunner steps = new StepRunner();
        List<String> log = new ArrayList<>();
        steps.run("copy", () -> log.add("copy"));
        steps.undoOnFailure("remove copy", () -> log.add("removed"));
        steps.commit();
        assertThatThrownBy(() -> steps.run("start", () -> {
            throw new IllegalStateException("boom");
        })).isInstanceOfSatisfying(ReplicationException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.INTERNAL);
            assertThat(e.getMessage()).isEqualTo("step \"start\" failed unexpectedly");
            assertThat(e.getCause()).isInstanceOf(IllegalStateException.class);
        });
        assertThat(steps.undoAll()).isEmpty();
        assertThat(log).containsExactly("copy");
    }

    @Test
    void sizesAndCommandLinesAreShownTheWayPeopleReadThem() {
        assertThat(StandbyCloning.prettySize(512)).isEqualTo("512 bytes");
        assertThat(StandbyCloning.prettySize(31L * 1024 * 1024)).isEqualTo("31 MB");
        assertThat(StandbyCloning.prettySize(5L * 1024 * 1024 * 1024)).isEqualTo("5120 MB");
        assertThat(StandbyCloning.prettySize(50L * 1024 * 1024 * 1024)).isEqualTo("50 GB");
        assertThat(StandbyCloning.shellQuote(List.of("/usr/bin/pg_basebackup", "-l", "repmgr base backup", "-D", "/data/it's", "-d", "")))
                .isEqualTo("/usr/bin/pg_basebackup -l 'repmgr base backup' -D '/data/it'\\''s' -d ''");
    }
}
