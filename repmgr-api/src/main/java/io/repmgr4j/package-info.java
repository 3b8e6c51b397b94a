/**
 * repmgr4j's public API: {@link io.repmgr4j.ReplicationCluster} and the value types,
 * errors and configuration it takes and returns.
 */
@Value.Style(
        defaults = @Value.Immutable(copy = true),
        optionalAcceptNullable = true)
package io.repmgr4j;

import org.immutables.value.Value;
