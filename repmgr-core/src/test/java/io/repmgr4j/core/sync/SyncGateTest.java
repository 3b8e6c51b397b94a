package io.repmgr4j.core.sync;

import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.Lsn;
import io.repmgr4j.SyncMode;
import io.repmgr4j.SynchronousRecord;
import io.repmgr4j.SynchronousRecord.Kind;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The election's synchronous gate as a pure function. */
class SyncGateTest {
    private static SynchronousRecord rec(Kind kind, int count, List<Integer> members, long gen) {
        return new SynchronousRecord(kind == Kind.QUORUM ? SyncMode.QUORUM : SyncMode.PRIORITY, count, false,
                Duration.ofSeconds(10), kind, count, members, "", gen, 1);
    }

    private static SyncGate.Voter v(int id, boolean visible, long lsn) {
        return new SyncGate.Voter(id, "pg" + id, visible, visible ? Optional.of(new Lsn(lsn)) : Optional.empty());
    }

    @Test
    void withoutAGuardingRecordEveryNodeMayWin() {
        List<SyncGate.Voter> voters = List.of(v(2, true, 100), v(3, true, 90));
        assertThat(SyncGate.judge(Optional.empty(), 1, voters).notAllowed()).isEmpty();
        SyncGate.Verdict degraded = SyncGate.judge(Optional.of(rec(Kind.DEGRADED, 0, List.of(), 3)), 1, voters);
        assertThat(degraded.blocked()).isFalse();
        assertThat(degraded.notAllowed()).isEmpty();
    }

    @Test
    void priorityAllowsOnlyTheMembersEvenWhenAnotherHasMoreOrBetterPriority() {
        SyncGate.Verdict g = SyncGate.judge(Optional.of(rec(Kind.PRIORITY, 1, List.of(3), 4)), 1,
                List.of(v(2, true, 200), v(3, true, 100)));
        assertThat(g.blocked()).isFalse();
        assertThat(g.notAllowed()).containsExactly(2);
        assertThat(g.reason()).isEqualTo("only the recorded synchronous standbys (pg3) may be promoted (synchronous record generation 4)");
    }

    @Test
    void priorityWithNoMemberAnsweringBlocks() {
        SyncGate.Verdict g = SyncGate.judge(Optional.of(rec(Kind.PRIORITY, 1, List.of(3), 4)), 1,
                List.of(v(2, true, 200), v(3, false, 0)));
        assertThat(g.blocked()).isTrue();
        assertThat(g.reason()).startsWith("no recorded synchronous standby (pg3) answers");
    }

    @Test
    void quorumNeedsMMinusNPlusOneAnswersAndPicksTheHighestLsn() {
        SynchronousRecord any1of2 = rec(Kind.QUORUM, 1, List.of(2, 3), 7);
        SyncGate.Verdict both = SyncGate.judge(Optional.of(any1of2), 1, List.of(v(2, true, 90), v(3, true, 100), v(4, true, 500)));
        assertThat(both.blocked()).isFalse();
        assertThat(both.notAllowed()).containsExactlyInAnyOrder(2, 4);
        assertThat(both.reason()).contains("2 of 2 recorded synchronous standbys answered (2 needed)").contains("on pg3");
        SyncGate.Verdict one = SyncGate.judge(Optional.of(any1of2), 1, List.of(v(2, false, 0), v(3, true, 100)));
        assertThat(one.blocked()).isTrue();
        assertThat(one.reason()).startsWith("only 1 of the 2 recorded synchronous standbys (pg2, pg3) answer;"
                + " with a quorum of 1 at least 2 must answer");
        SynchronousRecord any2of3 = rec(Kind.QUORUM, 2, List.of(2, 3, 4), 8);
        SyncGate.Verdict two = SyncGate.judge(Optional.of(any2of3), 1, List.of(v(2, false, 0), v(3, true, 100), v(4, true, 100)));
        assertThat(two.blocked()).isFalse();
        assertThat(two.notAllowed()).containsExactly(2); // pg3 and pg4 tie: the election's rules pick one
    }

    @Test
    void theFailedPrimaryIsNeverCountedAndTheNewestCopyWins() {
        SynchronousRecord old = rec(Kind.PRIORITY, 1, List.of(2), 3);
        SynchronousRecord newer = rec(Kind.PRIORITY, 1, List.of(3), 5);
        assertThat(SyncGate.newest(List.of(Optional.of(old), Optional.empty(), Optional.of(newer)))).contains(newer);
        SyncGate.Verdict g = SyncGate.judge(Optional.of(rec(Kind.PRIORITY, 1, List.of(1, 3), 6)), 1,
                List.of(v(2, true, 100), v(3, true, 100)));
        assertThat(g.notAllowed()).containsExactly(2);
        assertThat(g.reason()).contains("(pg3)");
    }
}
