package io.repmgr4j;

import java.util.Optional;
import java.util.OptionalInt;
import org.immutables.value.Value;

/**
 * One row of {@code repmgr.nodes}: a node as the cluster's metadata records it.
 * Immutable; thread-safe.
 */
@Value.Immutable
public abstract class NodeRecord {

    /** A builder; every column without a default is required. */
    public static ImmutableNodeRecord.Builder builder() {
        return ImmutableNodeRecord.builder();
    }

    /** The record for a node configuration, as registration writes it. */
    public static NodeRecord from(NodeConfig config, NodeType type, OptionalInt upstreamNodeId) {
        return builder()
                .nodeId(config.nodeId())
                .upstreamNodeId(upstreamNodeId)
                .active(true)
                .nodeName(config.nodeName())
                .type(type)
                .location(config.location())
                .priority(config.priority())
                .conninfo(config.conninfo())
                .repluser(config.effectiveReplicationUser())
                .slotName(config.useReplicationSlots() ? Optional.of(slotNameFor(config.nodeId())) : Optional.empty())
                .configFile(config.configFile())
                .build();
    }

    /** repmgr's name for a node's replication slot: {@code repmgr_slot_<node_id>}. */
    public static String slotNameFor(int nodeId) {
        return "repmgr_slot_" + nodeId;
    }

    public abstract int nodeId();

    /** Empty for a primary. */
    public abstract OptionalInt upstreamNodeId();

    @Value.Default
    public boolean active() {
        return true;
    }

    public abstract String nodeName();

    public abstract NodeType type();

    @Value.Default
    public String location() {
        return "default";
    }

    @Value.Default
    public int priority() {
        return 100;
    }

    /** The node's connection string; {@code toString()} masks its password. */
    public abstract ConnInfo conninfo();

    public abstract String repluser();

    public abstract Optional<String> slotName();

    public abstract String configFile();

    /** {@code node "pg49" (ID: 2)}: how messages and event details name a node. */
    @Value.Derived
    @Value.Auxiliary
    public String describe() {
        return "node \"" + nodeName() + "\" (ID: " + nodeId() + ")";
    }
}
