/**
 * Plans and reports shared by every operation that checks prerequisites before it
 * changes anything (standby clone, switchover, rejoin, ...): a {@link io.repmgr4j.plan.Plan}
 * is the ordered list of {@link io.repmgr4j.plan.CheckResult}s and of the steps a real
 * run would take; a dry run returns it and changes nothing, a real run computes the same
 * plan, refuses when a check failed, and reports each step it ran as a
 * {@link io.repmgr4j.plan.StepResult}.
 */
@Value.Style(
        defaults = @Value.Immutable(copy = true),
        optionalAcceptNullable = true)
package io.repmgr4j.plan;

import org.immutables.value.Value;
