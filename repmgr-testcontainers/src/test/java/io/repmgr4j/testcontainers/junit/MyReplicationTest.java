package io.repmgr4j.testcontainers.junit;

import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.testkit.PgNode;
import io.repmgr4j.testkit.ReplicaSet;
import io.repmgr4j.testkit.junit.Node;
import io.repmgr4j.testkit.junit.PgReplicaSetTest;
import org.junit.jupiter.api.Test;

/**
 * The README's JUnit 5 example, word for word (see "In your integration tests"); here it
 * runs on containers (this module's Surefire sets REPMGR4J_TESTKIT_BACKEND=containers).
 * repmgr-core has the same class, run there on local servers.
 */
// README example starts
@PgReplicaSetTest(nodes = 3, cascade = "pg3=pg2", settings = "max_wal_senders=5")   // backend = AUTO, lifecycle = PER_CLASS (defaults)
class MyReplicationTest {
    @Node(2) PgNode pg2;                                                     // fields are injected too

    @Test
    void standbysStream(ReplicaSet set, PgNode primary, @Node(3) PgNode pg3, ReplicationCluster cluster) {
        primary.execute("CREATE TABLE t (i int)");
        assertThat(pg3.inRecovery()).isTrue();
        assertThat(pg2.query("SELECT application_name FROM pg_stat_replication", String.class)).isEqualTo(pg3.name());
        assertThat(cluster.show().execute().nodes()).hasSize(set.nodes().size());   // registered: nodes 1, 2, 3
    }
}
// README example ends
