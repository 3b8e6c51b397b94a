package io.repmgr4j.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.EventRecord;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.format.OperationReportFormat;
import io.repmgr4j.plan.OperationReport;
import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A switchover on a set with passwords and replication slots, whose servers log every
 * DDL statement (ALTER SYSTEM included): the nodes stream through their repmgr slots
 * afterwards, the slots the old primary kept for its former standbys are gone, and the
 * password appears in no event, report or server log line: primary_conninfo names a
 * password file that holds it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SlotsAndSecretsTest {
    private static final String PASSWORD = "pw-S3cr3t-4-topology";
    private TopologyFixture fx;

    @BeforeAll
    void start() {
        fx = new TopologyFixture(PgReplicaSet.start(3, b -> b.password(PASSWORD).setting("log_statement", "ddl")),
                c -> NodeConfig.builder().from(c).useReplicationSlots(true).build());
    }

    @AfterAll
    void stop() {
        if (fx != null) {
            fx.close();
        }
    }

    private static List<String> slots(PgServer s) {
        return s.query("SELECT coalesce(string_agg(slot_name || ':' || active, ',' ORDER BY slot_name), '')"
                + " FROM pg_replication_slots", String.class).lines().flatMap(l -> List.of(l.split(",")).stream())
                .filter(x -> !x.isEmpty()).toList();
    }

    private static String read(Path p) {
        try {
            return Files.exists(p) ? Files.readString(p) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void switchoverMovesSlotsAndLeaksNoPassword() {
        // the slots a primary keeps for its standbys (the test kit's standbys were cloned without)
        fx.server(1).execute("SELECT pg_create_physical_replication_slot('repmgr_slot_2')");
        fx.server(1).execute("SELECT pg_create_physical_replication_slot('repmgr_slot_3')");

        OperationReport r = fx.cluster.switchover(2).siblingsFollow(true).execute();
        assertThat(fx.server(1).logTail(100_000)).contains("execute <unnamed>: CREATE DATABASE repmgr");
        assertThat(r.successful()).as(OperationReportFormat.text(r)).isTrue();
        assertThat(r.warnings()).isEmpty();

        assertThat(slots(fx.server(2))).containsExactly("repmgr_slot_1:true", "repmgr_slot_3:true");
        assertThat(slots(fx.server(1))).isEmpty();
        assertThat(fx.server(1).query("SHOW primary_slot_name", String.class)).isEqualTo("repmgr_slot_1");
        assertThat(fx.server(3).query("SHOW primary_slot_name", String.class)).isEqualTo("repmgr_slot_3");
        // the password went where it is needed: the password file primary_conninfo names
        assertThat(fx.server(3).query("SHOW primary_conninfo", String.class)).contains("passfile=")
                .doesNotContain("password");
        assertThat(read(fx.server(3).dataDirectory().resolve(io.repmgr4j.core.host.RecoveryConfig.PASSFILE)))
                .contains(PASSWORD);

        assertThat(OperationReportFormat.text(r)).doesNotContain(PASSWORD);
        assertThat(fx.cluster.events().limit(50).list()).extracting(EventRecord::details)
                .allSatisfy(d -> assertThat(d.orElse("")).doesNotContain(PASSWORD));
        for (PgServer s : fx.servers.values()) {
            // PostgreSQL names a changed primary_conninfo when it reloads it: with the password
            // in a password file, that line holds none either
            String log = s.logTail(100_000);
            assertThat(log).as("log of " + s.name()).doesNotContain(PASSWORD);
            assertThat(read(s.dataDirectory().resolve("log/repmgr4j-server.log"))).doesNotContain(PASSWORD);
        }
    }
}
