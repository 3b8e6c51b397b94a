package io.repmgr4j.core.daemon;

import io.repmgr4j.NodeRecord;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A primary's view of its child nodes: which registered standbys stream from it, as
 * {@code pg_stat_replication} shows them by application_name, and what changed since the
 * last look (repmgr's {@code child_node_disconnect}, {@code child_node_reconnect},
 * {@code child_node_new_connect}). Pure state; used by one thread.
 */
final class ChildWatch {

    enum Kind { NEW_CONNECT, DISCONNECT, RECONNECT }

    /** One change to record. */
    record Change(NodeRecord child, Kind kind, Duration away) {
        String details() {
            String who = "standby \"" + child.nodeName() + "\" (ID: " + child.nodeId() + ")";
            return switch (kind) {
                case NEW_CONNECT -> "new " + who + " has connected";
                case DISCONNECT -> who + " has disconnected";
                case RECONNECT -> who + " has reconnected after " + away.toSeconds() + " seconds";
            };
        }
    }

    private record Child(boolean attached, boolean everAttached, Instant since) {
    }

    private final Map<Integer, Child> known = new HashMap<>();
    private boolean initialized;
    private boolean announceFirst;

    /**
     * Forgets everything. With {@code announceFirst} (this node just became primary), the
     * children seen attached at the next look are new connections; otherwise they are
     * taken as they are, without events (the daemon just started).
     */
    void reset(boolean announceFirst) {
        known.clear();
        initialized = false;
        this.announceFirst = announceFirst;
    }

    /** True when {@code nodeId} is a child that was seen detached at the last look. */
    boolean isDetached(int nodeId) {
        Child c = known.get(nodeId);
        return c != null && !c.attached();
    }

    /** Compares the children with the names streaming now; returns what changed. */
    List<Change> check(List<NodeRecord> children, Set<String> attachedNames, Instant now) {
        List<Change> changes = new ArrayList<>();
        Set<Integer> ids = new HashSet<>();
        for (NodeRecord n : children) {
            ids.add(n.nodeId());
            boolean attached = attachedNames.contains(n.nodeName());
            Child before = known.get(n.nodeId());
            if (before == null) {
                if (attached && initialized) {
                    changes.add(new Change(n, Kind.NEW_CONNECT, Duration.ZERO));
                } else if (attached && announceFirst) {
                    changes.add(new Change(n, Kind.NEW_CONNECT, Duration.ZERO));
                }
                known.put(n.nodeId(), new Child(attached, attached, now));
                continue;
            }
            if (before.attached() && !attached) {
                changes.add(new Change(n, Kind.DISCONNECT, Duration.ZERO));
                known.put(n.nodeId(), new Child(false, true, now));
            } else if (!before.attached() && attached) {
                changes.add(before.everAttached()
                        ? new Change(n, Kind.RECONNECT, Duration.between(before.since(), now))
                        : new Change(n, Kind.NEW_CONNECT, Duration.ZERO));
                known.put(n.nodeId(), new Child(true, true, now));
            }
        }
        known.keySet().retainAll(ids);
        initialized = true;
        announceFirst = false;
        return changes;
    }
}
