package io.repmgr4j.core.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.NodeType;
import java.time.Instant;
import java.util.List;
import java.util.OptionalInt;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** child_node_* events from the primary's point of view. */
class ChildWatchTest {
    private static final NodeRecord PG2 = child(2);
    private static final NodeRecord PG3 = child(3);
    private static final Instant T0 = Instant.parse("2024-01-01T00:00:00Z");

    private static NodeRecord child(int id) {
        return NodeRecord.builder().nodeId(id).upstreamNodeId(OptionalInt.of(1)).nodeName("pg" + id).type(NodeType.STANDBY)
                .conninfo(ConnInfo.parse("host=127.0.0.1 port=5" + id)).repluser("repmgr").configFile("test").build();
    }

    @Test
    void aStartingDaemonTakesChildrenAsTheyAreThenReportsChanges() {
        ChildWatch w = new ChildWatch();
        w.reset(false);
        assertThat(w.check(List.of(PG2, PG3), Set.of("pg2"), T0)).isEmpty();
        assertThat(w.isDetached(3)).isTrue();

        List<ChildWatch.Change> c = w.check(List.of(PG2, PG3), Set.of("pg3"), T0.plusSeconds(5));
        assertThat(c).extracting(ChildWatch.Change::details).containsExactlyInAnyOrder(
                "standby \"pg2\" (ID: 2) has disconnected", "new standby \"pg3\" (ID: 3) has connected");

        c = w.check(List.of(PG2, PG3), Set.of("pg2", "pg3"), T0.plusSeconds(30));
        assertThat(c).extracting(ChildWatch.Change::details)
                .containsExactly("standby \"pg2\" (ID: 2) has reconnected after 25 seconds");
        assertThat(w.check(List.of(PG2, PG3), Set.of("pg2", "pg3"), T0.plusSeconds(31))).isEmpty();
    }

    @Test
    void aNewPrimaryAnnouncesTheStandbysThatFollowIt() {
        ChildWatch w = new ChildWatch();
        w.reset(true);
        assertThat(w.check(List.of(PG3), Set.of("pg3"), T0)).extracting(ChildWatch.Change::kind)
                .containsExactly(ChildWatch.Kind.NEW_CONNECT);
    }

    @Test
    void aChildRegisteredLaterIsNewWhenItConnects() {
        ChildWatch w = new ChildWatch();
        w.reset(false);
        w.check(List.of(PG2), Set.of("pg2"), T0);
        assertThat(w.check(List.of(PG2, PG3), Set.of("pg2", "pg3"), T0.plusSeconds(1)))
                .extracting(ChildWatch.Change::kind).containsExactly(ChildWatch.Kind.NEW_CONNECT);
        // unregistered children are forgotten
        w.check(List.of(PG2), Set.of("pg2"), T0.plusSeconds(2));
        assertThat(w.isDetached(3)).isFalse();
    }
}
