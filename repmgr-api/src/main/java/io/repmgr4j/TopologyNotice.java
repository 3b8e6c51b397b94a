package io.repmgr4j;

import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The notification every role change publishes, with PostgreSQL's {@code NOTIFY} on
 * channel {@value #CHANNEL}, on the primary once it accepts writes (a standby cannot
 * notify): after a promotion (standby promote, the switchover's, the failover daemon's),
 * a standby follow and a node rejoin. Clients that route connections (the
 * {@code ClusterDataSource} of repmgr-jdbc) {@code LISTEN} on it, and poll as well.
 *
 * <p>The payload is a small versioned JSON object:
 * {@code {"v":1,"event":"promote","primary":2,"timeline":3,"term":4}} with the event
 * ({@code promote}, {@code follow} or {@code rejoin}), the primary's node id, its timeline
 * and the voting term. A notice is a hint to look again, never the truth by itself: its
 * receiver checks the servers. Immutable; thread-safe.
 *
 * @param event what happened: {@code promote}, {@code follow}, {@code rejoin}
 * @param primaryNodeId the node id of the primary that sent it (0 when unknown)
 * @param timeline the primary's timeline
 * @param term the voting term in the primary's metadata
 */
public record TopologyNotice(String event, int primaryNodeId, int timeline, int term) {
    /** The channel name. */
    public static final String CHANNEL = "repmgr4j_topology";
    /** The payload's format version. */
    public static final int VERSION = 1;

    private static final Pattern FIELD = Pattern.compile("\"(v|event|primary|timeline|term)\"\\s*:\\s*(\"([a-z_]*)\"|-?\\d+)");

    public TopologyNotice {
        Objects.requireNonNull(event, "event");
    }

    /** The JSON payload. */
    public String payload() {
        return "{\"v\":" + VERSION + ",\"event\":\"" + event + "\",\"primary\":" + primaryNodeId
                + ",\"timeline\":" + timeline + ",\"term\":" + term + "}";
    }

    /**
     * Reads a payload; empty when it is not one of version {@value #VERSION} (a newer
     * sender's payload is still a reason to look again).
     */
    public static Optional<TopologyNotice> parse(String payload) {
        if (payload == null) {
            return Optional.empty();
        }
        Matcher m = FIELD.matcher(payload);
        String event = null;
        Integer v = null;
        int primary = 0;
        int timeline = 0;
        int term = 0;
        while (m.find()) {
            String value = m.group(3) != null ? m.group(3) : m.group(2);
            try {
                switch (m.group(1)) {
                    case "v" -> v = Integer.parseInt(value);
                    case "event" -> event = value;
                    case "primary" -> primary = Integer.parseInt(value);
                    case "timeline" -> timeline = Integer.parseInt(value);
                    default -> term = Integer.parseInt(value);
                }
            } catch (NumberFormatException e) {
                return Optional.empty();
            }
        }
        if (v == null || v != VERSION || event == null) {
            return Optional.empty();
        }
        return Optional.of(new TopologyNotice(event, primary, timeline, term));
    }
}
