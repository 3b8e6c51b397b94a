package io.repmgr4j.testkit.spi;

import io.repmgr4j.testkit.PgServer;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The shape of a replica set, whichever backend starts it: how many nodes, which standbys
 * cascade from which ({@code 3 -> 2}: pg3 streams from pg2), postgresql.conf settings for
 * every node, and a prefix for the node names ({@code "MyTest-"}: {@code MyTest-pg1}, ...).
 * The constructor refuses what does not fit together; the static readers parse the
 * annotation's texts. Immutable, thread-safe.
 */
public record ReplicaSetSpec(int nodes, Map<Integer, Integer> cascade, Map<String, String> settings, String namePrefix) {
    private static final int MAX_NAME = 40;

    /**
     * @throws IllegalArgumentException when there are fewer than one node, a cascade names a
     *     node outside the set or an upstream that is not a lower-numbered node, or a setting
     *     name is not a configuration parameter name
     */
    public ReplicaSetSpec {
        if (nodes < 1) {
            throw new IllegalArgumentException("a replica set needs at least one node, got " + nodes);
        }
        cascade = Collections.unmodifiableMap(new TreeMap<>(cascade));
        cascade.forEach((node, upstream) -> {
            if (node < 2 || upstream < 1 || upstream >= node) {
                throw new IllegalArgumentException("cascade " + node + " -> " + upstream + ": a standby (node 2 or"
                        + " higher) can only cascade from a node with a lower number");
            }
            if (node > nodes) {
                throw new IllegalArgumentException("cascade names node " + node + " but the set has " + nodes + " nodes");
            }
        });
        settings = Collections.unmodifiableMap(new LinkedHashMap<>(settings));
        settings.forEach((k, v) -> PgServer.builder().setting(k, v)); // validates the name and value
        namePrefix = namePrefix(namePrefix);
    }

    /** The node that node {@code n} streams from: its cascade upstream, else 1 (the primary). */
    public int upstreamOf(int n) {
        return cascade.getOrDefault(n, 1);
    }

    /** The name of node {@code n}: the prefix and {@code pg<n>}. */
    public String nodeName(int n) {
        return namePrefix + "pg" + n;
    }

    /**
     * Reads {@code "pg3=pg2"} (or {@code "3=2"}) as {@code {3, 2}}: standby pg3 streams from pg2.
     *
     * @throws IllegalArgumentException when the text is not of that form
     */
    public static int[] cascade(String standbyEqualsUpstream) {
        String[] parts = standbyEqualsUpstream == null ? new String[0] : standbyEqualsUpstream.split("=", -1);
        if (parts.length != 2) {
            throw new IllegalArgumentException("a cascade is \"standby=upstream\", e.g. \"pg3=pg2\"; got \""
                    + standbyEqualsUpstream + "\"");
        }
        return new int[] {nodeNumber(parts[0], standbyEqualsUpstream), nodeNumber(parts[1], standbyEqualsUpstream)};
    }

    private static int nodeNumber(String text, String whole) {
        String t = text.trim();
        if (t.startsWith("pg")) {
            t = t.substring(2);
        }
        try {
            return Integer.parseInt(t);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("a cascade names nodes as pg<N> or <N>: \"" + whole + "\"", e);
        }
    }

    /**
     * Reads {@code "name=value"} as a name and a value (both trimmed).
     *
     * @throws IllegalArgumentException when there is no '=' after a name
     */
    public static Map.Entry<String, String> setting(String nameEqualsValue) {
        int eq = nameEqualsValue == null ? -1 : nameEqualsValue.indexOf('=');
        if (eq <= 0) {
            throw new IllegalArgumentException("a setting is \"name=value\", e.g. \"max_wal_senders=5\"; got \""
                    + nameEqualsValue + "\"");
        }
        return Map.entry(nameEqualsValue.substring(0, eq).trim(), nameEqualsValue.substring(eq + 1).trim());
    }

    /**
     * A name prefix fit for node names: characters a name cannot hold become '_', it is
     * shortened to leave room for {@code -pg99} within 40 characters, and ends with '-'
     * (empty stays empty).
     */
    public static String namePrefix(String prefix) {
        String p = prefix == null ? "" : prefix.replaceAll("[^A-Za-z0-9_.-]", "_");
        while (p.endsWith("-")) {
            p = p.substring(0, p.length() - 1);
        }
        if (!p.isEmpty() && !Character.isLetterOrDigit(p.charAt(0))) {
            p = "t" + p;
        }
        int room = MAX_NAME - ("-pg" + 99).length();
        if (p.length() > room) {
            p = p.substring(0, room);
        }
        return p.isEmpty() ? "" : p + "-";
    }
}
