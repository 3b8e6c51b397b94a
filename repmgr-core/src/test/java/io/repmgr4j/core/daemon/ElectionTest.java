package io.repmgr4j.core.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.DaemonMode;
import io.repmgr4j.Lsn;
import io.repmgr4j.NodeType;
import io.repmgr4j.core.daemon.Election.Cancel;
import io.repmgr4j.core.daemon.Election.Follow;
import io.repmgr4j.core.daemon.Election.Input;
import io.repmgr4j.core.daemon.Election.Outcome;
import io.repmgr4j.core.daemon.Election.Participant;
import io.repmgr4j.core.daemon.Election.Promote;
import io.repmgr4j.core.daemon.Election.WaitFor;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The election's rules, one by one, on made-up observations. */
class ElectionTest {
    private static final int FAILED = 1;
    private static final long WINDOW = 2000;

    /** A standby in location "dc1", in recovery, at {@code lsn}, whose daemon runs (automatic, not paused). */
    private static Participant standby(int id, int priority, long lsn) {
        return new Participant(id, "pg" + id, NodeType.STANDBY, "dc1", priority, true, Optional.of(true),
                Optional.of(new Lsn(lsn)), Optional.of(beacon(id, false, true, -1)));
    }

    private static Beacon beacon(int id, boolean paused, boolean automatic, long seenAgo) {
        return new Beacon(id, FAILED, paused, automatic, seenAgo, DaemonMode.ELECTING, 1, 100 + id);
    }

    private static Participant with(Participant p, Optional<Beacon> b) {
        return new Participant(p.nodeId(), p.nodeName(), p.type(), p.location(), p.priority(), p.visible(), p.inRecovery(),
                p.lsn(), b);
    }

    private static Participant invisible(Participant p) {
        return new Participant(p.nodeId(), p.nodeName(), p.type(), p.location(), p.priority(), false, Optional.empty(),
                Optional.empty(), Optional.empty());
    }

    private static Participant located(Participant p, String location) {
        return new Participant(p.nodeId(), p.nodeName(), p.type(), location, p.priority(), p.visible(), p.inRecovery(), p.lsn(),
                p.beacon());
    }

    private static Outcome decide(Participant self, Participant... siblings) {
        return decide(self, false, Set.of(), siblings);
    }

    private static Outcome decide(Participant self, boolean consensus, Set<Integer> excluded, Participant... siblings) {
        return Election.decide(new Input(self, true, FAILED, "pg1", "dc1", List.of(siblings), consensus, WINDOW, excluded));
    }

    @Test
    void highestLsnWinsBeforePriority() {
        Outcome o = decide(standby(2, 80, 100), standby(3, 20, 200));
        assertThat(o).isInstanceOfSatisfying(WaitFor.class, w -> assertThat(w.winner().nodeId()).isEqualTo(3));
    }

    @Test
    void equalLsnHigherPriorityWinsAsInTheSeed() {
        assertThat(decide(standby(2, 80, 100), standby(3, 20, 100))).isInstanceOf(Promote.class);
        assertThat(decide(standby(3, 20, 100), standby(2, 80, 100)))
                .isInstanceOfSatisfying(WaitFor.class, w -> assertThat(w.winner().nodeId()).isEqualTo(2));
    }

    @Test
    void equalLsnAndPriorityLowestNodeIdWins() {
        assertThat(decide(standby(2, 100, 100), standby(3, 100, 100))).isInstanceOf(Promote.class);
        assertThat(decide(standby(3, 100, 100), standby(2, 100, 100)))
                .isInstanceOfSatisfying(WaitFor.class, w -> assertThat(w.winner().nodeId()).isEqualTo(2));
    }

    @Test
    void everyDaemonComputesTheSameWinner() {
        List<Participant> all = List.of(standby(2, 50, 300), standby(3, 90, 300), standby(4, 90, 300), standby(5, 100, 200));
        for (Participant self : all) {
            List<Participant> others = new ArrayList<>(all);
            others.remove(self);
            Outcome o = decide(self, others.toArray(Participant[]::new));
            int winner = o instanceof Promote ? self.nodeId() : ((WaitFor) o).winner().nodeId();
            assertThat(winner).as("winner seen by node %d", self.nodeId()).isEqualTo(3);
        }
    }

    @Test
    void priorityZeroIsNeverPromotedEvenWithTheHighestLsn() {
        assertThat(decide(standby(2, 0, 500), standby(3, 10, 100)))
                .isInstanceOfSatisfying(WaitFor.class, w -> assertThat(w.winner().nodeId()).isEqualTo(3));
        assertThat(decide(standby(3, 10, 100), standby(2, 0, 500))).isInstanceOf(Promote.class);
        assertThat(decide(standby(2, 0, 100))).isInstanceOfSatisfying(Cancel.class,
                c -> assertThat(c.reason()).contains("no node can be promoted"));
    }

    @Test
    void aSiblingWithoutARunningAutomaticUnpausedDaemonIsNoCandidate() {
        Participant self = standby(3, 10, 100);
        assertThat(decide(self, with(standby(2, 100, 100), Optional.empty()))).isInstanceOf(Promote.class);
        assertThat(decide(self, with(standby(2, 100, 100), Optional.of(beacon(2, true, true, -1))))).isInstanceOf(Promote.class);
        assertThat(decide(self, with(standby(2, 100, 100), Optional.of(beacon(2, false, false, -1))))).isInstanceOf(Promote.class);
        assertThat(decide(self, standby(2, 100, 100))).isInstanceOf(WaitFor.class);
    }

    @Test
    void aSiblingAlreadyPrimaryIsFollowed() {
        Participant primary = new Participant(2, "pg2", NodeType.STANDBY, "dc1", 100, true, Optional.of(false),
                Optional.of(new Lsn(900)), Optional.empty());
        assertThat(decide(standby(3, 100, 1000), primary))
                .isInstanceOfSatisfying(Follow.class, f -> assertThat(f.primary().nodeId()).isEqualTo(2));
    }

    @Test
    void twoSiblingsRunningAsPrimaryCancel() {
        Participant a = new Participant(2, "pg2", NodeType.STANDBY, "dc1", 100, true, Optional.of(false), Optional.empty(),
                Optional.empty());
        Participant b = new Participant(4, "pg4", NodeType.STANDBY, "dc1", 100, true, Optional.of(false), Optional.empty(),
                Optional.empty());
        assertThat(decide(standby(3, 100, 100), a, b)).isInstanceOfSatisfying(Cancel.class,
                c -> assertThat(c.reason()).contains("more than one sibling runs as a primary"));
    }

    @Test
    void noVisibleNodeInThePrimarysLocationCancels() {
        Outcome o = decide(located(standby(2, 100, 100), "dc2"), located(standby(3, 100, 100), "dc2"));
        assertThat(o).isInstanceOfSatisfying(Cancel.class, c -> assertThat(c.reason())
                .contains("no visible node is in the failed primary's location \"dc1\""));
        // one visible node in the primary's location is enough, and it need not be the winner
        assertThat(decide(located(standby(2, 100, 100), "dc2"), standby(3, 10, 100))).isInstanceOf(Promote.class);
        // an invisible one is not
        assertThat(decide(located(standby(2, 100, 100), "dc2"), invisible(standby(3, 10, 100)),
                located(standby(4, 10, 100), "dc2"))).isInstanceOfSatisfying(Cancel.class,
                c -> assertThat(c.reason()).contains("location"));
    }

    @Test
    void withoutAMajorityOfVisibleNodesTheElectionIsCancelled() {
        // two standbys, the other unreachable: 1 of 2 visible is not more than half
        assertThat(decide(standby(2, 100, 100), invisible(standby(3, 100, 100)))).isInstanceOfSatisfying(Cancel.class,
                c -> assertThat(c.reason()).contains("1 of 2 visible"));
        // three standbys, one unreachable: 2 of 3 is a majority
        assertThat(decide(standby(2, 100, 100), standby(3, 100, 100), invisible(standby(4, 100, 100))))
                .isInstanceOf(Promote.class);
        // a lone standby decides alone
        assertThat(decide(standby(2, 100, 100))).isInstanceOf(Promote.class);
        // a witness counts for visibility and never stands
        Participant witness = new Participant(9, "witness", NodeType.WITNESS, "dc1", 100, true, Optional.of(false),
                Optional.of(new Lsn(5000)), Optional.empty());
        assertThat(decide(standby(2, 100, 100), invisible(standby(3, 100, 100)), witness)).isInstanceOf(Promote.class);
    }

    @Test
    void visibilityConsensusCancelsWhenASiblingStillSeesThePrimary() {
        Participant seer = with(standby(3, 10, 100), Optional.of(beacon(3, false, true, 500)));
        assertThat(decide(standby(2, 100, 100), true, Set.of(), seer)).isInstanceOfSatisfying(Cancel.class,
                c -> assertThat(c.reason()).contains("node \"pg3\" (ID: 3) can still see the primary"));
        assertThat(decide(standby(2, 100, 100), false, Set.of(), seer)).isInstanceOf(Promote.class);
        Participant stale = with(standby(3, 10, 100), Optional.of(beacon(3, false, true, WINDOW + 1)));
        assertThat(decide(standby(2, 100, 100), true, Set.of(), stale)).isInstanceOf(Promote.class);
    }

    @Test
    void anExcludedWinnerIsPassedOver() {
        assertThat(decide(standby(3, 10, 100), false, Set.of(2), standby(2, 100, 100))).isInstanceOf(Promote.class);
    }

    @Test
    void aMissingLsnRanksLast() {
        Participant noLsn = new Participant(2, "pg2", NodeType.STANDBY, "dc1", 100, true, Optional.of(true), Optional.empty(),
                Optional.of(beacon(2, false, true, -1)));
        assertThat(decide(standby(3, 10, 1), noLsn)).isInstanceOf(Promote.class);
    }
}
