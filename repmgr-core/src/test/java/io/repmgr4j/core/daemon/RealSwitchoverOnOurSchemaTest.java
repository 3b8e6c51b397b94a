package io.repmgr4j.core.daemon;

import static io.repmgr4j.core.daemon.DaemonTestSupport.await;
import static io.repmgr4j.core.daemon.DaemonTestSupport.config;
import static io.repmgr4j.core.daemon.DaemonTestSupport.fast;
import static io.repmgr4j.core.daemon.DaemonTestSupport.isPrimary;
import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.DaemonEvents;
import io.repmgr4j.DaemonMode;
import io.repmgr4j.FailoverDaemon;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.core.ReplicationClusters;
import io.repmgr4j.spi.CommandResult;
import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import io.repmgr4j.testkit.SshServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/**
 * The worst case: a real {@code repmgr standby switchover --siblings-follow} on a
 * cluster repmgr4j built without the extension, repmgr4j daemons running. It used to shut
 * the primary down and then fail on a missing function, leaving no primary; now it finds
 * the functions, pauses repmgr4j's daemons, switches over, and no daemon fails over.
 * repmgr reaches the other nodes over SSH: a private sshd of the test kit on loopback.
 */
class RealSwitchoverOnOurSchemaTest {

    @Test
    void realSwitchoverCompletesAndRepmgr4jDaemonsStandAside() throws Exception {
        List<FailoverDaemon> daemons = new ArrayList<>();
        try (PgReplicaSet set = PgReplicaSet.start(3, b -> b.setting("wal_retrieve_retry_interval", "200ms"));
             SshServer ssh = SshServer.start();
             ReplicationCluster cluster = ReplicationClusters.connect(set.primary().conninfo());
             RealRepmgr repmgr = new RealRepmgr()) {
            PgServer pg1 = set.server("pg1");
            PgServer pg2 = set.server("pg2");
            PgServer pg3 = set.server("pg3");
            PgServer[] servers = {pg1, pg2, pg3};
            UserPrincipal owner = repmgr.directory().getFileSystem().getUserPrincipalLookupService()
                    .lookupPrincipalByName(pg1.osUser());
            Path key = repmgr.directory().resolve("id_ed25519");
            Files.copy(ssh.clientKey().privateKey(), key);
            Files.setOwner(key, owner);
            Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
            Path knownHosts = repmgr.directory().resolve("known_hosts");
            Files.writeString(knownHosts, ssh.knownHostsLine() + "\n");
            String sshOptions = "-p " + ssh.port() + " -i " + key + " -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes"
                    + " -o UserKnownHostsFile=" + knownHosts + " -o ConnectTimeout=5";
            List<NodeConfig> configs = new ArrayList<>();
            for (int id = 1; id <= 3; id++) {
                PgServer s = servers[id - 1];
                String pgCtl = s.bindir().resolve("pg_ctl").toString();
                Path conf = repmgr.configure(id, s, "ssh_options='" + sshOptions + "'",
                        "service_start_command='" + pgCtl + " -w -D " + s.dataDirectory() + " -l "
                                + repmgr.directory().resolve(s.name() + "-start.log") + " start'",
                        "service_stop_command='" + pgCtl + " -D " + s.dataDirectory() + " -m fast -W stop'",
                        "shutdown_check_timeout=30", "standby_reconnect_timeout=30", "node_rejoin_timeout=30");
                configs.add(config(id, s, 100, b -> b.configFile(conf.toString())));
            }
            cluster.registerPrimary(configs.get(0)).extensionFree(true).execute();
            cluster.registerStandby(configs.get(1)).waitUntilAttached(Duration.ofSeconds(30)).execute();
            cluster.registerStandby(configs.get(2)).waitUntilAttached(Duration.ofSeconds(30)).execute();
            for (NodeConfig c : configs) {
                daemons.add(cluster.daemon(c, fast()).start());
            }
            await("standby daemons to see pg1", Duration.ofSeconds(20), () ->
                    daemons.get(1).status().upstreamLastSeen().isPresent() && daemons.get(2).status().upstreamLastSeen().isPresent());

            CommandResult r = repmgr.run(pg2, 2, Duration.ofSeconds(180), "standby", "switchover", "--siblings-follow");
            String out = "stdout:\n" + r.stdout() + "\nstderr:\n" + r.stderr();
            assertThat(r.exitCode()).as(out).isZero();
            // repmgr pauses every daemon and unpauses them after, the old primary (now a standby visited before the
            // new primary) included: no warning or error about either
            assertThat(out.lines().filter(l -> l.toLowerCase().contains("pause") && (l.contains("WARNING") || l.contains("ERROR"))))
                    .as(out).isEmpty();
            assertThat(r.stderr()).as(out).contains("STANDBY SWITCHOVER has completed successfully")
                    .doesNotContain("does not exist");
            assertThat(isPrimary(pg2)).isTrue();
            pg2.waitForStreaming(pg1, Duration.ofSeconds(30));
            pg2.waitForStreaming(pg3, Duration.ofSeconds(30));
            assertThat(isPrimary(pg1)).isFalse();
            assertThat(isPrimary(pg3)).isFalse();
            // repmgr unpaused them
            await("every repmgr4j daemon to be unpaused and to monitor pg2", Duration.ofSeconds(30), () ->
                    daemons.stream().noneMatch(d -> d.status().paused())
                            && daemons.get(0).status().upstreamNodeId().equals(OptionalInt.of(2))
                            && daemons.get(2).status().upstreamNodeId().equals(OptionalInt.of(2))
                            && daemons.get(0).status().mode() == DaemonMode.MONITORING);
            assertThat(cluster.events().event(DaemonEvents.REPMGRD_FAILOVER_PROMOTE).limit(10).list()).isEmpty();
            assertThat(cluster.events().event("standby_switchover").limit(10).list()).hasSize(1)
                    .allSatisfy(e -> assertThat(e.successful()).isTrue());
        } finally {
            daemons.forEach(FailoverDaemon::close);
        }
    }
}
