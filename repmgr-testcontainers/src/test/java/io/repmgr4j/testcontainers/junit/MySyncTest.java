package io.repmgr4j.testcontainers.junit;

import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.SyncMode;
import io.repmgr4j.testkit.PgNode;
import io.repmgr4j.testkit.junit.PgReplicaSetTest;
import org.junit.jupiter.api.Test;

/**
 * The README's synchronous-replication example of the JUnit extension, word for word, on
 * containers here (REPMGR4J_TESTKIT_BACKEND=containers); repmgr-core runs the same class on
 * local servers.
 */
// README example starts
@PgReplicaSetTest(nodes = 3, synchronous = SyncMode.QUORUM, synchronousCount = 1)   // ANY 1 ("pg2", "pg3")
class MySyncTest {
    @Test
    void commitsWaitForAStandby(PgNode primary) {
        assertThat(primary.query("SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'quorum'", Long.class))
                .isEqualTo(2L);
    }
}
// README example ends
