package io.repmgr4j.testkit.junit;

import io.repmgr4j.SyncMode;
import io.repmgr4j.testkit.Backend;
import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Runs a JUnit 5 test class against a real replica set, started before the tests, stopped
 * and removed after them, even when a test fails. The set runs on local PostgreSQL servers
 * when their binaries are present and in containers otherwise (with repmgr-testcontainers
 * on the class path and a Docker engine), or where {@link #backend()} or
 * {@code REPMGR4J_TESTKIT_BACKEND} says. Test methods, constructors and fields get the set,
 * its nodes and a registered cluster handle injected:
 *
 * <pre>{@code
 * @PgReplicaSetTest(nodes = 3, cascade = "pg3=pg2", settings = "max_wal_senders=5")
 * class MyReplicationTest {
 *     @Test
 *     void standbysStream(ReplicaSet set, PgNode primary, @Node(3) PgNode pg3, ReplicationCluster cluster) {
 *         primary.execute("CREATE TABLE t (i int)");
 *         ...
 *     }
 * }
 * }</pre>
 *
 * Injected types: {@link io.repmgr4j.testkit.ReplicaSet} and {@link io.repmgr4j.testkit.PgNode}
 * on either backend; the backend's own types ({@code PgReplicaSet}/{@code PgServer} locally,
 * {@code PgContainerReplicaSet}/{@code PgContainer} in containers) when the set runs there;
 * and {@code ReplicationCluster} (needs repmgr-core on the test class path): a handle
 * knowing every node, with pg1 registered as primary (node id 1) and the standbys with their
 * upstreams (ids 2, 3, ...), opened the first time it is asked for and closed with the set.
 * A node parameter or field without {@link Node} is the primary (pg1). The nodes are named
 * after the test ({@code MyReplicationTest-pg1}, or {@code MyReplicationTest.method-pg1}
 * per method), in their directory or container names and log lines.
 *
 * <p>Thread-safety: an annotation; the extension keeps one set per class or per method.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@ExtendWith(PgReplicaSetExtension.class)
public @interface PgReplicaSetTest {
    /** How many servers: node 1 is the primary, the others its standbys. */
    int nodes() default 3;

    /** Standbys that stream from another standby, as {@code "standby=upstream"}: {@code "pg3=pg2"}. */
    String[] cascade() default {};

    /** postgresql.conf settings for every server, as {@code "name=value"}. */
    String[] settings() default {};

    /** One replica set for the whole class (default), or a fresh one for every test method. */
    Lifecycle lifecycle() default Lifecycle.PER_CLASS;

    /**
     * Where the set runs: {@code AUTO} (default) takes local PostgreSQL binaries when
     * present and containers otherwise, unless {@code REPMGR4J_TESTKIT_BACKEND} (system
     * property, JUnit configuration parameter or environment variable) says
     * {@code local} or {@code containers}; {@code LOCAL} and {@code CONTAINERS} are used
     * as they are. Containers need {@code io.repmgr4j:repmgr-testcontainers} on the test
     * class path and a Docker engine.
     */
    Backend backend() default Backend.AUTO;

    /**
     * Synchronous replication managed by the library, set with
     * {@code cluster.synchronousReplication().mode(..).count(..).apply()} once the nodes are
     * registered and before the first test runs (which then finds pg_stat_replication
     * showing it): {@code OFF} (default) leaves replication asynchronous. Needs repmgr-core
     * on the test class path.
     */
    SyncMode synchronous() default SyncMode.OFF;

    /** {@code synchronous_count}: how many standbys confirm each commit ({@code FIRST n} / {@code ANY n}). */
    int synchronousCount() default 1;

    /** When the replica set is started and removed. */
    enum Lifecycle {
        /** Started before the class's first test, removed after its last. */
        PER_CLASS,
        /** Started before each test method, removed after it. */
        PER_METHOD
    }
}
