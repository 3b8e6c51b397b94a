package io.repmgr4j.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.TopologyNotice;
import io.repmgr4j.testkit.PgReplicaSet;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/** The role-change notices on channel repmgr4j_topology, received by a real LISTEN. */
class TopologyNoticeTest {
    static TopologyFixture fx;

    @BeforeAll
    static void start() {
        fx = new TopologyFixture(PgReplicaSet.start(3));
    }

    @AfterAll
    static void stop() {
        if (fx != null) {
            fx.close();
        }
    }

    static Connection listen(int nodeId) throws SQLException {
        Connection c = fx.server(nodeId).connect();
        try (Statement st = c.createStatement()) {
            st.execute("LISTEN " + TopologyNotice.CHANNEL);
        }
        return c;
    }

    static List<TopologyNotice> received(Connection c, Duration within) throws SQLException {
        List<TopologyNotice> out = new ArrayList<>();
        PGNotification[] got = c.unwrap(PGConnection.class).getNotifications((int) within.toMillis());
        for (PGNotification n : got == null ? new PGNotification[0] : got) {
            assertThat(n.getName()).isEqualTo(TopologyNotice.CHANNEL);
            out.add(TopologyNotice.parse(n.getParameter()).orElseThrow());
        }
        return out;
    }

    @Test
    void publishSendsTimelineTermAndPrimaryOnlyOnAWritableServer() throws SQLException {
        try (ClusterContext ctx = new ClusterContext(List.of(fx.server(1).conninfo()), List.of(), Duration.ofSeconds(5),
                Duration.ofSeconds(5), List.of(), io.repmgr4j.spi.LocalCommandRunner.asUser("postgres"));
             Connection l = listen(1)) {
            assertThat(TopologyNotifier.publish(ctx, fx.server(2).conninfo(), 0, "follow")).isFalse();
            assertThat(TopologyNotifier.publish(ctx, fx.server(1).conninfo(), 0, "follow")).isTrue();
            assertThat(received(l, Duration.ofSeconds(10))).containsExactly(new TopologyNotice("follow", 1, 1, 1));
        }
    }

    @Test
    void standbyFollowNotifiesOnThePrimary() throws SQLException {
        try (Connection l = listen(1)) {
            fx.cluster.follow(3).upstreamNodeId(2).timeout(Duration.ofSeconds(30)).execute();
            List<TopologyNotice> got = received(l, Duration.ofSeconds(10));
            assertThat(got).extracting(TopologyNotice::event).containsExactly("follow");
            assertThat(got.get(0).primaryNodeId()).isEqualTo(1);
            fx.cluster.follow(3).upstreamNodeId(1).timeout(Duration.ofSeconds(30)).execute();
            assertThat(received(l, Duration.ofSeconds(10))).extracting(TopologyNotice::event).containsExactly("follow");
        }
    }
}
