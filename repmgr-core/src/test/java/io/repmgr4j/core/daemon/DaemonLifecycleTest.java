package io.repmgr4j.core.daemon;

import static io.repmgr4j.core.daemon.DaemonTestSupport.await;
import static io.repmgr4j.core.daemon.DaemonTestSupport.config;
import static io.repmgr4j.core.daemon.DaemonTestSupport.fast;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.DaemonEvents;
import io.repmgr4j.DaemonMode;
import io.repmgr4j.DaemonOptions;
import io.repmgr4j.DaemonState;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.FailoverDaemon;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.NodeServiceStatus;
import io.repmgr4j.NodeType;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.ServiceStatus;
import io.repmgr4j.core.ReplicationClusters;
import io.repmgr4j.format.ServiceStatusFormat;
import io.repmgr4j.spi.Command;
import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The embedded daemon's life on a primary and one standby: start and close without
 * leftovers, refusals at start, monitoring history, child node events, the notification
 * command, listeners that block, and service status.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DaemonLifecycleTest {
    private PgReplicaSet set;
    private ReplicationCluster cluster;
    private PgServer pg1;
    private PgServer pg2;

    @BeforeAll
    void start() {
        set = PgReplicaSet.start(2, b -> b.setting("wal_retrieve_retry_interval", "200ms"));
        pg1 = set.server("pg1");
        pg2 = set.server("pg2");
        cluster = ReplicationClusters.connect(pg1.conninfo());
        cluster.registerPrimary(config(1, pg1, 100)).execute();
        cluster.registerStandby(config(2, pg2, 100)).waitUntilAttached(Duration.ofSeconds(30)).execute();
    }

    @AfterAll
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
        if (set != null) {
            set.close();
        }
    }

    @Test
    @Order(1)
    void startedDaemonsStopCleanlyWithNoThreadOrConnectionLeft() {
        FailoverDaemon d1 = cluster.daemon(config(1, pg1, 100), fast());
        FailoverDaemon d2 = cluster.daemon(config(2, pg2, 100), fast());
        assertThat(d1.state()).isEqualTo(DaemonState.CREATED);
        assertThat(d1.status().mode()).isEqualTo(DaemonMode.STOPPED);
        d1.start();
        d2.start();
        assertThat(d1.state()).isEqualTo(DaemonState.RUNNING);
        await("pg2's daemon to see pg1", Duration.ofSeconds(10), () -> d2.status().upstreamLastSeen().isPresent());
        assertThat(d1.status().localRole()).hasValue(NodeType.PRIMARY);
        assertThat(d2.status().localRole()).hasValue(NodeType.STANDBY);
        assertThat(d2.status().upstreamNodeId()).hasValue(1);
        assertThat(DaemonTestSupport.daemonThreads()).contains("repmgr4j-daemon-1", "repmgr4j-daemon-1-watch",
                "repmgr4j-daemon-2", "repmgr4j-daemon-2-watch");
        assertThat(DaemonTestSupport.daemonSessions(pg2)).anySatisfy(s -> assertThat(s).startsWith("r4jd n=2 u=1 p=0 a=1"));
        assertThatThrownBy(d1::start).isInstanceOf(IllegalStateException.class);

        d1.close();
        d2.close();
        d2.close();
        assertThat(d1.state()).isEqualTo(DaemonState.CLOSED);
        assertThat(d2.status().mode()).isEqualTo(DaemonMode.STOPPED);
        DaemonTestSupport.assertNoLeftovers(pg1, pg2);
        assertThatThrownBy(d1::start).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        assertThat(DaemonTestSupport.stored(cluster, DaemonEvents.REPMGRD_SHUTDOWN)).extracting(e -> e.nodeId()).contains(1, 2);

        FailoverDaemon never = cluster.daemon(config(2, pg2, 100));
        never.close();
        assertThat(never.state()).isEqualTo(DaemonState.CLOSED);
    }

    @Test
    @Order(2)
    void startRefusesBadSettingsUnregisteredNodesAndSecondDaemonsAndWaitsForADownServer() {
        NodeConfig unregistered = NodeConfig.builder().from(config(2, pg2, 100)).nodeId(9).build();
        assertThatThrownBy(() -> cluster.daemon(unregistered).start()).isInstanceOfSatisfying(ReplicationException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.BAD_CONFIG);
            assertThat(e.getMessage()).contains("no metadata record found for node 9");
            assertThat(e.hint()).hasValueSatisfying(h -> assertThat(h).contains("register"));
        });
        NodeConfig renamed = NodeConfig.builder().from(config(2, pg2, 100)).nodeName("other").build();
        assertThatThrownBy(() -> cluster.daemon(renamed).start()).isInstanceOfSatisfying(ReplicationException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.BAD_CONFIG));
        NodeConfig down = NodeConfig.builder().from(config(2, pg2, 100))
                .conninfo(ConnInfo.parse("host=127.0.0.1 port=" + closedPort() + " user=repmgr dbname=repmgr password=hidden-pw"))
                .build();
        // a server that does not answer is waited for, as repmgrd does (DaemonStartWhileLocalDownTest)
        try (FailoverDaemon waiting = cluster.daemon(down, fast()).start()) {
            assertThat(waiting.state()).isEqualTo(DaemonState.RUNNING);
            assertThat(waiting.status().mode()).isEqualTo(DaemonMode.LOCAL_DOWN);
        }
        DaemonOptions tooFast = DaemonOptions.builder().monitorInterval(Duration.ofMillis(10)).build();
        FailoverDaemon refused = cluster.daemon(config(2, pg2, 100), tooFast);
        assertThatThrownBy(refused::start).isInstanceOfSatisfying(ReplicationException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.BAD_CONFIG));
        assertThat(refused.state()).isEqualTo(DaemonState.CREATED);
        assertThatThrownBy(() -> DaemonOptions.builder().reconnectInterval(Duration.ZERO).build())
                .isInstanceOfSatisfying(ReplicationException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.BAD_CONFIG));

        try (FailoverDaemon first = cluster.daemon(config(2, pg2, 100), fast()).start()) {
            assertThatThrownBy(() -> cluster.daemon(config(2, pg2, 100)).start())
                    .isInstanceOfSatisfying(ReplicationException.class, e -> {
                        assertThat(e.code()).isEqualTo(ErrorCode.BAD_CONFIG);
                        assertThat(e.getMessage()).contains("a daemon is already running for node \"pg2\" (ID: 2)");
                    });
            assertThat(first.state()).isEqualTo(DaemonState.RUNNING);
        }
        refused.close();
        DaemonTestSupport.assertNoLeftovers(pg1, pg2);
    }

    @Test
    @Order(3)
    void monitoringHistoryChildEventsNotificationsAndABlockedListener() {
        String log = pg2.dataDirectory() + "/repmgr4j-notify.log";
        NodeConfig c2 = config(2, pg2, 100, b -> b.monitoringHistory(true)
                .eventNotificationCommand("echo \"%n|%e|%s|%d|%a\" >> " + log)
                .eventNotifications(Set.of(DaemonEvents.REPMGRD_LOCAL_DISCONNECT, DaemonEvents.REPMGRD_LOCAL_RECONNECT)));
        CountDownLatch release = new CountDownLatch(1);
        DaemonTestSupport.Recorder recorder = new DaemonTestSupport.Recorder();
        try (FailoverDaemon d1 = cluster.daemon(config(1, pg1, 100), fast());
             FailoverDaemon d2 = cluster.daemon(c2, fast()).addListener(recorder)) {
            d1.addListener(e -> {
                try {
                    release.await();
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                }
            });
            d1.start();
            d2.start();

            await("monitoring history of pg2", Duration.ofSeconds(10),
                    () -> !cluster.metadata().monitoringHistory(2, 1).isEmpty());
            assertThat(cluster.metadata().monitoringHistory(2, 1).get(0)).satisfies(m -> {
                assertThat(m.primaryNodeId()).isEqualTo(1);
                assertThat(m.lastWalStandbyLocation()).isPresent();
                assertThat(m.replicationLag()).isGreaterThanOrEqualTo(0);
            });
            assertThat(pg1.query("SELECT standby_name FROM repmgr.replication_status WHERE standby_node_id = 2", String.class))
                    .isEqualTo("pg2");

            pg2.stop();
            await("child_node_disconnect recorded by pg1's daemon", Duration.ofSeconds(10),
                    () -> !DaemonTestSupport.stored(cluster, DaemonEvents.CHILD_NODE_DISCONNECT).isEmpty());
            // pg1's daemon records events although its only listener has been blocked since repmgrd_start
            assertThat(release.getCount()).isEqualTo(1);
            assertThat(d1.status().mode()).isEqualTo(DaemonMode.MONITORING);
            await("pg2's daemon to see its server down", Duration.ofSeconds(10), () -> d2.status().mode() == DaemonMode.LOCAL_DOWN);

            pg2.start();
            await("child_node_reconnect", Duration.ofSeconds(20),
                    () -> !DaemonTestSupport.stored(cluster, DaemonEvents.CHILD_NODE_RECONNECT).isEmpty());
            assertThat(DaemonTestSupport.stored(cluster, DaemonEvents.CHILD_NODE_DISCONNECT).get(0).details())
                    .hasValue("standby \"pg2\" (ID: 2) has disconnected");
            assertThat(DaemonTestSupport.stored(cluster, DaemonEvents.CHILD_NODE_RECONNECT).get(0).details().orElse(""))
                    .startsWith("standby \"pg2\" (ID: 2) has reconnected after ");
            await("pg2's daemon to reconnect to its server", Duration.ofSeconds(10),
                    () -> recorder.has(DaemonEvents.REPMGRD_LOCAL_RECONNECT));
            await("the notification command to have run twice", Duration.ofSeconds(10), () -> read(pg2, log).size() == 2);
            assertThat(read(pg2, log)).containsExactly(
                    "2|repmgrd_local_disconnect|1|unable to connect to local node|",
                    "2|repmgrd_local_reconnect|1|" + recorder.events.stream()
                            .filter(e -> e.event().equals(DaemonEvents.REPMGRD_LOCAL_RECONNECT)).findFirst().orElseThrow()
                            .details().orElseThrow() + "|");
            await("the events written while pg2 was down to reach pg1", Duration.ofSeconds(10),
                    () -> !DaemonTestSupport.stored(cluster, DaemonEvents.REPMGRD_LOCAL_DISCONNECT).isEmpty());
        } finally {
            release.countDown();
        }
        DaemonTestSupport.assertNoLeftovers(pg1, pg2);
    }

    @Test
    @Order(4)
    void serviceStatusShowsEachDaemon() {
        try (FailoverDaemon d1 = cluster.daemon(config(1, pg1, 100), fast()).start();
             FailoverDaemon d2 = cluster.daemon(config(2, pg2, 100), fast()).start()) {
            await("pg2's daemon to see pg1", Duration.ofSeconds(10), () -> d2.status().upstreamLastSeen().isPresent());
            ServiceStatus status = cluster.serviceStatus().execute();
            assertThat(status.problems()).isEmpty();
            NodeServiceStatus row1 = status.node(1).orElseThrow();
            NodeServiceStatus row2 = status.node(2).orElseThrow();
            assertThat(row1.daemonRunning()).hasValue(true);
            assertThat(row1.upstreamLastSeen()).isEmpty();
            assertThat(row2.daemonPid()).hasValue(ProcessHandle.current().pid());
            assertThat(row2.paused()).hasValue(false);
            assertThat(row2.upstreamLastSeen()).hasValueSatisfying(d -> assertThat(d).isLessThan(Duration.ofSeconds(30)));
            String pid = String.valueOf(ProcessHandle.current().pid());
            String[] lines = ServiceStatusFormat.table(status).split("\n");
            assertThat(lines).hasSize(4);
            assertThat(lines[1]).startsWith("----+------+---------+-----------+----------+---------+-");
            assertThat(lines[2].stripTrailing()).isEqualTo(" 1  | pg1  | primary | * running |          | running | " + pid + " | no      | n/a");
            assertThat(lines[3].stripTrailing()).matches(" 2  \\| pg2  \\| standby \\|   running \\| pg1      \\| running \\| " + pid
                    + " \\| no      \\| \\d+ second\\(s\\) ago");
            assertThat(ServiceStatusFormat.csv(status).split("\n")[0])
                    .isEqualTo("id,name,role,status,upstream,repmgrd,pid,paused,upstream_last_seen");

            d2.close();
            ServiceStatus after = cluster.serviceStatus().execute();
            assertThat(after.node(2).orElseThrow().daemonRunning()).hasValue(false);
            assertThat(after.problems()).containsExactly("no failover daemon is running on node \"pg2\" (ID: 2)");
            assertThat(ServiceStatusFormat.table(after)).contains("| not running | n/a ");
        }
    }

    private static List<String> read(PgServer s, String path) {
        String out = s.runner().run(Command.of("sh", "-c", "cat \"$1\" 2>/dev/null || true", "sh", path)).stdout();
        return out.isBlank() ? List.of() : List.of(out.strip().split("\n"));
    }

    private static int closedPort() {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
