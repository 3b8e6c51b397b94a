package io.repmgr4j.sql;

import static io.repmgr4j.sql.SchemaInstallerTest.exec;
import static io.repmgr4j.sql.SchemaInstallerTest.rows;
import static io.repmgr4j.sql.SchemaInstallerTest.scalar;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import io.repmgr4j.EventQuery;
import io.repmgr4j.EventRecord;
import io.repmgr4j.Events;
import io.repmgr4j.Lsn;
import io.repmgr4j.MonitoringRecord;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.NodeType;
import io.repmgr4j.sql.SchemaInstaller.Outcome;
import io.repmgr4j.sql.SchemaInstaller.Result;
import io.repmgr4j.testkit.PgServer;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A schema made by the real repmgr extension ({@code CREATE EXTENSION repmgr}, Debian's
 * postgresql-NN-repmgr package) is adopted untouched and read and written correctly.
 * The package is a prerequisite of the build (bin/prereqs installs it): without it this
 * test fails rather than skips.
 */
class RepmgrExtensionAdoptionTest {

    private static PgServer server;

    @BeforeAll
    static void startServer() throws SQLException {
        // CREATE EXTENSION repmgr does not need the library preloaded; only the C
        // functions that use shared memory would.
        server = PgServer.builder().name("adopt").start();
        try (Connection c = server.connect()) {
            if (!"1".equals(scalar(c, "SELECT count(*)::text FROM pg_available_extensions WHERE name = 'repmgr'"))) {
                fail("the repmgr extension is not installed for this PostgreSQL (no repmgr.control in its extension"
                        + " directory, " + scalar(c, "SELECT setting FROM pg_config WHERE name = 'SHAREDIR'") + "/extension);"
                        + " install Debian's postgresql-" + (ServerProbe.serverVersionNum(c) / 10000)
                        + "-repmgr package (bin/prereqs does)");
            }
        }
    }

    @AfterAll
    static void stopServer() {
        if (server != null) {
            server.close();
        }
    }

    /** A fresh database with the extension and rows written the way repmgr writes them. */
    private static String repmgrDatabase() throws SQLException {
        String db = TestDb.create(server, "ext");
        try (Connection c = TestDb.connect(server, db)) {
            exec(c, "CREATE EXTENSION repmgr",
                    "INSERT INTO repmgr.nodes (node_id, upstream_node_id, active, node_name, type, location, priority,"
                            + " conninfo, repluser, slot_name, config_file) VALUES"
                            + " (2, NULL, TRUE, 'pg49', 'primary', 'default', 80,"
                            + "  'host=10.67.39.49 port=1998 user=repmgr password=repmgr dbname=repmgr connect_timeout=5',"
                            + "  'repmgr', NULL, '/opt/postgreSQL/repmgr.conf'),"
                            + " (3, 2, TRUE, 'pg149', 'standby', 'default', 20,"
                            + "  'host=10.67.39.149 port=1998 user=repmgr dbname=repmgr connect_timeout=5',"
                            + "  'repmgr', 'repmgr_slot_3', '/opt/postgreSQL/repmgr.conf')",
                    "INSERT INTO repmgr.events (node_id, event, successful, details)"
                            + " VALUES (2, 'primary_register', TRUE, NULL)",
                    "INSERT INTO repmgr.events (node_id, event, successful, details)"
                            + " VALUES (3, 'standby_register', TRUE, 'standby registration succeeded; upstream node ID is 2')",
                    "INSERT INTO repmgr.voting_term (term) VALUES (1)",
                    "INSERT INTO repmgr.monitoring_history VALUES (2, 3, now(), now(), '0/714CD08', '0/714CD08', 0, 0)");
        }
        return db;
    }

    @Test
    void registeringCreatesTheExtensionWhenAvailableUnlessTheExtensionFreeSchemaIsAsked() throws SQLException {
        String db = TestDb.create(server, "mk");
        try (Connection c = TestDb.connect(server, db)) {
            MetadataSchemas.Installed first = MetadataSchemas.install(c, false);
            assertThat(first.created()).isTrue();
            assertThat(first.byExtension()).isTrue();
            assertThat(first.extensionLibraryLoaded()).as("this server has no shared_preload_libraries").isFalse();
            assertThat(RepmgrdShared.installedVersion(c)).isPresent();
            // without the preloaded library the extension's daemon functions answer NULL: no repmgrd here
            assertThat(RepmgrdShared.read(c).presence()).isEqualTo(RepmgrdShared.Presence.EXTENSION_NOT_LOADED);
            assertThat(RepmgrdShared.pause(c, true)).isEqualTo(RepmgrdShared.Presence.EXTENSION_NOT_LOADED);
            MetadataSchemas.Installed again = MetadataSchemas.install(c, true);
            assertThat(again.result().outcome()).as("an existing schema is used as it is").isEqualTo(Outcome.ADOPTED);
        }
        String free = TestDb.create(server, "free");
        try (Connection c = TestDb.connect(server, free)) {
            MetadataSchemas.Installed r = MetadataSchemas.install(c, true);
            assertThat(r.result()).isEqualTo(new Result(Outcome.CREATED, Optional.of(SchemaInstaller.CURRENT_VERSION)));
            assertThat(r.byExtension()).isFalse();
            assertThat(RepmgrdShared.read(c).presence()).as("our functions are never taken for repmgrd's")
                    .isEqualTo(RepmgrdShared.Presence.NO_EXTENSION);
            assertThat(MetadataSchemas.install(c, false).result().outcome()).isEqualTo(Outcome.UP_TO_DATE);
        }
    }

    @Test
    void adoptsTheExtensionsSchemaWithoutChangingAnything() throws SQLException {
        String db = repmgrDatabase();
        try (Connection c = TestDb.connect(server, db)) {
            String before = CatalogSnapshot.of(c);
            assertThat(before).contains("repmgr | 5.");
            assertThat(SchemaInstaller.install(c)).isEqualTo(new Result(Outcome.ADOPTED, Optional.empty()));
            assertThat(CatalogSnapshot.of(c)).isEqualTo(before);
            assertThat(SchemaInstaller.install(c).outcome()).isEqualTo(Outcome.ADOPTED);
            assertThat(CatalogSnapshot.of(c)).isEqualTo(before);
            assertThat(SchemaInstaller.installedVersion(c)).isEmpty();
            assertThat(SchemaInstaller.schemaPresent(c)).isTrue();
        }
    }

    @Test
    void readsAndWritesTheExtensionsTables() throws SQLException {
        String db = repmgrDatabase();
        JdbcMetadataStore store = JdbcMetadataStore.of(TestDb.source(server, db));

        List<NodeRecord> nodes = store.nodes();
        assertThat(nodes).extracting(NodeRecord::nodeId).containsExactly(2, 3);
        NodeRecord pg49 = nodes.get(0);
        assertThat(pg49.nodeName()).isEqualTo("pg49");
        assertThat(pg49.type()).isEqualTo(NodeType.PRIMARY);
        assertThat(pg49.upstreamNodeId()).isEmpty();
        assertThat(pg49.priority()).isEqualTo(80);
        assertThat(pg49.conninfo().host()).isEqualTo("10.67.39.49");
        assertThat(pg49.conninfo().port()).isEqualTo(1998);
        assertThat(pg49.conninfo().toString()).doesNotContain("password=repmgr");
        assertThat(pg49.slotName()).isEmpty();
        NodeRecord pg149 = nodes.get(1);
        assertThat(pg149.upstreamNodeId()).hasValue(2);
        assertThat(pg149.slotName()).contains("repmgr_slot_3");
        assertThat(pg149.configFile()).isEqualTo("/opt/postgreSQL/repmgr.conf");

        List<EventRecord> events = store.events(EventQuery.latest());
        assertThat(events).extracting(EventRecord::event).containsExactly(Events.STANDBY_REGISTER, Events.PRIMARY_REGISTER);
        assertThat(events.get(0).nodeName()).contains("pg149");
        assertThat(events.get(0).details()).contains("standby registration succeeded; upstream node ID is 2");
        assertThat(events.get(0).timestamp()).isPresent();
        assertThat(store.votingTerm()).isEqualTo(1);
        assertThat(store.monitoringHistory(3, 5)).singleElement()
                .satisfies(m -> assertThat(m.lastWalStandbyLocation()).contains(Lsn.parse("0/714CD08")));

        // writes, including a transaction that relies on deferring the upstream key
        // (the extension's is DEFERRABLE INITIALLY IMMEDIATE)
        assertThat(store.incrementVotingTerm()).isEqualTo(2);
        store.appendEvent(EventRecord.builder().nodeId(3).event(Events.STANDBY_PROMOTE).build());
        store.appendMonitoring(MonitoringRecord.builder().primaryNodeId(2).standbyNodeId(3).lastMonitorTime(OffsetDateTime.now())
                .lastWalPrimaryLocation(Lsn.parse("0/8000000")).replicationLag(0).applyLag(0).build());
        store.inTransaction(tx -> {
            tx.insertNode(NodeRecord.builder().from(pg149).nodeId(5).nodeName("pg5").upstreamNodeId(4).build());
            tx.insertNode(NodeRecord.builder().from(pg149).nodeId(4).nodeName("pg4").upstreamNodeId(2).build());
            return null;
        });
        store.updateNode(NodeRecord.builder().from(pg149).type(NodeType.PRIMARY).upstreamNodeId(OptionalInt.empty()).build());
        assertThat(store.node(3).orElseThrow().type()).isEqualTo(NodeType.PRIMARY);
        assertThat(store.nodes()).extracting(NodeRecord::nodeId).containsExactly(2, 3, 4, 5);
        assertThat(store.deleteMonitoringHistory(0)).isEqualTo(2);
    }

    /**
     * Our V1 has the extension's tables and views column for column; the constraints
     * differ only where V1 says so in its header.
     */
    @Test
    void ourSchemaMatchesTheExtensionsColumnForColumn() throws SQLException {
        String extDb = repmgrDatabase();
        String ourDb = TestDb.create(server, "ours");
        try (Connection c = TestDb.connect(server, ourDb)) {
            SchemaInstaller.install(c);
        }
        try (Connection ext = TestDb.connect(server, extDb); Connection ours = TestDb.connect(server, ourDb)) {
            String columns = "SELECT c.relname || '.' || a.attname || ' ' || c.relkind::text || ' '"
                    + " || format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull || ' '"
                    + " || coalesce(pg_get_expr(d.adbin, d.adrelid), '-')"
                    + " FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
                    + " LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
                    + " WHERE c.relnamespace = 'repmgr'::regnamespace AND c.relkind IN ('r', 'v')"
                    + " AND a.attnum > 0 AND NOT a.attisdropped ORDER BY c.relname, a.attnum";
            assertThat(rows(ours, columns)).isEqualTo(rows(ext, columns)).hasSize(45);

            String relations = "SELECT relname || ' ' || relkind::text FROM pg_class WHERE relnamespace = 'repmgr'::regnamespace ORDER BY 1";
            assertThat(rows(ours, relations)).isEqualTo(rows(ext, relations));

            String indexes = "SELECT indexdef FROM pg_indexes WHERE schemaname = 'repmgr' ORDER BY indexname";
            assertThat(rows(ours, indexes)).isEqualTo(rows(ext, indexes));
            String rules = "SELECT definition FROM pg_rules WHERE schemaname = 'repmgr' ORDER BY rulename";
            assertThat(rows(ours, rules)).isEqualTo(rows(ext, rules));

            String constraints = "SELECT conname || ': ' || pg_get_constraintdef(oid) FROM pg_constraint"
                    + " WHERE connamespace = 'repmgr'::regnamespace ORDER BY conname";
            List<String> expected = new ArrayList<>(rows(ext, constraints));
            expected.replaceAll(s -> s.startsWith("nodes_upstream_node_id_fkey") ? s + " INITIALLY DEFERRED" : s);
            expected.add("nodes_priority_check: CHECK ((priority >= 0))");
            expected.sort(null);
            assertThat(rows(ours, constraints)).isEqualTo(expected);

            // the functions repmgr's tools call exist with the extension's signatures; the
            // repmgrd-internal ones do not (a real repmgrd needs the extension anyway)
            String signatures = "SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ') '"
                    + " || pg_get_function_result(p.oid) FROM pg_proc p WHERE p.pronamespace = 'repmgr'::regnamespace"
                    + " AND p.proname <> 'r4j_local_beacon' ORDER BY 1";
            List<String> ourFunctions = rows(ours, signatures);
            assertThat(ourFunctions).containsExactly("get_repmgrd_pid() integer", "get_upstream_last_seen() integer",
                    "get_upstream_node_id() integer", "get_wal_receiver_pid() integer", "repmgrd_is_paused() boolean",
                    "repmgrd_is_running() boolean", "repmgrd_pause(boolean) void");
            assertThat(rows(ext, signatures)).containsAll(ourFunctions).contains("standby_get_last_updated() timestamp with time zone");
        }
    }
}
