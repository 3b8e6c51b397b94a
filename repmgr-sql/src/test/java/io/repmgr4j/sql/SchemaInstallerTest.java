package io.repmgr4j.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.repmgr4j.ErrorCode;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.sql.SchemaInstaller.Migration;
import io.repmgr4j.sql.SchemaInstaller.Outcome;
import io.repmgr4j.sql.SchemaInstaller.Result;
import io.repmgr4j.testkit.PgServer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class SchemaInstallerTest {

    private static PgServer server;

    @BeforeAll
    static void startServer() {
        server = PgServer.builder().name("schema").start();
    }

    @AfterAll
    static void stopServer() {
        if (server != null) {
            server.close();
        }
    }

    private static String freshDb() {
        return TestDb.create(server, "inst");
    }

    @Test
    void createsThenFindsItUpToDateAndChangesNothing() throws SQLException {
        String db = freshDb();
        try (Connection c = TestDb.connect(server, db)) {
            assertThat(SchemaInstaller.schemaPresent(c)).isFalse();
            assertThat(SchemaInstaller.installedVersion(c)).isEmpty();

            Result first = SchemaInstaller.install(c);
            assertThat(first).isEqualTo(new Result(Outcome.CREATED, Optional.of(SchemaInstaller.CURRENT_VERSION)));
            assertThat(c.getAutoCommit()).as("auto-commit restored").isTrue();
            String afterCreate = CatalogSnapshot.of(c);

            Result second = SchemaInstaller.install(c);
            assertThat(second).isEqualTo(new Result(Outcome.UP_TO_DATE, Optional.of(SchemaInstaller.CURRENT_VERSION)));
            assertThat(CatalogSnapshot.of(c)).isEqualTo(afterCreate);

            assertThat(SchemaInstaller.schemaPresent(c)).isTrue();
            assertThat(SchemaInstaller.installedVersion(c)).contains(SchemaInstaller.CURRENT_VERSION);
            assertThat(scalar(c, "SELECT obj_description('repmgr'::regnamespace, 'pg_namespace')"))
                    .isEqualTo("repmgr4j schema version " + SchemaInstaller.CURRENT_VERSION);
        }
        // and from a new connection, after the commit
        try (Connection c = TestDb.connect(server, db)) {
            assertThat(SchemaInstaller.install(c).outcome()).isEqualTo(Outcome.UP_TO_DATE);
        }
    }

    @Test
    void createdSchemaHasRepmgrsObjects() throws SQLException {
        String db = freshDb();
        try (Connection c = TestDb.connect(server, db)) {
            SchemaInstaller.install(c);
            assertThat(rows(c, "SELECT c.relname || ':' || c.relkind::text FROM pg_class c WHERE c.relnamespace = 'repmgr'::regnamespace"
                    + " ORDER BY 1"))
                    .containsExactly("events:r", "idx_monitoring_history_time:i", "monitoring_history:r", "nodes:r",
                            "nodes_pkey:i", "replication_status:v", "show_nodes:v", "voting_term:r", "voting_term_restrict:i");
            assertThat(rows(c, "SELECT column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '-')"
                    + " FROM information_schema.columns WHERE table_schema = 'repmgr' AND table_name = 'nodes' ORDER BY ordinal_position"))
                    .containsExactly(
                            "node_id integer NO -",
                            "upstream_node_id integer YES -",
                            "active boolean NO true",
                            "node_name text NO -",
                            "type text NO -",
                            "location text NO 'default'::text",
                            "priority integer NO 100",
                            "conninfo text NO -",
                            "repluser character varying NO -",
                            "slot_name text YES -",
                            "config_file text NO -");
            assertThat(rows(c, "SELECT column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '-')"
                    + " FROM information_schema.columns WHERE table_schema = 'repmgr' AND table_name = 'events' ORDER BY ordinal_position"))
                    .containsExactly(
                            "node_id integer NO -",
                            "event text NO -",
                            "successful boolean NO true",
                            "event_timestamp timestamp with time zone NO CURRENT_TIMESTAMP",
                            "details text YES -");
            assertThat(rows(c, "SELECT column_name || ' ' || data_type || ' ' || is_nullable"
                    + " FROM information_schema.columns WHERE table_schema = 'repmgr' AND table_name = 'monitoring_history'"
                    + " ORDER BY ordinal_position"))
                    .containsExactly(
                            "primary_node_id integer NO",
                            "standby_node_id integer NO",
                            "last_monitor_time timestamp with time zone NO",
                            "last_apply_time timestamp with time zone YES",
                            "last_wal_primary_location pg_lsn NO",
                            "last_wal_standby_location pg_lsn YES",
                            "replication_lag bigint NO",
                            "apply_lag bigint NO");
            assertThat(scalar(c, "SELECT character_maximum_length::text FROM information_schema.columns"
                    + " WHERE table_schema = 'repmgr' AND table_name = 'nodes' AND column_name = 'repluser'")).isEqualTo("63");
            assertThat(scalar(c, "SELECT indexdef FROM pg_indexes WHERE indexname = 'idx_monitoring_history_time'"))
                    .contains("(last_monitor_time, standby_node_id)");
            assertThat(scalar(c, "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'nodes_upstream_node_id_fkey'"))
                    .matches("FOREIGN KEY \\(upstream_node_id\\) REFERENCES (repmgr\\.)?nodes\\(node_id\\) DEFERRABLE INITIALLY DEFERRED");
            assertThat(rows(c, "SELECT column_name FROM information_schema.columns WHERE table_schema = 'repmgr'"
                    + " AND table_name = 'replication_status' ORDER BY ordinal_position"))
                    .containsExactly("primary_node_id", "standby_node_id", "standby_name", "node_type", "active",
                            "last_monitor_time", "last_wal_primary_location", "last_wal_standby_location", "replication_lag",
                            "replication_time_lag", "apply_lag", "communication_time_lag");
            assertThat(rows(c, "SELECT column_name FROM information_schema.columns WHERE table_schema = 'repmgr'"
                    + " AND table_name = 'show_nodes' ORDER BY ordinal_position"))
                    .containsExactly("node_id", "node_name", "active", "upstream_node_id", "upstream_node_name", "type",
                            "priority", "conninfo");

            String node = "INSERT INTO repmgr.nodes (node_id, node_name, type, conninfo, repluser, config_file)"
                    + " VALUES (%d, 'n', '%s', 'host=x', 'repmgr', '/etc/repmgr.conf')";
            exec(c, String.format(node, 1, "primary"));
            assertThatThrownBy(() -> exec(c, String.format(node, 2, "master"))).hasMessageContaining("nodes_type_check");
            assertThatThrownBy(() -> exec(c, "UPDATE repmgr.nodes SET priority = -1 WHERE node_id = 1"))
                    .hasMessageContaining("nodes_priority_check");
            exec(c, "INSERT INTO repmgr.voting_term VALUES (1)");
            assertThatThrownBy(() -> exec(c, "INSERT INTO repmgr.voting_term VALUES (2)")).hasMessageContaining("voting_term_restrict");
            exec(c, "DELETE FROM repmgr.voting_term");
            assertThat(scalar(c, "SELECT string_agg(term::text, ',') FROM repmgr.voting_term")).isEqualTo("1");
        }
    }

    @Test
    void refusesANewerSchemaVersionAndChangesNothing() throws SQLException {
        String db = freshDb();
        try (Connection c = TestDb.connect(server, db)) {
            SchemaInstaller.install(c);
            exec(c, "COMMENT ON SCHEMA repmgr IS 'repmgr4j schema version 99'");
            String before = CatalogSnapshot.of(c);
            assertThatThrownBy(() -> SchemaInstaller.install(c))
                    .isInstanceOfSatisfying(ReplicationException.class, e -> {
                        assertThat(e.code()).isEqualTo(ErrorCode.DB_QUERY);
                        assertThat(e.getMessage()).isEqualTo("schema version 99 is newer than this library supports");
                        assertThat(e.hint()).isPresent();
                    });
            assertThat(CatalogSnapshot.of(c)).isEqualTo(before);
            assertThat(c.getAutoCommit()).isTrue();
            assertThat(SchemaInstaller.installedVersion(c)).contains(99);
        }
    }

    @Test
    void refusesAnUnreadableVersionComment() throws SQLException {
        String db = freshDb();
        try (Connection c = TestDb.connect(server, db)) {
            SchemaInstaller.install(c);
            exec(c, "COMMENT ON SCHEMA repmgr IS 'repmgr4j schema version two'");
            assertThatThrownBy(() -> SchemaInstaller.install(c))
                    .isInstanceOfSatisfying(ReplicationException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.DB_QUERY))
                    .hasMessageContaining("\"two\"");
        }
    }

    @Test
    void migratesAnOlderVersionInOrder() throws SQLException {
        List<Migration> v1 = SchemaInstaller.MIGRATIONS.subList(0, 1);
        List<Migration> v1v2 = new ArrayList<>(v1);
        v1v2.add(new Migration(2, "testschema/V2__test_marker.sql"));
        String db = freshDb();
        try (Connection c = TestDb.connect(server, db)) {
            assertThat(SchemaInstaller.install(c, v1)).isEqualTo(new Result(Outcome.CREATED, Optional.of(1)));

            assertThat(SchemaInstaller.install(c, v1v2)).isEqualTo(new Result(Outcome.MIGRATED, Optional.of(2)));
            assertThat(SchemaInstaller.installedVersion(c)).contains(2);
            assertThat(scalar(c, "SELECT count(*)::text FROM repmgr.test_migration_marker")).isEqualTo("1");
            assertThat(scalar(c, "SELECT count(*)::text FROM information_schema.columns"
                    + " WHERE table_schema = 'repmgr' AND table_name = 'events' AND column_name = 'test_note'")).isEqualTo("1");

            String migrated = CatalogSnapshot.of(c);
            assertThat(SchemaInstaller.install(c, v1v2)).isEqualTo(new Result(Outcome.UP_TO_DATE, Optional.of(2)));
            assertThat(CatalogSnapshot.of(c)).isEqualTo(migrated);

            // a build that only knows version 1
            assertThatThrownBy(() -> SchemaInstaller.install(c, v1))
                    .hasMessage("schema version 2 is newer than this library supports");
        }
        // a fresh database gets every version at once
        String db2 = freshDb();
        try (Connection c = TestDb.connect(server, db2)) {
            assertThat(SchemaInstaller.install(c, v1v2)).isEqualTo(new Result(Outcome.CREATED, Optional.of(2)));
            assertThat(scalar(c, "SELECT count(*)::text FROM repmgr.test_migration_marker")).isEqualTo("1");
        }
    }

    @Test
    void migratesAVersion1SchemaToTheRepmgrdFunctionsKeepingItsRows() throws SQLException {
        String db = freshDb();
        try (Connection c = TestDb.connect(server, db)) {
            assertThat(SchemaInstaller.install(c, SchemaInstaller.MIGRATIONS.subList(0, 1))).isEqualTo(new Result(Outcome.CREATED, Optional.of(1)));
            exec(c, "INSERT INTO repmgr.nodes (node_id, node_name, type, conninfo, repluser, config_file)"
                    + " VALUES (1, 'pg1', 'primary', 'host=127.0.0.1 port=1 dbname=repmgr', 'repmgr', 'test')",
                    "INSERT INTO repmgr.events (node_id, event) VALUES (1, 'primary_register')",
                    "INSERT INTO repmgr.voting_term (term) VALUES (1)");
            assertThat(scalar(c, "SELECT to_regprocedure('repmgr.repmgrd_is_running()') IS NULL")).isEqualTo("t");

            assertThat(SchemaInstaller.install(c)).isEqualTo(new Result(Outcome.MIGRATED, Optional.of(SchemaInstaller.CURRENT_VERSION)));
            assertThat(scalar(c, "SELECT count(*)::text FROM repmgr.nodes")).isEqualTo("1");
            assertThat(scalar(c, "SELECT count(*)::text FROM repmgr.events")).isEqualTo("1");
            assertThat(scalar(c, "SELECT term::text FROM repmgr.voting_term")).isEqualTo("1");
            // no repmgr4j daemon runs on this server: the functions say so, as the extension's do for no repmgrd
            assertThat(scalar(c, "SELECT repmgr.repmgrd_is_running()::text || ' ' || repmgr.get_repmgrd_pid()"
                    + " || ' ' || repmgr.repmgrd_is_paused()::text || ' ' || repmgr.get_upstream_last_seen()"
                    + " || ' ' || repmgr.get_upstream_node_id() || ' ' || repmgr.get_wal_receiver_pid()"))
                    .isEqualTo("false -1 false -1 -1 0");
            // no daemon state yet: a pause is refused and changes nothing
            assertThatThrownBy(() -> exec(c, "SELECT repmgr.repmgrd_pause(true)"))
                    .hasMessageContaining("repmgr4j keeps no daemon state on this cluster yet");
            assertThat(scalar(c, "SELECT to_regclass('repmgr4j.daemon_state') IS NULL")).isEqualTo("t");
        }
    }

    @Test
    void aFailingMigrationChangesNothing() throws SQLException {
        List<Migration> broken = new ArrayList<>(SchemaInstaller.MIGRATIONS.subList(0, 1));
        broken.add(new Migration(2, "testschema/V2__test_marker.sql"));
        String db = freshDb();
        try (Connection c = TestDb.connect(server, db)) {
            SchemaInstaller.install(c, SchemaInstaller.MIGRATIONS.subList(0, 1));
            // the migration's CREATE TABLE will collide with this one
            exec(c, "CREATE TABLE repmgr.test_migration_marker (x int)");
            String before = CatalogSnapshot.of(c);
            assertThatThrownBy(() -> SchemaInstaller.install(c, broken))
                    .isInstanceOfSatisfying(ReplicationException.class, e -> {
                        assertThat(e.code()).isEqualTo(ErrorCode.DB_QUERY);
                        assertThat(e.getMessage()).contains("V2__test_marker.sql");
                    });
            assertThat(CatalogSnapshot.of(c)).isEqualTo(before);
            assertThat(SchemaInstaller.installedVersion(c)).contains(1);
        }
    }

    @Test
    void refusesAPartialSchemaNamingWhatIsMissingAndChangesNothing() throws SQLException {
        String db = freshDb();
        try (Connection c = TestDb.connect(server, db)) {
            exec(c, "CREATE SCHEMA repmgr", "CREATE TABLE repmgr.nodes (node_id int PRIMARY KEY)",
                    "CREATE TABLE repmgr.voting_term (term int NOT NULL)");
            String before = CatalogSnapshot.of(c);
            assertThatThrownBy(() -> SchemaInstaller.install(c))
                    .isInstanceOfSatisfying(ReplicationException.class, e -> {
                        assertThat(e.code()).isEqualTo(ErrorCode.DB_QUERY);
                        assertThat(e.getMessage()).isEqualTo(
                                "schema \"repmgr\" exists but lacks tables repmgr.events, repmgr.monitoring_history");
                        assertThat(e.detail()).hasValueSatisfying(d -> assertThat(d).contains("nothing was changed"));
                    });
            assertThat(CatalogSnapshot.of(c)).isEqualTo(before);
            assertThat(SchemaInstaller.schemaPresent(c)).isFalse();
            assertThat(SchemaInstaller.installedVersion(c)).isEmpty();
        }
    }

    @Test
    void refusesOurOwnSchemaWithATableDropped() throws SQLException {
        String db = freshDb();
        try (Connection c = TestDb.connect(server, db)) {
            SchemaInstaller.install(c);
            exec(c, "DROP TABLE repmgr.events");
            assertThatThrownBy(() -> SchemaInstaller.install(c))
                    .hasMessage("schema \"repmgr\" exists but lacks table repmgr.events");
        }
    }

    @Test
    void adoptsAHandMadeSchemaWithTheFourTablesWithoutTouchingIt() throws SQLException {
        String db = freshDb();
        try (Connection c = TestDb.connect(server, db)) {
            exec(c, SchemaInstaller.readScript(SchemaInstaller.class, "schema/V1__repmgr_schema.sql"));
            exec(c, "DROP VIEW repmgr.replication_status", "INSERT INTO repmgr.voting_term VALUES (3)");
            String before = CatalogSnapshot.of(c);
            assertThat(SchemaInstaller.install(c)).isEqualTo(new Result(Outcome.ADOPTED, Optional.empty()));
            assertThat(CatalogSnapshot.of(c)).isEqualTo(before);
            assertThat(SchemaInstaller.installedVersion(c)).isEmpty();
            assertThat(SchemaInstaller.schemaPresent(c)).isTrue();
        }
    }

    @Test
    void twoInstallersRacingRunOneAfterTheOther() throws Exception {
        String db = freshDb();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Outcome>> results = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                results.add(pool.submit(() -> {
                    try (Connection c = TestDb.connect(server, db)) {
                        go.await();
                        return SchemaInstaller.install(c).outcome();
                    }
                }));
            }
            go.countDown();
            List<Outcome> outcomes = new ArrayList<>();
            for (Future<Outcome> f : results) {
                outcomes.add(f.get(30, TimeUnit.SECONDS));
            }
            assertThat(outcomes).containsExactlyInAnyOrder(Outcome.CREATED, Outcome.UP_TO_DATE);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void worksInsideTheCallersTransaction() throws SQLException {
        String db = freshDb();
        try (Connection c = TestDb.connect(server, db)) {
            c.setAutoCommit(false);
            assertThat(SchemaInstaller.install(c).outcome()).isEqualTo(Outcome.CREATED);
            assertThat(c.getAutoCommit()).isFalse();
            c.rollback();
            assertThat(SchemaInstaller.schemaPresent(c)).isFalse();

            // a failure rolls back to the installer's savepoint and leaves the caller's work alone
            exec(c, "CREATE TABLE public.callers_work (x int)");
            exec(c, "CREATE SCHEMA repmgr");
            assertThatThrownBy(() -> SchemaInstaller.install(c)).isInstanceOf(ReplicationException.class);
            exec(c, "INSERT INTO public.callers_work VALUES (1)");
            c.commit();
            assertThat(scalar(c, "SELECT count(*)::text FROM public.callers_work")).isEqualTo("1");
        }
    }

    @Test
    void reportsAConnectionFailureAsDbConn() throws SQLException {
        Connection c = TestDb.connect(server, freshDb());
        c.close();
        assertThatThrownBy(() -> SchemaInstaller.install(c))
                .isInstanceOfSatisfying(ReplicationException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.DB_CONN));
    }

    static void exec(Connection c, String... sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            for (String s : sql) {
                st.execute(s);
            }
        }
    }

    static String scalar(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    static List<String> rows(Connection c, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }
}
