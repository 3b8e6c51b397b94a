package io.repmgr4j.testcontainers.junit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The container counterpart of the test kit's {@code @PgReplicaSetTest}: runs a JUnit 5
 * test class against a {@link io.repmgr4j.testcontainers.PgContainerReplicaSet}, started
 * per class or per method, removed afterwards even when a test fails, injected into
 * parameters and fields of type {@code PgContainerReplicaSet} and {@code PgContainer}
 * ({@link ContainerNode} picks the node; without it, the primary).
 *
 * <pre>{@code
 * @PgContainerReplicaSetTest(nodes = 2)
 * class MyContainerTest {
 *     @Test
 *     void streams(PgContainerReplicaSet set, @ContainerNode(2) PgContainer pg2) { ... }
 * }
 * }</pre>
 *
 * <p>Thread-safety: an annotation.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@ExtendWith(PgContainerReplicaSetExtension.class)
public @interface PgContainerReplicaSetTest {
    /** How many nodes: node 1 is the primary. */
    int nodes() default 3;

    /** Standbys that stream from another standby, as {@code "standby=upstream"}: {@code "pg3=pg2"}. */
    String[] cascade() default {};

    /** postgresql.conf settings for every node, as {@code "name=value"}. */
    String[] settings() default {};

    /** Whether the set is started once per class (default) or for every test method. */
    boolean perMethod() default false;
}
