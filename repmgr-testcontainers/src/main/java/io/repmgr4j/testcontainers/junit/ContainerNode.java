package io.repmgr4j.testcontainers.junit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Which node of a {@link PgContainerReplicaSetTest}'s set a {@code PgContainer} parameter
 * or field receives: 1 the primary (also the default), 2 the first standby, ...
 *
 * <p>Thread-safety: an annotation.
 */
@Target({ElementType.PARAMETER, ElementType.FIELD})
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface ContainerNode {
    /** The node's number: 1 for pg1. */
    int value();
}
