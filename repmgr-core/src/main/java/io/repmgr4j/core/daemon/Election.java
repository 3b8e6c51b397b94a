package io.repmgr4j.core.daemon;

import io.repmgr4j.DaemonMode;
import io.repmgr4j.Lsn;
import io.repmgr4j.NodeType;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The failover election as a pure function: from what one daemon has observed of itself
 * and of its siblings (the standbys, and witnesses, of the same failed primary), decide to
 * promote, to wait for another winner, to follow a sibling that is primary already, or to
 * cancel. The rules are repmgr's, checked in this order:
 * <ol>
 *   <li>a sibling standby already runs as a primary: follow it (two such: cancel);</li>
 *   <li>no visible node (this one included) is in the failed primary's location: cancel,
 *       assuming a network split;</li>
 *   <li>{@code primary_visibility_consensus} is on and a visible sibling's daemon reached
 *       the failed primary within the consensus window: cancel;</li>
 *   <li>visible nodes (this one included; witnesses count) are not more than half of all
 *       (siblings + 1): cancel, no majority;</li>
 *   <li>candidates are this node and the visible sibling standbys in recovery whose daemon
 *       runs with failover=automatic, is not paused, watches the failed primary, and whose
 *       priority is above 0; the winner has the highest receive LSN, then the highest
 *       priority, then the lowest node id; none: cancel.</li>
 * </ol>
 * Every daemon reads the same LSNs and priorities from the same servers, so daemons that
 * see each other compute the same winner. Stateless; thread-safe.
 */
final class Election {
    private Election() {
    }

    /**
     * One node taking part, as observed.
     *
     * @param visible whether its server answered
     * @param inRecovery whether it is a standby (empty when not visible)
     * @param lsn its receive LSN (a primary's current LSN)
     * @param beacon its daemon's published state; empty when no daemon runs there
     */
    record Participant(int nodeId, String nodeName, NodeType type, String location, int priority, boolean visible,
                       Optional<Boolean> inRecovery, Optional<Lsn> lsn, Optional<Beacon> beacon) {
        Participant {
            Objects.requireNonNull(nodeName, "nodeName");
            Objects.requireNonNull(type, "type");
            Objects.requireNonNull(location, "location");
            Objects.requireNonNull(inRecovery, "inRecovery");
            Objects.requireNonNull(lsn, "lsn");
            Objects.requireNonNull(beacon, "beacon");
        }

        String describe() {
            return "node \"" + nodeName + "\" (ID: " + nodeId + ")";
        }
    }

    /**
     * Everything one decision needs.
     *
     * @param self this node; always visible; its own eligibility is {@code selfEligible}
     * @param selfEligible failover=automatic, not paused (the priority is checked here)
     * @param failedId the failed primary's node id
     * @param failedName the failed primary's name, for messages
     * @param failedLocation the failed primary's location
     * @param siblings the other active nodes whose upstream was the failed primary
     * @param visibilityConsensus {@code primary_visibility_consensus}
     * @param consensusWindowMillis 2 × the monitor interval
     * @param excluded nodes that already failed to become primary in this failover
     */
    record Input(Participant self, boolean selfEligible, int failedId, String failedName, String failedLocation,
                 List<Participant> siblings, boolean visibilityConsensus, long consensusWindowMillis,
                 Set<Integer> excluded) {
        Input {
            siblings = List.copyOf(siblings);
            excluded = Set.copyOf(excluded);
        }
    }

    /** What to do. */
    sealed interface Outcome permits Promote, WaitFor, Follow, Cancel {
    }

    /** This node wins: promote it. */
    record Promote(List<Participant> ranking) implements Outcome {
    }

    /** Another node wins: wait until it runs as primary, then follow it. */
    record WaitFor(Participant winner, List<Participant> ranking) implements Outcome {
    }

    /** A sibling already runs as primary: follow it. */
    record Follow(Participant primary) implements Outcome {
    }

    /** No failover: stay degraded. {@code reason} becomes the event's details. */
    record Cancel(String reason) implements Outcome {
    }

    /** Winner first: highest LSN (a missing LSN ranks last), then highest priority, then lowest node id. */
    static final Comparator<Participant> RANK = Comparator
            .comparing((Participant p) -> p.lsn().orElse(null), Comparator.nullsLast(Comparator.<Lsn>reverseOrder()))
            .thenComparing(Participant::priority, Comparator.reverseOrder())
            .thenComparingInt(Participant::nodeId);

    static Outcome decide(Input in) {
        List<Participant> visible = in.siblings().stream().filter(Participant::visible).toList();

        List<Participant> primaries = visible.stream()
                .filter(p -> p.type() == NodeType.STANDBY && p.inRecovery().equals(Optional.of(false)))
                .toList();
        if (primaries.size() == 1) {
            return new Follow(primaries.get(0));
        }
        if (primaries.size() > 1) {
            return new Cancel("more than one sibling runs as a primary: " + describe(primaries));
        }

        boolean locationSeen = in.self().location().equals(in.failedLocation())
                || visible.stream().anyMatch(p -> p.location().equals(in.failedLocation()));
        if (!locationSeen) {
            return new Cancel("no visible node is in the failed primary's location \"" + in.failedLocation()
                    + "\"; assuming a network split, no node is promoted");
        }

        if (in.visibilityConsensus()) {
            List<Participant> seers = visible.stream()
                    .filter(p -> p.beacon().map(b -> b.upstreamId() == in.failedId()
                            && b.sawUpstreamWithin(in.consensusWindowMillis())).orElse(false))
                    .toList();
            if (!seers.isEmpty()) {
                return new Cancel(describe(seers) + " can still see the primary \"" + in.failedName() + "\" (ID: "
                        + in.failedId() + ") (primary_visibility_consensus)");
            }
        }

        int total = in.siblings().size() + 1;
        int seen = visible.size() + 1;
        if (seen <= total / 2.0) {
            return new Cancel("unable to reach a majority of nodes: " + seen + " of " + total + " visible");
        }

        List<Participant> candidates = new ArrayList<>();
        if (in.selfEligible() && in.self().priority() > 0 && !in.excluded().contains(in.self().nodeId())) {
            candidates.add(in.self());
        }
        for (Participant p : visible) {
            if (eligibleSibling(p, in)) {
                candidates.add(p);
            }
        }
        if (candidates.isEmpty()) {
            return new Cancel("no node can be promoted: no visible standby runs a daemon with failover=automatic,"
                    + " not paused, with a priority above 0");
        }
        candidates.sort(RANK);
        Participant winner = candidates.get(0);
        return winner.nodeId() == in.self().nodeId() ? new Promote(candidates) : new WaitFor(winner, candidates);
    }

    private static boolean eligibleSibling(Participant p, Input in) {
        if (p.type() != NodeType.STANDBY || p.priority() <= 0 || in.excluded().contains(p.nodeId())
                || !p.inRecovery().orElse(false)) {
            return false;
        }
        return p.beacon().map(b -> b.automatic() && !b.paused() && b.upstreamId() == in.failedId()
                && b.mode() != DaemonMode.DEGRADED && b.mode() != DaemonMode.LOCAL_DOWN).orElse(false);
    }

    private static String describe(List<Participant> ps) {
        return ps.stream().map(Participant::describe).collect(Collectors.joining(", "));
    }
}
