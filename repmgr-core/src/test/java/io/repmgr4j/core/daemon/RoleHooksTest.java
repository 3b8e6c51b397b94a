package io.repmgr4j.core.daemon;

import static io.repmgr4j.core.daemon.DaemonTestSupport.await;
import static io.repmgr4j.core.daemon.DaemonTestSupport.config;
import static io.repmgr4j.core.daemon.DaemonTestSupport.fast;
import static io.repmgr4j.core.daemon.DaemonTestSupport.isPrimary;
import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.DaemonEvents;
import io.repmgr4j.DaemonOptions;
import io.repmgr4j.FailoverDaemon;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.NodeType;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.core.ReplicationClusters;
import io.repmgr4j.spi.RoleChange;
import io.repmgr4j.spi.RoleChangeListener;
import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * promote_command run by the daemon instead of its own promotion (here a script that
 * records its expanded placeholders and runs {@code pg_ctl promote}), and the
 * {@link RoleChangeListener} calls of a kill -9 failover on real servers: the old
 * primary's daemon tells onDemote, the promoted node's onPromote, the third node's onFollow.
 */
class RoleHooksTest {

    /** Every call, as "kind:node[:upstream]", with its change. */
    static final class Calls implements RoleChangeListener {
        final List<String> calls = new CopyOnWriteArrayList<>();
        final List<RoleChange> demotes = new CopyOnWriteArrayList<>();

        @Override
        public void onPromote(RoleChange c) {
            calls.add("promote:" + c.nodeId());
        }

        @Override
        public void onDemote(RoleChange c) {
            demotes.add(c);
            calls.add("demote:" + c.nodeId());
        }

        @Override
        public void onFollow(RoleChange c) {
            calls.add("follow:" + c.nodeId() + ":" + c.upstreamNodeId().getAsInt());
        }
    }

    @Test
    void promoteCommandAndRoleChangeListenersInAFailover(@TempDir Path dir) throws IOException {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        Path marker = dir.resolve("promoted.txt");
        List<FailoverDaemon> daemons = new ArrayList<>();
        Calls calls = new Calls();
        try (PgReplicaSet set = PgReplicaSet.start(3, b -> b.setting("wal_retrieve_retry_interval", "200ms"));
             ReplicationCluster cluster = ReplicationClusters.connect(set.primary().conninfo())) {
            PgServer pg2 = set.server("pg2");
            String promote = "echo promote %n %a %p >> " + marker + " && " + pg2.bindir().resolve("pg_ctl") + " -D "
                    + pg2.dataDirectory() + " -w -t 30 promote";
            List<NodeConfig> configs = List.of(config(1, set.server("pg1"), 100),
                    config(2, pg2, 90, b -> b.promoteCommand(promote)), config(3, set.server("pg3"), 20));
            cluster.registerPrimary(configs.get(0)).execute();
            cluster.registerStandby(configs.get(1)).waitUntilAttached(Duration.ofSeconds(30)).execute();
            cluster.registerStandby(configs.get(2)).waitUntilAttached(Duration.ofSeconds(30)).execute();
            DaemonOptions o = DaemonOptions.builder().from(fast()).addRoleChangeListeners(calls).build();
            DaemonTestSupport.Recorder events = new DaemonTestSupport.Recorder();
            for (NodeConfig c : configs) {
                daemons.add(cluster.daemon(c, o).addListener(events).start());
            }
            await("pg1's daemon to tell onPromote at its start", Duration.ofSeconds(10), () -> calls.calls.contains("promote:1"));
            await("pg3's daemon to watch pg1", Duration.ofSeconds(10), () -> daemons.get(2).status().upstreamLastSeen().isPresent());

            set.server("pg1").kill9();
            await("pg2 to be promoted", Duration.ofSeconds(30), () -> isPrimary(pg2));
            await("the role changes of the failover", Duration.ofSeconds(30), () -> calls.calls.containsAll(
                    List.of("demote:1", "promote:2", "follow:3:2")));
            assertThat(calls.calls).containsSubsequence("promote:1", "demote:1");
            assertThat(calls.calls.stream().filter(c -> c.startsWith("promote:")).toList())
                    .containsExactly("promote:1", "promote:2");
            assertThat(calls.demotes.stream().filter(c -> c.nodeId() == 1).findFirst().orElseThrow().reason())
                    .contains("does not answer");

            assertThat(Files.readString(marker).strip()).isEqualTo("promote 2 pg2 1");
            await("the failover promote event", Duration.ofSeconds(10), () -> events.has(DaemonEvents.REPMGRD_FAILOVER_PROMOTE));
            NodeRecord r2 = cluster.metadata().nodes().stream().filter(n -> n.nodeId() == 2).findFirst().orElseThrow();
            assertThat(r2.type()).isEqualTo(NodeType.PRIMARY);
            assertThat(r2.upstreamNodeId()).isEmpty();
        } finally {
            daemons.forEach(FailoverDaemon::close);
        }
    }
}
