package io.repmgr4j.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.repmgr4j.ErrorCode;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.SyncEvents;
import io.repmgr4j.SyncMode;
import io.repmgr4j.SynchronousPlan;
import io.repmgr4j.SynchronousRecord;
import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import io.repmgr4j.sql.SyncStateTable;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * {@code cluster.synchronousReplication()} on a real 3-node set: the dry run changes
 * nothing, bad input is refused before anything changes, apply sets
 * synchronous_standby_names and writes the record that the standbys receive.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SynchronousReplicationTest {
    private PgReplicaSet set;
    private ReplicationCluster cluster;

    @BeforeAll
    void start() {
        set = PgReplicaSet.start(3);
        cluster = ReplicationClusters.connect(set.primary().conninfo());
        cluster.registerPrimary(config(1, set.server("pg1"), 100)).execute();
        cluster.registerStandby(config(2, set.server("pg2"), 80)).waitUntilAttached(Duration.ofSeconds(30)).execute();
        cluster.registerStandby(config(3, set.server("pg3"), 60)).waitUntilAttached(Duration.ofSeconds(30)).execute();
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

    static NodeConfig config(int id, PgServer s, int priority) {
        return NodeConfig.builder().nodeId(id).nodeName(s.name()).conninfo(s.conninfo()).priority(priority)
                .dataDirectory(s.dataDirectory().toString()).build();
    }

    private String names() {
        return set.server("pg1").query("SHOW synchronous_standby_names", String.class);
    }

    private Optional<SynchronousRecord> record(PgServer s) {
        try (Connection c = s.connect()) {
            return SyncStateTable.read(c);
        } catch (SQLException e) {
            throw new AssertionError(e);
        }
    }

    private String syncState(String app) {
        return set.server("pg1").query("SELECT sync_state FROM pg_stat_replication WHERE application_name = '" + app + "'",
                String.class);
    }

    static void await(String what, Duration timeout, java.util.function.BooleanSupplier cond) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    @Test
    @Order(1)
    void thePlanShowsWhatWouldBeSetAndChangesNothing() {
        SynchronousPlan p = cluster.synchronousReplication().mode(SyncMode.PRIORITY).plan();
        assertThat(p.applied()).isFalse();
        assertThat(p.currentStandbyNames()).isEmpty();
        assertThat(p.standbyNames()).isEqualTo("FIRST 1 (\"pg2\")");
        assertThat(p.members()).containsExactly("pg2");
        assertThat(p.reason()).isEqualTo("the 1 best connected sync candidate(s) by priority");
        assertThat(p.steps()).hasSize(4).first().asString().startsWith("widen the synchronous record to (pg2)");
        assertThat(names()).isEmpty();
        assertThat(record(set.server("pg1"))).isEmpty();
    }

    @Test
    @Order(2)
    void badInputIsRefusedAndNothingChanges() {
        assertThatThrownBy(() -> cluster.synchronousReplication().mode(SyncMode.PRIORITY).count(3).apply())
                .isInstanceOfSatisfying(ReplicationException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.BAD_CONFIG);
                    assertThat(e.getMessage()).isEqualTo("synchronous_count 3 is larger than the 2 sync candidate(s)");
                });
        assertThatThrownBy(() -> cluster.synchronousReplication().mode(SyncMode.QUORUM).candidate("pg9", true).apply())
                .isInstanceOfSatisfying(ReplicationException.class, e -> {
                    assertThat(e.getMessage()).isEqualTo("unknown node \"pg9\" named as a sync candidate");
                    assertThat(e.detail()).hasValue("registered nodes: pg1, pg2, pg3");
                });
        assertThatThrownBy(() -> cluster.synchronousReplication().mode(SyncMode.PRIORITY).candidate("pg2", false)
                .candidate("pg3", false).plan())
                .isInstanceOf(ReplicationException.class).hasMessageContaining("needs a sync candidate, and there is none");
        NodeConfig bad = NodeConfig.builder().from(config(1, set.server("pg1"), 100)).synchronous(SyncMode.QUORUM)
                .synchronousCount(3).build();
        try (ReplicationCluster other = ReplicationClusters.connect(set.primary().conninfo())) { // its own bindings
            assertThatThrownBy(() -> other.daemon(bad).start())
                    .isInstanceOfSatisfying(ReplicationException.class, e -> {
                        assertThat(e.code()).isEqualTo(ErrorCode.BAD_CONFIG);
                        assertThat(e.getMessage()).isEqualTo("synchronous_count 3 is larger than the 2 sync candidate(s)");
                    });
        }
        assertThat(names()).isEmpty();
        assertThat(record(set.server("pg1"))).isEmpty();
        assertThat(cluster.events().event(SyncEvents.SYNCHRONOUS_CHANGED).list()).isEmpty();
    }

    @Test
    @Order(3)
    void applyInPriorityModeMakesTheBestStandbySynchronous() {
        SynchronousPlan p = cluster.synchronousReplication().mode(SyncMode.PRIORITY).apply();
        assertThat(p.applied()).isTrue();
        assertThat(p.complete()).isTrue();
        assertThat(p.steps()).anySatisfy(s -> assertThat(s).startsWith("narrowed the synchronous record"));
        assertThat(names()).isEqualTo("FIRST 1 (\"pg2\")");
        assertThat(syncState("pg2")).isEqualTo("sync");
        assertThat(syncState("pg3")).isEqualTo("async");
        set.server("pg1").execute("CREATE TABLE sync_probe (i int)"); // a commit the sync standby acknowledges
        await("pg3 to receive the record", Duration.ofSeconds(10),
                () -> record(set.server("pg3")).map(r -> r.kind() == SynchronousRecord.Kind.PRIORITY).orElse(false));
        SynchronousRecord r = record(set.server("pg3")).orElseThrow();
        assertThat(r.members()).containsExactly(2);
        assertThat(r.mode()).isEqualTo(SyncMode.PRIORITY);
        assertThat(r.primaryNodeId()).isEqualTo(1);
        assertThat(cluster.events().event(SyncEvents.SYNCHRONOUS_CHANGED).list()).singleElement()
                .satisfies(e -> assertThat(e.details().orElse("")).contains("'' -> 'FIRST 1 (\"pg2\")'"));
        assertThat(cluster.synchronousReplication().apply().steps()).isEmpty(); // up to date: nothing done
    }

    @Test
    @Order(4)
    void statusCarriesEachStandbysSyncStateAndTheMode() {
        io.repmgr4j.ClusterStatus st = cluster.show().timeout(Duration.ofSeconds(5)).execute();
        assertThat(st.synchronousMode()).isEqualTo(SyncMode.PRIORITY);
        assertThat(st.synchronous().orElseThrow().kind()).isEqualTo(SynchronousRecord.Kind.PRIORITY);
        assertThat(st.node("pg2").orElseThrow().syncState()).hasValue(io.repmgr4j.SyncState.SYNC);
        assertThat(st.node("pg3").orElseThrow().syncState()).hasValue(io.repmgr4j.SyncState.ASYNC);
        assertThat(st.node("pg1").orElseThrow().syncState()).isEmpty();
        String plain = io.repmgr4j.format.ClusterShowFormat.table(st);
        assertThat(plain.lines().findFirst().orElseThrow().stripTrailing()) // repmgr pads the last cell too
                .isEqualTo(" ID | Name | Role    | Status    | Upstream | Location | Priority | Timeline | Connection string");
        String verbose = io.repmgr4j.format.ClusterShowFormat.verboseTable(st);
        assertThat(verbose.lines().findFirst().orElseThrow()).contains("| Timeline | Sync  | Connection string");
        assertThat(verbose).contains("| sync  |").contains("| async |")
                .contains("Synchronous replication: priority, FIRST 1 (\"pg2\") (record: priority 1 of node(s) [2], generation");
        String service = io.repmgr4j.format.ServiceStatusFormat.table(cluster.serviceStatus().execute());
        assertThat(service.lines().findFirst().orElseThrow().stripTrailing()).endsWith("| Upstream last seen | Sync");
    }

    @Test
    @Order(5)
    void quorumModeNamesBothAndTheRecordSaysAnyOneOfTwo() {
        SynchronousPlan p = cluster.synchronousReplication().mode(SyncMode.QUORUM).count(1).apply();
        assertThat(p.complete()).isTrue();
        assertThat(names()).isEqualTo("ANY 1 (\"pg2\", \"pg3\")");
        assertThat(syncState("pg2")).isEqualTo("quorum");
        assertThat(syncState("pg3")).isEqualTo("quorum");
        SynchronousRecord r = record(set.server("pg1")).orElseThrow();
        assertThat(r.kind()).isEqualTo(SynchronousRecord.Kind.QUORUM);
        assertThat(r.recordCount()).isEqualTo(1);
        assertThat(r.members()).containsExactly(2, 3);
        assertThat(p.steps()).first().asString().startsWith("widened the synchronous record to (pg2, pg3)");
    }

    @Test
    @Order(6)
    void offClearsItAgain() {
        cluster.synchronousReplication().mode(SyncMode.OFF).apply();
        assertThat(names()).isEmpty();
        assertThat(record(set.server("pg1")).orElseThrow().kind()).isEqualTo(SynchronousRecord.Kind.OFF);
        assertThat(syncState("pg2")).isEqualTo("async");
    }
}
