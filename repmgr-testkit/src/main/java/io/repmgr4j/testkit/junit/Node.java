package io.repmgr4j.testkit.junit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Which node of the replica set a {@code PgNode} (or {@code PgServer}, {@code PgContainer}) parameter or field of a
 * {@link PgReplicaSetTest} receives: {@code @Node(1)} the primary (pg1, also the default
 * without this annotation), {@code @Node(2)} the first standby (pg2), and so on.
 *
 * <p>Thread-safety: an annotation.
 */
@Target({ElementType.PARAMETER, ElementType.FIELD})
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface Node {
    /** The node's number: 1 for pg1 (the primary), 2 for pg2, ... */
    int value();
}
