/**
 * repmgr4j's public API: {@link io.repmgr4j.ReplicationCluster} and the value types,
 * errors and configuration it takes and returns.
 */
@Value.Style(
        visibility = Value.Style.ImplementationVisibility.PACKAGE,
        builderVisibility = Value.Style.BuilderVisibility.PUBLIC,
        defaults = @Value.Immutable(copy = true),
        optionalAcceptNullable = true)
package io.repmgr4j;

import org.immutables.value.Value;
