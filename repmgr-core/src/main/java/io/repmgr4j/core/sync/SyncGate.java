package io.repmgr4j.core.sync;

import io.repmgr4j.Lsn;
import io.repmgr4j.SynchronousRecord;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What the synchronous record allows a failover, as a pure function: which of the nodes
 * taking part may be promoted, or why none may. Run before the usual election rules, which
 * still apply to the nodes it allows. Stateless; thread-safe.
 * <ul>
 *   <li>no record, or one that guarantees nothing (off, degraded): every node may;</li>
 *   <li>priority: only the record's members, and at least one of them must answer;</li>
 *   <li>quorum ({@code ANY n} of {@code m} members): at least {@code m - n + 1} members must
 *       answer with their received LSN; only those with the highest LSN may be promoted.</li>
 * </ul>
 */
public final class SyncGate {
    private SyncGate() {
    }

    /**
     * One node taking part in the election (this node included).
     *
     * @param visible whether it answered
     * @param lsn its received LSN, when it answered
     */
    public record Voter(int nodeId, String name, boolean visible, Optional<Lsn> lsn) {
        public Voter {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(lsn, "lsn");
        }
    }

    /**
     * The gate's answer.
     *
     * @param blocked no node may be promoted; {@code reason} says why
     * @param notAllowed nodes that must not be promoted (when not blocked)
     * @param reason a sentence for the event and the log
     */
    public record Verdict(boolean blocked, Set<Integer> notAllowed, String reason) {
        public Verdict {
            notAllowed = Set.copyOf(notAllowed);
            Objects.requireNonNull(reason, "reason");
        }
    }

    /** The newest of several copies of the record (highest generation). */
    public static Optional<SynchronousRecord> newest(List<Optional<SynchronousRecord>> copies) {
        return copies.stream().flatMap(Optional::stream).max(Comparator.comparingLong(SynchronousRecord::generation));
    }

    public static Verdict judge(Optional<SynchronousRecord> record, int failedId, List<Voter> voters) {
        if (record.isEmpty() || !record.get().guarding()) {
            return new Verdict(false, Set.of(), "no synchronous guarantee recorded");
        }
        SynchronousRecord r = record.get();
        List<Integer> members = r.members().stream().filter(id -> id != failedId && id != r.primaryNodeId()).toList();
        String gen = " (synchronous record generation " + r.generation() + ")";
        Set<Integer> notMembers = voters.stream().map(Voter::nodeId).filter(id -> !members.contains(id))
                .collect(Collectors.toSet());
        List<Voter> answered = voters.stream().filter(v -> members.contains(v.nodeId()) && v.visible() && v.lsn().isPresent())
                .toList();
        if (r.kind() == SynchronousRecord.Kind.PRIORITY) {
            if (answered.isEmpty()) {
                return new Verdict(true, Set.of(), "no recorded synchronous standby " + describe(members, voters)
                        + " answers; no other node is proven to hold every acknowledged commit, so none is promoted" + gen);
            }
            return new Verdict(false, notMembers, "only the recorded synchronous standbys " + describe(members, voters)
                    + " may be promoted" + gen);
        }
        int m = members.size();
        int need = Math.max(1, m - r.recordCount() + 1);
        if (answered.size() < need) {
            return new Verdict(true, Set.of(), "only " + answered.size() + " of the " + m + " recorded synchronous standbys "
                    + describe(members, voters) + " answer; with a quorum of " + r.recordCount() + " at least " + need
                    + " must answer to find every acknowledged commit, so none is promoted" + gen);
        }
        Lsn max = answered.stream().map(v -> v.lsn().get()).max(Comparator.naturalOrder()).orElseThrow();
        Set<Integer> not = new HashSet<>(notMembers);
        List<String> best = new ArrayList<>();
        for (Voter v : answered) {
            if (v.lsn().get().compareTo(max) < 0) {
                not.add(v.nodeId());
            } else {
                best.add(v.name());
            }
        }
        for (Voter v : voters) {
            if (members.contains(v.nodeId()) && !answered.contains(v)) {
                not.add(v.nodeId());
            }
        }
        return new Verdict(false, not, answered.size() + " of " + m + " recorded synchronous standbys answered (" + need
                + " needed); the highest received LSN " + max + " is on " + String.join(", ", best) + gen);
    }

    private static String describe(List<Integer> ids, List<Voter> voters) {
        return ids.stream().map(id -> voters.stream().filter(v -> v.nodeId() == id).map(Voter::name).findFirst()
                .orElse("node " + id)).collect(Collectors.joining(", ", "(", ")"));
    }
}
