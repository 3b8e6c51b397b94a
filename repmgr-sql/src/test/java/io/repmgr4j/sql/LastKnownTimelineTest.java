package io.repmgr4j.sql;

import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import java.sql.Connection;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;

/**
 * ServerProbe.lastKnownTimeline on a cascading standby whose upstream was promoted and then
 * died: it shows the timeline the standby followed, not the last checkpoint's.
 */
class LastKnownTimelineTest {

    @Test
    void cascadedStandbyKeepsTheFollowedTimelineAfterItsUpstreamDies() throws Exception {
        try (PgReplicaSet set = PgReplicaSet.start(2); PgServer pg3 = set.server("pg2").createStandby("tli3")) {
            PgServer pg2 = set.server("pg2");
            set.primary().stop();
            pg2.execute("SELECT pg_promote(true, 60)");
            pg2.execute("CREATE TABLE after_promotion (i int)");
            await("tli3 receives timeline 2", () -> {
                try (Connection c = pg3.connect()) {
                    return ServerProbe.walReceiver(c).isPresent() && ServerProbe.timeline(c) == 2;
                }
            });
            try (Connection c = pg3.connect()) {
                assertThat(ServerProbe.lastKnownTimeline(c)).isEqualTo(2);
            }
            pg2.kill9();
            await("tli3's WAL receiver stops", () -> {
                try (Connection c = pg3.connect()) {
                    return ServerProbe.walReceiver(c).map(w -> !w.isStreaming()).orElse(true);
                }
            });
            try (Connection c = pg3.connect()) {
                assertThat(ServerProbe.isInRecovery(c)).isTrue();
                assertThat(ServerProbe.lastKnownTimeline(c)).isEqualTo(2);
            }
        }
    }

    @Test
    void primaryAndStreamingStandbyAgreeWithTimeline() throws Exception {
        try (PgReplicaSet set = PgReplicaSet.start(2)) {
            for (PgServer s : set.servers()) {
                try (Connection c = s.connect()) {
                    assertThat(ServerProbe.lastKnownTimeline(c)).isEqualTo(ServerProbe.timeline(c)).isEqualTo(1);
                }
            }
        }
    }

    private static void await(String what, Callable<Boolean> condition) throws Exception {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!condition.call()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(100);
        }
    }
}
