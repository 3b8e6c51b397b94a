package io.repmgr4j.core.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.NodeType;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.SyncMode;
import io.repmgr4j.SynchronousRecord.Kind;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The pure synchronous_standby_names planner: modes, strictness, degrade, ordering, quoting, bad input. */
class SyncTargetTest {
    private static NodeRecord node(int id, String name, NodeType type, int priority, boolean active) {
        return NodeRecord.builder().nodeId(id).nodeName(name).type(type).priority(priority).active(active)
                .upstreamNodeId(type == NodeType.PRIMARY ? OptionalInt.empty() : OptionalInt.of(1))
                .conninfo(ConnInfo.parse("host=127.0.0.1 port=" + (50000 + id) + " dbname=repmgr"))
                .repluser("repmgr").configFile("test").build();
    }

    private static final List<NodeRecord> NODES = List.of(
            node(1, "pg1", NodeType.PRIMARY, 100, true),
            node(2, "pg2", NodeType.STANDBY, 80, true),
            node(3, "pg3", NodeType.STANDBY, 90, true),
            node(4, "pg4", NodeType.STANDBY, 90, true),
            node(5, "pg5", NodeType.STANDBY, 100, false),
            node(6, "wit", NodeType.WITNESS, 100, true));

    private static SyncSettings s(SyncMode m, int n, boolean strict) {
        return new SyncSettings(m, n, strict, Duration.ofSeconds(5));
    }

    @Test
    void priorityModeNamesTheBestConnectedCandidatesByPriorityThenNodeId() {
        SyncTarget.Target t = SyncTarget.compute(NODES, 1, s(SyncMode.PRIORITY, 1, false), Map.of(),
                Set.of("pg2", "pg3", "pg4"), false);
        assertThat(t.standbyNames()).isEqualTo("FIRST 1 (\"pg3\")");
        assertThat(t.kind()).isEqualTo(Kind.PRIORITY);
        assertThat(t.members()).containsExactly(3);
        SyncTarget.Target two = SyncTarget.compute(NODES, 1, s(SyncMode.PRIORITY, 2, false), Map.of(),
                Set.of("pg2", "pg3", "pg4"), false);
        assertThat(two.standbyNames()).isEqualTo("FIRST 2 (\"pg3\", \"pg4\")");
        assertThat(SyncTarget.candidates(NODES, 1, Map.of())).extracting(NodeRecord::nodeName)
                .containsExactly("pg3", "pg4", "pg2"); // inactive pg5, the witness and the primary are never candidates
    }

    @Test
    void aLostSyncStandbyIsReplacedByTheNextConnectedCandidate() {
        SyncTarget.Target t = SyncTarget.compute(NODES, 1, s(SyncMode.PRIORITY, 1, false), Map.of(), Set.of("pg2", "pg4"), false);
        assertThat(t.standbyNames()).isEqualTo("FIRST 1 (\"pg4\")");
    }

    @Test
    void syncCandidateFalseIsNeverNamed() {
        SyncTarget.Target t = SyncTarget.compute(NODES, 1, s(SyncMode.PRIORITY, 1, false), Map.of(3, false, 4, false),
                Set.of("pg2", "pg3", "pg4"), false);
        assertThat(t.standbyNames()).isEqualTo("FIRST 1 (\"pg2\")");
    }

    @Test
    void withNoneConnectedCommitsWaitUntilTheDegradeTimeoutThenAsynchronous() {
        SyncTarget.Target waiting = SyncTarget.compute(NODES, 1, s(SyncMode.PRIORITY, 1, false), Map.of(), Set.of(), false);
        assertThat(waiting.standbyNames()).isEqualTo("FIRST 1 (\"pg3\")");
        assertThat(waiting.reason()).contains("no sync candidate is connected");
        SyncTarget.Target degraded = SyncTarget.compute(NODES, 1, s(SyncMode.PRIORITY, 1, false), Map.of(), Set.of(), true);
        assertThat(degraded.standbyNames()).isEmpty();
        assertThat(degraded.kind()).isEqualTo(Kind.DEGRADED);
        assertThat(degraded.reason()).contains("synchronous_degrade_timeout");
    }

    @Test
    void strictNeverDegradesAndFillsUpWithUnconnectedCandidates() {
        SyncTarget.Target t = SyncTarget.compute(NODES, 1, s(SyncMode.PRIORITY, 1, true), Map.of(), Set.of(), true);
        assertThat(t.standbyNames()).isEqualTo("FIRST 1 (\"pg3\")");
        assertThat(t.kind()).isEqualTo(Kind.PRIORITY);
        SyncTarget.Target two = SyncTarget.compute(NODES, 1, s(SyncMode.PRIORITY, 2, true), Map.of(), Set.of("pg2"), true);
        assertThat(two.standbyNames()).isEqualTo("FIRST 2 (\"pg3\", \"pg2\")");
        SyncTarget.Target lax = SyncTarget.compute(NODES, 1, s(SyncMode.PRIORITY, 2, false), Map.of(), Set.of("pg2"), false);
        assertThat(lax.standbyNames()).isEqualTo("FIRST 1 (\"pg2\")");
    }

    @Test
    void quorumModeNamesEveryCandidate() {
        SyncTarget.Target t = SyncTarget.compute(NODES, 1, s(SyncMode.QUORUM, 2, false), Map.of(),
                Set.of("pg2", "pg3", "pg4"), false);
        assertThat(t.standbyNames()).isEqualTo("ANY 2 (\"pg3\", \"pg4\", \"pg2\")");
        assertThat(t.kind()).isEqualTo(Kind.QUORUM);
        assertThat(t.count()).isEqualTo(2);
        assertThat(t.members()).containsExactly(3, 4, 2);
        SyncTarget.Target fewer = SyncTarget.compute(NODES, 1, s(SyncMode.QUORUM, 2, false), Map.of(), Set.of("pg2"), false);
        assertThat(fewer.standbyNames()).isEqualTo("ANY 1 (\"pg3\", \"pg4\", \"pg2\")");
        SyncTarget.Target strict = SyncTarget.compute(NODES, 1, s(SyncMode.QUORUM, 2, true), Map.of(), Set.of("pg2"), true);
        assertThat(strict.standbyNames()).isEqualTo("ANY 2 (\"pg3\", \"pg4\", \"pg2\")");
    }

    @Test
    void offLeavesNothingNamed() {
        SyncTarget.Target t = SyncTarget.compute(NODES, 1, SyncSettings.OFF, Map.of(), Set.of("pg2"), false);
        assertThat(t.standbyNames()).isEmpty();
        assertThat(t.kind()).isEqualTo(Kind.OFF);
    }

    @Test
    void namesAreQuotedAsIdentifiers() {
        assertThat(SyncTarget.quote("node \"a\"")).isEqualTo("\"node \"\"a\"\"\"");
        assertThat(SyncTarget.quote("PG-2")).isEqualTo("\"PG-2\"");
    }

    @Test
    void aCountLargerThanTheCandidatesIsRefused() {
        assertThatThrownBy(() -> SyncTarget.validate(NODES, 1, s(SyncMode.PRIORITY, 4, false), Map.of()))
                .isInstanceOfSatisfying(ReplicationException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.BAD_CONFIG);
                    assertThat(e.getMessage()).isEqualTo("synchronous_count 4 is larger than the 3 sync candidate(s)");
                    assertThat(e.hint()).hasValue("lower synchronous_count to 3 or less, or add sync candidates");
                });
    }

    @Test
    void candidatesThatLeaveNothingPromotableAreRefused() {
        List<NodeRecord> zero = List.of(node(1, "pg1", NodeType.PRIMARY, 100, true), node(2, "pg2", NodeType.STANDBY, 0, true),
                node(3, "pg3", NodeType.STANDBY, 0, true), node(4, "pg4", NodeType.STANDBY, 50, true));
        assertThatThrownBy(() -> SyncTarget.validate(zero, 1, s(SyncMode.QUORUM, 1, false), Map.of(4, false)))
                .isInstanceOfSatisfying(ReplicationException.class, e -> {
                    assertThat(e.getMessage()).isEqualTo("synchronous = quorum leaves no standby that can be promoted");
                    assertThat(e.detail()).hasValueSatisfying(d -> assertThat(d).contains("priority 0"));
                });
        assertThatThrownBy(() -> SyncTarget.validate(zero, 1, s(SyncMode.PRIORITY, 1, false), Map.of(4, false)))
                .isInstanceOf(ReplicationException.class).hasMessageContaining("no standby that can be promoted");
        SyncTarget.validate(zero, 1, s(SyncMode.PRIORITY, 1, false), Map.of()); // pg4 (priority 50) is named first: fine
        assertThatThrownBy(() -> SyncTarget.validate(zero, 1, s(SyncMode.PRIORITY, 1, false), Map.of(2, false, 3, false, 4, false)))
                .isInstanceOf(ReplicationException.class).hasMessageContaining("needs a sync candidate, and there is none");
    }

    @Test
    void badSettingsAreRefused() {
        assertThatThrownBy(() -> new SyncSettings(SyncMode.PRIORITY, 0, false, Duration.ofSeconds(1)))
                .isInstanceOf(ReplicationException.class).hasMessage("invalid synchronous_count 0");
        assertThatThrownBy(() -> new SyncSettings(SyncMode.PRIORITY, 1, false, Duration.ZERO))
                .isInstanceOf(ReplicationException.class).hasMessageContaining("synchronous_degrade_timeout");
    }
}
