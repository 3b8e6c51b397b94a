package io.repmgr4j.core.sync;

import io.repmgr4j.ErrorCode;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.NodeType;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.SyncMode;
import io.repmgr4j.SynchronousRecord;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The pure heart of synchronous replication: from the registered nodes, the settings, the
 * {@code sync_candidate} flags and which standbys stream from the primary now, the
 * {@code synchronous_standby_names} the primary should run with, what the synchronous
 * record should then say, and why. Stateless; thread-safe.
 *
 * <p>Candidates are the active standbys other than the primary whose {@code sync_candidate}
 * is true, best first: highest priority, then lowest node id. A standby counts as connected
 * when the primary's {@code pg_stat_replication} shows it {@code streaming} (caught up).
 * <ul>
 *   <li>priority: {@code FIRST n (...)} naming exactly the {@code n} best connected
 *       candidates; when fewer are connected, strict mode fills up with the best
 *       unconnected ones (commits wait), non-strict names only the connected ones; with none
 *       connected, the best {@code n} until the degrade timeout has passed, then nothing;</li>
 *   <li>quorum: {@code ANY n (...)} over every candidate; non-strict lowers {@code n} to the
 *       number connected when fewer are, and degrades like priority mode.</li>
 * </ul>
 */
public final class SyncTarget {
    private SyncTarget() {
    }

    /**
     * What to apply.
     *
     * @param standbyNames the value for {@code synchronous_standby_names} ({@code ""}: none)
     * @param kind what the record then guarantees
     * @param count the {@code n} in effect
     * @param members the node ids named (those that may hold every acknowledged commit)
     * @param memberNames their names, in the order named
     * @param reason why, in a sentence
     */
    public record Target(String standbyNames, SynchronousRecord.Kind kind, int count, List<Integer> members,
                         List<String> memberNames, String reason) {
        public Target {
            Objects.requireNonNull(standbyNames, "standbyNames");
            Objects.requireNonNull(kind, "kind");
            members = List.copyOf(members);
            memberNames = List.copyOf(memberNames);
        }
    }

    /** Best first: highest priority, then lowest node id. */
    static final Comparator<NodeRecord> ORDER = Comparator.comparing(NodeRecord::priority, Comparator.reverseOrder())
            .thenComparingInt(NodeRecord::nodeId);

    /** The sync candidates among {@code nodes} for primary {@code primaryId}, best first. */
    public static List<NodeRecord> candidates(List<NodeRecord> nodes, int primaryId, Map<Integer, Boolean> flags) {
        return nodes.stream()
                .filter(n -> n.active() && n.type() == NodeType.STANDBY && n.nodeId() != primaryId)
                .filter(n -> flags.getOrDefault(n.nodeId(), true))
                .sorted(ORDER)
                .toList();
    }

    /**
     * Refuses settings that cannot work with these nodes: a count above the number of
     * candidates, or candidates none of which can be promoted (all priority 0).
     *
     * @throws ReplicationException {@code BAD_CONFIG}
     */
    public static void validate(List<NodeRecord> nodes, int primaryId, SyncSettings s, Map<Integer, Boolean> flags) {
        if (s.mode() == SyncMode.OFF) {
            return;
        }
        List<NodeRecord> c = candidates(nodes, primaryId, flags);
        String mode = s.mode().confValue();
        if (c.isEmpty()) {
            throw new ReplicationException(ErrorCode.BAD_CONFIG, "synchronous = " + mode + " needs a sync candidate, and there is none",
                    "no active standby other than the primary has sync_candidate = true",
                    "register a standby with sync_candidate = true, or set synchronous = off");
        }
        if (s.count() > c.size()) {
            throw new ReplicationException(ErrorCode.BAD_CONFIG, "synchronous_count " + s.count() + " is larger than the "
                    + c.size() + " sync candidate(s)", "candidates: " + names(c),
                    "lower synchronous_count to " + c.size() + " or less, or add sync candidates");
        }
        List<NodeRecord> named = s.mode() == SyncMode.PRIORITY ? c.subList(0, s.count()) : c;
        if (named.stream().allMatch(n -> n.priority() == 0)) {
            String what = s.mode() == SyncMode.QUORUM ? "every sync candidate of the quorum has priority 0"
                    : "the synchronous standbys would all have priority 0";
            throw new ReplicationException(ErrorCode.BAD_CONFIG, "synchronous = " + mode + " leaves no standby that can be promoted",
                    what + " (" + names(named) + "), and a failover never promotes a priority-0 node",
                    "give a sync candidate a priority above 0, or make a node with a priority above 0 a sync candidate");
        }
    }

    /**
     * The target for these inputs (call {@link #validate} first for the user's input; here
     * a shortage of candidates is treated like unconnected ones).
     *
     * @param connected application names streaming from the primary now
     * @param degradeExpired no candidate has been connected for the degrade timeout
     */
    public static Target compute(List<NodeRecord> nodes, int primaryId, SyncSettings s, Map<Integer, Boolean> flags,
                                 Set<String> connected, boolean degradeExpired) {
        if (s.mode() == SyncMode.OFF) {
            return new Target("", SynchronousRecord.Kind.OFF, 0, List.of(), List.of(), "synchronous = off: asynchronous replication");
        }
        List<NodeRecord> c = candidates(nodes, primaryId, flags);
        List<NodeRecord> up = c.stream().filter(n -> connected.contains(n.nodeName())).toList();
        if (up.isEmpty() && !s.strict() && degradeExpired) {
            return new Target("", SynchronousRecord.Kind.DEGRADED, 0, List.of(), List.of(),
                    "no sync candidate has been connected for synchronous_degrade_timeout (" + s.degradeTimeout().toSeconds()
                            + " s); synchronous_strict is off: asynchronous until one is back");
        }
        if (c.isEmpty()) {
            return new Target("", SynchronousRecord.Kind.DEGRADED, 0, List.of(), List.of(),
                    "there is no sync candidate; asynchronous until one is registered");
        }
        if (s.mode() == SyncMode.PRIORITY) {
            List<NodeRecord> chosen = new ArrayList<>();
            for (NodeRecord n : up) {
                if (chosen.size() < s.count()) {
                    chosen.add(n);
                }
            }
            String why;
            if (chosen.size() == s.count()) {
                why = "the " + s.count() + " best connected sync candidate(s) by priority";
            } else if (s.strict() || chosen.isEmpty()) {
                for (NodeRecord n : c) {
                    if (chosen.size() < s.count() && !chosen.contains(n)) {
                        chosen.add(n);
                    }
                }
                chosen.sort(ORDER);
                why = (up.isEmpty() ? "no sync candidate is connected" : "only " + up.size() + " of " + s.count()
                        + " sync candidate(s) connected") + (s.strict() ? "; synchronous_strict: commits wait for "
                        : "; commits wait until the degrade timeout for ") + names(chosen);
            } else {
                why = "only " + chosen.size() + " of " + s.count() + " sync candidate(s) connected; synchronous_strict is off:"
                        + " commits wait for the connected ones";
            }
            int n = Math.min(s.count(), chosen.size());
            return new Target("FIRST " + n + " (" + quoted(chosen) + ")", SynchronousRecord.Kind.PRIORITY, n, ids(chosen),
                    names(chosen), why);
        }
        int n = s.count();
        String why = "any " + n + " of the " + c.size() + " sync candidate(s) " + names(c);
        if (up.size() < n && !s.strict() && !up.isEmpty()) {
            n = up.size();
            why = "only " + up.size() + " of " + s.count() + " sync candidate(s) connected; synchronous_strict is off: any " + n
                    + " of " + names(c);
        } else if (up.size() < n) {
            why += s.strict() ? "; synchronous_strict: commits wait until " + n + " are connected"
                    : "; commits wait until the degrade timeout";
        }
        return new Target("ANY " + n + " (" + quoted(c) + ")", SynchronousRecord.Kind.QUORUM, n, ids(c), names(c), why);
    }

    /** A node name as an identifier in synchronous_standby_names (always double-quoted). */
    public static String quote(String name) {
        return "\"" + name.replace("\"", "\"\"") + "\"";
    }

    private static String quoted(List<NodeRecord> ns) {
        return ns.stream().map(n -> quote(n.nodeName())).collect(Collectors.joining(", "));
    }

    private static List<Integer> ids(List<NodeRecord> ns) {
        return ns.stream().map(NodeRecord::nodeId).toList();
    }

    private static List<String> names(List<NodeRecord> ns) {
        return ns.stream().map(NodeRecord::nodeName).toList();
    }
}
