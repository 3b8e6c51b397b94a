package io.repmgr4j;

import java.util.Locale;

/** A node's registered role, as stored in {@code repmgr.nodes.type}. Immutable; thread-safe. */
public enum NodeType {
    PRIMARY, STANDBY, WITNESS, BDR;

    /** The text stored in the nodes table ({@code primary}, {@code standby}, ...). */
    public String sqlName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Reads the nodes table's text. */
    public static NodeType fromSql(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new ReplicationException(ErrorCode.DB_QUERY, "unknown node type \"" + s + "\"",
                    "repmgr.nodes.type must be one of primary, standby, witness, bdr", null);
        }
    }
}
