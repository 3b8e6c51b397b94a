/**
 * What an operation that changes a cluster reports back: the prerequisite
 * {@link io.repmgr4j.plan.Check}s it ran, the {@link io.repmgr4j.plan.Step}s it planned or
 * took, and the {@link io.repmgr4j.plan.OperationReport} that holds both. A dry run
 * ({@code plan()}) and a real run ({@code execute()}) return the same report type, so
 * what a dry run shows is what a real run does. A failed run throws an
 * {@link io.repmgr4j.plan.OperationException} carrying the report up to the failure.
 */
@Value.Style(
        defaults = @Value.Immutable(copy = true),
        optionalAcceptNullable = true)
package io.repmgr4j.plan;

import org.immutables.value.Value;
