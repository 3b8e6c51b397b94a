package io.repmgr4j.sql;

import static io.repmgr4j.sql.SchemaInstallerTest.exec;
import static io.repmgr4j.sql.SchemaInstallerTest.rows;
import static io.repmgr4j.sql.SchemaInstallerTest.scalar;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.EventQuery;
import io.repmgr4j.EventRecord;
import io.repmgr4j.Events;
import io.repmgr4j.Lsn;
import io.repmgr4j.MonitoringRecord;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.NodeType;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.spi.MetadataStore;
import io.repmgr4j.testkit.PgServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class JdbcMetadataStoreTest {

    private static final String SECRET = "s3cr3t pa'ss,word";

    private static PgServer server;

    private String db;
    private JdbcMetadataStore store;

    @BeforeAll
    static void startServer() {
        server = PgServer.builder().name("store").start();
    }

    @AfterAll
    static void stopServer() {
        if (server != null) {
            server.close();
        }
    }

    @BeforeEach
    void freshSchema() throws SQLException {
        db = TestDb.create(server, "store");
        try (Connection c = connect()) {
            SchemaInstaller.install(c);
        }
        store = JdbcMetadataStore.of(TestDb.source(server, db));
    }

    private Connection connect() throws SQLException {
        return TestDb.connect(server, db);
    }

    static NodeRecord primary(int id) {
        return NodeRecord.builder()
                .nodeId(id)
                .nodeName("pg" + id)
                .type(NodeType.PRIMARY)
                .conninfo(ConnInfo.parse("host=10.0.0." + id + " port=5432 user=repmgr dbname=repmgr password='" + SECRET.replace("'", "\\'") + "'"))
                .repluser("repmgr")
                .configFile("/etc/repmgr/repmgr.conf")
                .build();
    }

    static NodeRecord standby(int id, int upstream) {
        return NodeRecord.builder()
                .nodeId(id)
                .upstreamNodeId(upstream)
                .active(true)
                .nodeName("pg" + id)
                .type(NodeType.STANDBY)
                .location("dc2")
                .priority(0)
                .conninfo(ConnInfo.parse("host=10.0.0." + id + " port=5433 user=repmgr dbname=repmgr connect_timeout=2"))
                .repluser("rep user")
                .slotName(NodeRecord.slotNameFor(id))
                .configFile("/etc/repmgr/" + id + ".conf")
                .build();
    }

    // ------------------------------------------------------------------ nodes

    @Test
    void insertsReadsUpdatesAndDeletesNodes() throws SQLException {
        NodeRecord p = primary(1);
        NodeRecord s = standby(2, 1);
        NodeRecord w = NodeRecord.builder().from(standby(3, 1)).type(NodeType.WITNESS).active(false)
                .slotName(Optional.empty()).build();
        store.insertNode(p);
        store.insertNode(s);
        store.insertNode(w);

        assertThat(store.nodes()).containsExactly(p, s, w);
        assertThat(store.node(2)).contains(s);
        assertThat(store.node(9)).isEmpty();
        assertThat(store.nodeByName("pg3")).contains(w);
        assertThat(store.nodeByName("nope")).isEmpty();
        assertThat(store.node(1).orElseThrow().conninfo().password()).contains(SECRET);

        try (Connection c = connect()) {
            assertThat(rows(c, "SELECT node_id || ' ' || coalesce(upstream_node_id::text, '-') || ' ' || type || ' '"
                    + " || priority || ' ' || coalesce(slot_name, '-') FROM repmgr.nodes ORDER BY node_id"))
                    .containsExactly("1 - primary 100 -", "2 1 standby 0 repmgr_slot_2", "3 1 witness 0 -");
            assertThat(scalar(c, "SELECT upstream_node_name FROM repmgr.show_nodes WHERE node_id = 2")).isEqualTo("pg1");
        }

        NodeRecord promoted = NodeRecord.builder().from(s).type(NodeType.PRIMARY).upstreamNodeId(OptionalInt.empty())
                .priority(50).location("dc3").build();
        NodeRecord failed = NodeRecord.builder().from(p).type(NodeType.STANDBY).upstreamNodeId(2).active(false).build();
        store.updateNode(promoted);
        store.updateNode(failed);
        assertThat(store.nodes()).containsExactly(failed, promoted, w);

        assertThat(store.deleteNode(3)).isTrue();
        assertThat(store.deleteNode(3)).isFalse();
        assertThat(store.nodes()).containsExactly(failed, promoted);
    }

    @Test
    void refusesADuplicateNodeId() {
        store.insertNode(primary(1));
        assertThatThrownBy(() -> store.insertNode(NodeRecord.builder().from(primary(1)).nodeName("other").build()))
                .isInstanceOfSatisfying(ReplicationException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.DB_QUERY);
                    assertThat(e.getMessage()).isEqualTo("unable to insert the record of node 1");
                    assertThat(e.detail()).contains("a record for node 1 already exists in repmgr.nodes");
                });
        assertThat(store.nodes()).containsExactly(primary(1));
    }

    @Test
    void refusesToUpdateAMissingNode() {
        assertThatThrownBy(() -> store.updateNode(primary(7)))
                .isInstanceOfSatisfying(ReplicationException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.DB_QUERY);
                    assertThat(e.getMessage()).isEqualTo("unable to update the record of node 7");
                    assertThat(e.detail()).contains("there is no record for node 7 in repmgr.nodes");
                });
        assertThat(store.nodes()).isEmpty();
    }

    @Test
    void enforcesTheUpstreamForeignKey() {
        assertThatThrownBy(() -> store.insertNode(standby(2, 1)))
                .isInstanceOfSatisfying(ReplicationException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.DB_QUERY);
                    assertThat(e.detail()).hasValueSatisfying(d -> assertThat(d).contains("nodes_upstream_node_id_fkey"));
                    assertThat(e.hint()).contains("register upstream node 1 first");
                });
        store.insertNode(primary(1));
        store.insertNode(standby(2, 1));
        assertThatThrownBy(() -> store.deleteNode(1))
                .isInstanceOfSatisfying(ReplicationException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.DB_QUERY));
        assertThat(store.nodes()).hasSize(2);
    }

    @Test
    void aTransactionMayInsertAStandbyBeforeItsUpstream() {
        store.inTransaction(tx -> {
            tx.insertNode(standby(2, 1));
            tx.insertNode(primary(1));
            return null;
        });
        assertThat(store.nodes()).extracting(NodeRecord::nodeId).containsExactly(1, 2);
    }

    @Test
    void neverShowsAPasswordInErrors() {
        store.insertNode(primary(1));
        NodeRecord bad = NodeRecord.builder().from(primary(2)).priority(-5).build();
        ReplicationException e = catchReplication(() -> store.insertNode(bad));
        assertThat(e.code()).isEqualTo(ErrorCode.DB_QUERY);
        assertThat(e.detail()).hasValueSatisfying(d -> assertThat(d).contains("nodes_priority_check").contains(ConnInfo.MASK));
        assertNoSecret(e);
        assertNoSecret(catchReplication(() -> store.updateNode(NodeRecord.builder().from(primary(1)).priority(-1).build())));
        assertNoSecret(catchReplication(() -> store.insertNode(primary(1))));
    }

    @Test
    void namesTheNodeWhoseStoredConninfoCannotBeParsed() throws SQLException {
        store.insertNode(primary(1));
        try (Connection c = connect()) {
            exec(c, "INSERT INTO repmgr.nodes (node_id, node_name, type, conninfo, repluser, config_file)"
                    + " VALUES (4, 'pg4', 'standby', 'host=x password=hunter2 oops', 'repmgr', '/x')");
        }
        ReplicationException e = catchReplication(store::nodes);
        assertThat(e.code()).isEqualTo(ErrorCode.DB_QUERY);
        assertThat(e.getMessage()).isEqualTo("the conninfo of node 4 in repmgr.nodes cannot be parsed");
        assertThat(e.toReport()).doesNotContain("hunter2").doesNotContain("oops");
        assertThat(store.node(1)).isPresent();
    }

    @Test
    void refusesAmbiguousNodeNames() throws SQLException {
        store.insertNode(primary(1));
        try (Connection c = connect()) {
            exec(c, "INSERT INTO repmgr.nodes (node_id, node_name, type, conninfo, repluser, config_file)"
                    + " VALUES (5, 'pg1', 'witness', 'host=y', 'repmgr', '/x')");
        }
        assertThatThrownBy(() -> store.nodeByName("pg1"))
                .isInstanceOfSatisfying(ReplicationException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.DB_QUERY))
                .hasMessageContaining("more than one node is named \"pg1\"");
    }

    // ----------------------------------------------------------------- events

    @Test
    void appendsEventsWithTheDatabasesTimestamp() throws SQLException {
        store.insertNode(primary(1));
        OffsetDateTime before = now();
        EventRecord stored = store.appendEvent(EventRecord.builder().nodeId(1).event(Events.PRIMARY_REGISTER).build());
        assertThat(stored.timestamp()).isPresent();
        assertThat(stored.timestamp().get()).isBetween(before.minusSeconds(5), now().plusSeconds(5));
        assertThat(stored.nodeName()).contains("pg1");
        assertThat(stored.successful()).isTrue();

        EventRecord failed = store.appendEvent(EventRecord.builder().nodeId(9).event(Events.STANDBY_CLONE).successful(false)
                .details("cloned from host \"x\" using password=hunter2").build());
        assertThat(failed.nodeName()).isEmpty();
        assertThat(failed.details()).contains("cloned from host \"x\" using password=" + ConnInfo.MASK);

        try (Connection c = connect()) {
            assertThat(rows(c, "SELECT node_id || ' ' || event || ' ' || successful || ' ' || coalesce(details, '-')"
                    + " FROM repmgr.events ORDER BY event_timestamp"))
                    .containsExactly("1 primary_register true -",
                            "9 standby_clone false cloned from host \"x\" using password=" + ConnInfo.MASK);
        }

        OffsetDateTime given = OffsetDateTime.of(2022, 8, 9, 3, 32, 37, 132352000, ZoneOffset.UTC);
        EventRecord old = store.appendEvent(EventRecord.builder().nodeId(1).event(Events.CLUSTER_CREATED).timestamp(given).build());
        assertThat(old.timestamp()).contains(given);
    }

    @Test
    void readsEventsNewestFirstFilteredAndLimited() {
        store.insertNode(primary(1));
        store.insertNode(standby(2, 1));
        List<EventRecord> appended = new ArrayList<>();
        appended.add(store.appendEvent(EventRecord.builder().nodeId(1).event(Events.CLUSTER_CREATED).build()));
        appended.add(store.appendEvent(EventRecord.builder().nodeId(1).event(Events.PRIMARY_REGISTER).build()));
        appended.add(store.appendEvent(EventRecord.builder().nodeId(2).event(Events.STANDBY_CLONE)
                .details("cloned from host \"10.0.0.1\", port 5432; backup method: pg_basebackup; --force: N").build()));
        appended.add(store.appendEvent(EventRecord.builder().nodeId(2).event(Events.STANDBY_REGISTER)
                .details("standby registration succeeded; upstream node ID is 1").build()));
        appended.add(store.appendEvent(EventRecord.builder().nodeId(3).event(Events.STANDBY_REGISTER).successful(false).build()));

        List<EventRecord> all = store.events(EventQuery.latest());
        assertThat(all).extracting(EventRecord::event).containsExactly(Events.STANDBY_REGISTER, Events.STANDBY_REGISTER,
                Events.STANDBY_CLONE, Events.PRIMARY_REGISTER, Events.CLUSTER_CREATED);
        List<EventRecord> expected = new ArrayList<>(appended);
        java.util.Collections.reverse(expected);
        assertThat(all).isEqualTo(expected);
        assertThat(all.get(0).nodeName()).isEmpty();
        assertThat(all.get(1).nodeName()).contains("pg2");

        assertThat(store.events(EventQuery.builder().nodeId(2).build())).extracting(EventRecord::event)
                .containsExactly(Events.STANDBY_REGISTER, Events.STANDBY_CLONE);
        assertThat(store.events(EventQuery.builder().event(Events.STANDBY_REGISTER).build())).extracting(EventRecord::nodeId)
                .containsExactly(3, 2);
        assertThat(store.events(EventQuery.builder().nodeId(2).event(Events.STANDBY_REGISTER).build()))
                .extracting(e -> e.details().orElse(""))
                .containsExactly("standby registration succeeded; upstream node ID is 1");
        assertThat(store.events(EventQuery.builder().limit(2).build())).extracting(EventRecord::event)
                .containsExactly(Events.STANDBY_REGISTER, Events.STANDBY_REGISTER);
        assertThat(store.events(EventQuery.builder().nodeId(42).build())).isEmpty();
    }

    @Test
    void eventsAppendedInOneTransactionKeepTheirOrder() {
        store.inTransaction(tx -> {
            for (int i = 0; i < 5; i++) {
                tx.appendEvent(EventRecord.builder().nodeId(1).event("e" + i).build());
            }
            return null;
        });
        assertThat(store.events(EventQuery.latest())).extracting(EventRecord::event).containsExactly("e4", "e3", "e2", "e1", "e0");
    }

    // ------------------------------------------------------------- monitoring

    @Test
    void recordsMonitoringHistoryAndShowsItInReplicationStatus() throws SQLException {
        store.insertNode(primary(1));
        store.insertNode(standby(2, 1));
        store.insertNode(standby(3, 1));
        store.insertNode(NodeRecord.builder().from(primary(4)).nodeName("old").build());
        OffsetDateTime t0 = now().minusSeconds(30).truncatedTo(ChronoUnit.MICROS);
        MonitoringRecord older = monitoring(2, t0, 0, 0);
        MonitoringRecord newest2 = MonitoringRecord.builder().from(monitoring(2, t0.plusSeconds(10), 2 * 1024 * 1024, 512))
                .lastApplyTime(t0.minusSeconds(60)).build();
        MonitoringRecord newest3 = monitoring(3, t0.plusSeconds(5), 0, 0);
        MonitoringRecord primaryRow = monitoring(4, t0.plusSeconds(1), 100, 100);
        store.appendMonitoring(older);
        store.appendMonitoring(newest2);
        store.appendMonitoring(newest3);
        store.appendMonitoring(primaryRow);

        assertThat(store.monitoringHistory(2, 10)).containsExactly(newest2, older);
        assertThat(store.monitoringHistory(2, 1)).containsExactly(newest2);
        assertThat(store.monitoringHistory(7, 10)).isEmpty();

        try (Connection c = connect()) {
            assertThat(rows(c, "SELECT concat_ws(' | ', primary_node_id, standby_node_id, standby_name, node_type, active,"
                    + " last_wal_primary_location, last_wal_standby_location, replication_lag, apply_lag)"
                    + " FROM repmgr.replication_status ORDER BY standby_node_id"))
                    .containsExactly(
                            "1 | 2 | pg2 | standby | t | 0/7023A50 | 0/6E23A50 | 2048 kB | 512 bytes",
                            "1 | 3 | pg3 | standby | t | 0/7023A50 | 0/7023A50 | 0 bytes | 0 bytes",
                            "1 | 4 | old | primary | t | 0/70239EC");
            // replication_time_lag: age of the last replayed transaction when lagging, else 0
            assertThat(scalar(c, "SELECT replication_time_lag >= interval '89 seconds' AND replication_time_lag < interval '10 minutes'"
                    + " FROM repmgr.replication_status WHERE standby_node_id = 2")).isEqualTo("t");
            assertThat(scalar(c, "SELECT replication_time_lag FROM repmgr.replication_status WHERE standby_node_id = 3"))
                    .isEqualTo("00:00:00");
            assertThat(scalar(c, "SELECT replication_time_lag IS NULL FROM repmgr.replication_status WHERE standby_node_id = 4"))
                    .isEqualTo("t");
            // communication_time_lag: how long ago the newest row was written
            assertThat(scalar(c, "SELECT communication_time_lag >= interval '20 seconds'"
                    + " AND communication_time_lag < interval '10 minutes'"
                    + " FROM repmgr.replication_status WHERE standby_node_id = 2")).isEqualTo("t");
            assertThat(rows(c, "SELECT (last_monitor_time = '" + t0.plusSeconds(10) + "')::text"
                    + " FROM repmgr.replication_status WHERE standby_node_id = 2")).containsExactly("true");
        }
    }

    @Test
    void deletesMonitoringHistoryOlderThanSomeDays() {
        OffsetDateTime now = now();
        store.appendMonitoring(monitoring(2, now.minusDays(10), 0, 0));
        store.appendMonitoring(monitoring(2, now.minusDays(3), 0, 0));
        store.appendMonitoring(monitoring(2, now.minusHours(1), 0, 0));
        store.appendMonitoring(monitoring(3, now.minusDays(4), 0, 0));

        assertThat(store.deleteMonitoringHistory(5)).isEqualTo(1);
        assertThat(store.deleteMonitoringHistory(2)).isEqualTo(2);
        assertThat(store.monitoringHistory(2, 10)).hasSize(1);
        assertThat(store.deleteMonitoringHistory(0)).isEqualTo(1);
        assertThat(store.monitoringHistory(2, 10)).isEmpty();
        assertThatThrownBy(() -> store.deleteMonitoringHistory(-1))
                .isInstanceOfSatisfying(ReplicationException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.BAD_CONFIG));
    }

    private static MonitoringRecord monitoring(int standby, OffsetDateTime at, long replicationLag, long applyLag) {
        Lsn primaryLsn = Lsn.parse("0/7023A50");
        return MonitoringRecord.builder()
                .primaryNodeId(1)
                .standbyNodeId(standby)
                .lastMonitorTime(at.truncatedTo(ChronoUnit.MICROS).withOffsetSameInstant(ZoneOffset.UTC))
                .lastApplyTime(at.minusSeconds(1).truncatedTo(ChronoUnit.MICROS).withOffsetSameInstant(ZoneOffset.UTC))
                .lastWalPrimaryLocation(primaryLsn)
                .lastWalStandbyLocation(new Lsn(primaryLsn.value() - replicationLag))
                .replicationLag(replicationLag)
                .applyLag(applyLag)
                .build();
    }

    // ------------------------------------------------------------ voting term

    @Test
    void votingTermStartsAtZeroAndCanBeSetAndIncremented() throws SQLException {
        assertThat(store.votingTerm()).isZero();
        assertThat(store.incrementVotingTerm()).isEqualTo(1);
        assertThat(store.incrementVotingTerm()).isEqualTo(2);
        assertThat(store.votingTerm()).isEqualTo(2);
        store.setVotingTerm(1);
        assertThat(store.votingTerm()).isEqualTo(1);
        store.setVotingTerm(7);
        assertThat(store.incrementVotingTerm()).isEqualTo(8);
        try (Connection c = connect()) {
            exec(c, "DELETE FROM repmgr.voting_term");
            assertThat(scalar(c, "SELECT count(*)::text || ':' || max(term) FROM repmgr.voting_term")).isEqualTo("1:8");
        }
        assertThatThrownBy(() -> store.setVotingTerm(-1))
                .isInstanceOfSatisfying(ReplicationException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.BAD_CONFIG));
    }

    @Test
    void setVotingTermInsertsTheRowWhenAbsent() {
        store.setVotingTerm(1);
        assertThat(store.votingTerm()).isEqualTo(1);
    }

    @Test
    void concurrentIncrementsNeverLoseAnUpdate() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<List<Integer>>> futures = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                futures.add(pool.submit(() -> {
                    List<Integer> seen = new ArrayList<>();
                    for (int i = 0; i < 10; i++) {
                        seen.add(store.incrementVotingTerm());
                    }
                    return seen;
                }));
            }
            List<Integer> all = new ArrayList<>();
            for (Future<List<Integer>> f : futures) {
                all.addAll(f.get(60, TimeUnit.SECONDS));
            }
            assertThat(all).doesNotHaveDuplicates().hasSize(40);
            assertThat(store.votingTerm()).isEqualTo(40);
        } finally {
            pool.shutdownNow();
        }
    }

    // ------------------------------------------------------------ transactions

    @Test
    void aTransactionCommitsEverythingTogether() {
        String result = store.inTransaction(tx -> {
            tx.insertNode(primary(1));
            tx.setVotingTerm(1);
            tx.appendEvent(EventRecord.builder().nodeId(1).event(Events.PRIMARY_REGISTER).build());
            assertThat(tx.nodes()).hasSize(1);
            // nested: joins the same transaction
            return tx.inTransaction(inner -> {
                inner.insertNode(standby(2, 1));
                return "done";
            });
        });
        assertThat(result).isEqualTo("done");
        assertThat(store.nodes()).hasSize(2);
        assertThat(store.votingTerm()).isEqualTo(1);
        assertThat(store.events(EventQuery.latest())).hasSize(1);
    }

    @Test
    void aTransactionRollsBackOnAnyException() {
        store.insertNode(primary(1));
        IllegalStateException boom = new IllegalStateException("boom");
        AtomicReference<MetadataStore> leaked = new AtomicReference<>();
        assertThatThrownBy(() -> store.inTransaction(tx -> {
            leaked.set(tx);
            tx.insertNode(standby(2, 1));
            tx.incrementVotingTerm();
            tx.appendEvent(EventRecord.builder().nodeId(2).event(Events.STANDBY_REGISTER).build());
            tx.deleteNode(2);
            tx.insertNode(standby(3, 1));
            throw boom;
        })).isSameAs(boom);
        assertThat(store.nodes()).containsExactly(primary(1));
        assertThat(store.votingTerm()).isZero();
        assertThat(store.events(EventQuery.latest())).isEmpty();

        // a failing statement inside rolls back the lot, too
        assertThatThrownBy(() -> store.inTransaction(tx -> {
            tx.insertNode(standby(2, 1));
            tx.insertNode(primary(1)); // duplicate
            return null;
        })).isInstanceOfSatisfying(ReplicationException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.DB_QUERY));
        assertThat(store.nodes()).containsExactly(primary(1));

        // the store handed to the work is dead once the work is over
        assertThatThrownBy(() -> leaked.get().nodes())
                .isInstanceOfSatisfying(ReplicationException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INTERNAL));
    }

    @Test
    void aDeferredConstraintFailingAtCommitRollsBack() {
        assertThatThrownBy(() -> store.inTransaction(tx -> {
            tx.insertNode(primary(1));
            tx.insertNode(standby(2, 5)); // node 5 never comes
            return null;
        })).isInstanceOfSatisfying(ReplicationException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.DB_QUERY);
            assertThat(e.getMessage()).isEqualTo("unable to commit the metadata transaction");
        });
        assertThat(store.nodes()).isEmpty();
    }

    // ----------------------------------------------------------------- errors

    @Test
    void reportsAnUnreachableServerAsDbConn() {
        JdbcMetadataStore nowhere = JdbcMetadataStore.of(() -> DriverManager.getConnection(
                "jdbc:postgresql://127.0.0.1:1/repmgr?user=repmgr&password=hunter2&connectTimeout=2"));
        ReplicationException e = catchReplication(nowhere::nodes);
        assertThat(e.code()).isEqualTo(ErrorCode.DB_CONN);
        assertThat(e.getMessage()).isEqualTo("unable to read the node records");
        assertThat(e.detail()).isPresent();
        assertThat(render(e)).doesNotContain("hunter2");
        assertThat(catchReplication(() -> nowhere.inTransaction(tx -> 1)).code()).isEqualTo(ErrorCode.DB_CONN);
    }

    @Test
    void reportsAMissingSchemaWithAHint() {
        JdbcMetadataStore empty = JdbcMetadataStore.of(TestDb.source(server, TestDb.create(server, "empty")));
        ReplicationException e = catchReplication(empty::votingTerm);
        assertThat(e.code()).isEqualTo(ErrorCode.DB_QUERY);
        assertThat(e.hint()).hasValueSatisfying(h -> assertThat(h).contains("SchemaInstaller.install"));
    }

    // ---------------------------------------------------------------- helpers

    private static OffsetDateTime now() {
        return OffsetDateTime.now(ZoneOffset.UTC);
    }

    static ReplicationException catchReplication(Runnable r) {
        try {
            r.run();
        } catch (ReplicationException e) {
            return e;
        }
        throw new AssertionError("expected a ReplicationException");
    }

    private static String render(Throwable t) {
        StringWriter w = new StringWriter();
        t.printStackTrace(new PrintWriter(w));
        return w + (t instanceof ReplicationException ? ((ReplicationException) t).toReport() : "");
    }

    private static void assertNoSecret(ReplicationException e) {
        assertThat(render(e)).doesNotContain("s3cr3t").doesNotContain("pa'ss").doesNotContain("ss,word");
    }
}
