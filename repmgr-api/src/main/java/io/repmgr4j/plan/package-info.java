/**
 * What an operation that changes a cluster (standby clone, promote, follow, switchover,
 * rejoin) reports back: the prerequisite {@link io.repmgr4j.plan.Check}s it ran, the
 * {@link io.repmgr4j.plan.Step}s it planned or took, and the
 * {@link io.repmgr4j.plan.OperationReport} that holds both. A dry run ({@code plan()})
 * runs the checks, changes nothing and returns a report whose steps are planned; a real
 * run ({@code execute()}) runs the same checks and refuses, before changing anything,
 * when one failed ({@link io.repmgr4j.plan.OperationReport#refusal()}). A failed run of a
 * topology operation throws an {@link io.repmgr4j.plan.OperationException} carrying the
 * report up to the failure.
 */
@Value.Style(
        defaults = @Value.Immutable(copy = true),
        optionalAcceptNullable = true)
package io.repmgr4j.plan;

import org.immutables.value.Value;
