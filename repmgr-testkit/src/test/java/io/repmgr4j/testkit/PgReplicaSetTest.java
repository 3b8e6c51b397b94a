package io.repmgr4j.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.NoSuchElementException;
import org.junit.jupiter.api.Test;

class PgReplicaSetTest {

    @Test
    void threeNodesStreamFromThePrimary() {
        PgReplicaSet set = PgReplicaSet.start(3);
        try {
            PgServer primary = set.primary();
            assertThat(primary.name()).isEqualTo("pg1");
            assertThat(set.servers()).extracting(PgServer::name).containsExactly("pg1", "pg2", "pg3");
            assertThat(set.standbys()).extracting(PgServer::name).containsExactly("pg2", "pg3");
            assertThat(set.server("pg3")).isSameAs(set.servers().get(2));
            assertThatThrownBy(() -> set.server("pg9")).isInstanceOf(NoSuchElementException.class);

            assertThat(primary.inRecovery()).isFalse();
            assertThat(primary.query(
                    "SELECT string_agg(application_name || ':' || state, ',' ORDER BY application_name)"
                            + " FROM pg_stat_replication", String.class))
                    .isEqualTo("pg2:streaming,pg3:streaming");
            assertThat(primary.query("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'", Long.class))
                    .isEqualTo(2L);
            for (PgServer standby : set.standbys()) {
                assertThat(standby.inRecovery()).isTrue();
                assertThat(standby.port()).isNotIn(primary.port(), 5432);
                assertThat(standby.query("SHOW port", String.class)).isEqualTo(Integer.toString(standby.port()));
                assertThat(standby.query("SHOW primary_conninfo", String.class))
                        .contains("application_name=" + standby.name())
                        .contains("port=" + primary.port());
            }

            primary.execute("CREATE TABLE replicated (v text)");
            primary.execute("INSERT INTO replicated VALUES ('hello')");
            String lsn = primary.query("SELECT pg_current_wal_lsn()::text", String.class);
            for (PgServer standby : set.standbys()) {
                long deadline = System.nanoTime() + 30_000_000_000L;
                while (!Boolean.TRUE.equals(standby.query(
                        "SELECT pg_last_wal_replay_lsn() >= '" + lsn + "'::pg_lsn", Boolean.class))) {
                    assertThat(System.nanoTime()).isLessThan(deadline);
                    Workspace.sleep(50);
                }
                assertThat(standby.query("SELECT v FROM replicated", String.class)).isEqualTo("hello");
            }
        } finally {
            set.close();
        }
        for (PgServer s : set.servers()) {
            assertThat(s.dataDirectory().getParent()).doesNotExist();
        }
        set.close(); // idempotent
    }

    @Test
    void rejectsAnEmptySet() {
        assertThatThrownBy(() -> PgReplicaSet.start(0)).isInstanceOf(IllegalArgumentException.class);
    }
}
