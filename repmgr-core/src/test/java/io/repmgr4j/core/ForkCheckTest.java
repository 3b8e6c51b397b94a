package io.repmgr4j.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.Lsn;
import io.repmgr4j.sql.ReplicationProtocol.Lineage;
import io.repmgr4j.sql.SystemIdentity;
import io.repmgr4j.sql.TimelineHistory;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The fork-point rules, on made-up histories. */
class ForkCheckTest {
    /** A target on timeline 3 at 0/9000000 that left timeline 1 at 0/3000000 and timeline 2 at 0/60000A0. */
    private static final Lineage TARGET = new Lineage(new SystemIdentity(42L, 3, Lsn.parse("0/9000000")),
            TimelineHistory.parse(3, "1\t0/3000000\tx\n2\t0/60000A0\ty\n"));

    private static ForkCheck.Verdict check(int tli, String lsn, boolean strict) {
        return ForkCheck.check(List.of(new ForkCheck.Point("recovery point", tli, Lsn.parse(lsn), strict)), TARGET);
    }

    @Test
    void aCheckpointBeforeTheForkPointCanAttach() {
        ForkCheck.Verdict v = check(2, "0/6000028", true);
        assertThat(v.canAttach()).isTrue();
        assertThat(v.detail()).isEqualTo("node's recovery point: 0/6000028; target's fork point: 0/60000A0");
        assertThat(v.forkPoint()).hasValue(Lsn.parse("0/60000A0"));
    }

    @Test
    void aCheckpointAtTheForkPointHasDivergedButAReplayPositionThereHasNot() {
        assertThat(check(2, "0/60000A0", true).canAttach()).isFalse();
        assertThat(check(2, "0/60000A0", false).canAttach()).isTrue();
    }

    @Test
    void aPointPastTheForkPointHasDiverged() {
        ForkCheck.Verdict v = check(2, "0/7000000", false);
        assertThat(v.canAttach()).isFalse();
        assertThat(v.detail()).isEqualTo("target server's timeline 3 forked off current database system timeline 2 before"
                + " current recovery point 0/7000000 (fork point 0/60000A0)");
    }

    @Test
    void onTheTargetsOwnTimelineOnlyBeingAheadIsAProblem() {
        assertThat(check(3, "0/8000000", false).canAttach()).isTrue();
        assertThat(check(3, "0/9000001", false).canAttach()).isFalse();
    }

    @Test
    void aTimelineOutsideTheTargetsHistoryHasDiverged() {
        ForkCheck.Verdict v = check(4, "0/1000000", false);
        assertThat(v.canAttach()).isFalse();
        assertThat(v.detail()).isEqualTo("node's timeline 4 is not in the history of the target's timeline 3");
    }

    @Test
    void theFirstPointThatFailsDecidesAndUnsetPointsAreIgnored() {
        ForkCheck.Verdict v = ForkCheck.check(List.of(
                new ForkCheck.Point("recovery point", 2, Lsn.parse("0/5000000"), true),
                new ForkCheck.Point("minimum recovery point", 0, Lsn.parse("0/0"), false),
                new ForkCheck.Point("minimum recovery point", 2, Lsn.parse("0/6000100"), false)), TARGET);
        assertThat(v.canAttach()).isFalse();
        assertThat(v.detail()).contains("minimum recovery point 0/6000100");
    }
}
