package io.repmgr4j.jdbc;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What one poll of the cluster found: the members as the chosen metadata copy records
 * them, the legitimate primary (writable and recorded as the primary in the copy with the
 * highest voting term and newest timeline), the standbys within the lag limit, the
 * endpoints whose handed-out connections must be invalidated, and per endpoint what went
 * wrong (for error messages). Immutable; thread-safe.
 *
 * @param polled false before the first poll finished
 * @param members the active primary and standby records of the chosen copy
 * @param primary the legitimate primary, or null
 * @param epoch changes whenever {@code primary} changes to another node
 * @param standbys standbys in recovery and within the lag limit (read-only variant)
 * @param notPrimary endpoints known not to be (or no longer be) the legitimate primary
 * @param notStandby endpoints not (or no longer) eligible as a standby
 * @param problems per endpoint, why it is not the primary (state or error)
 * @param metadataFrom where the chosen copy was read, or null when none could be read
 * @param term the chosen copy's voting term
 */
record Topology(boolean polled, List<Member> members, Member primary, long epoch, List<Member> standbys,
                Set<Endpoint> notPrimary, Set<Endpoint> notStandby, Map<Endpoint, String> problems,
                String metadataFrom, int term) {

    static final Topology NONE = new Topology(false, List.of(), null, 0, List.of(), Set.of(), Set.of(), Map.of(), null, 0);

    /** One registered node. */
    record Member(int nodeId, String name, String type, Endpoint endpoint) {
        String describe() {
            return "node \"" + name + "\" (ID: " + nodeId + ", " + endpoint + ")";
        }
    }

    Optional<Member> member(Endpoint e) {
        return members.stream().filter(m -> m.endpoint().equals(e)).findFirst();
    }

    /** The nodes tried and why each is not usable, for error messages. */
    String tried() {
        if (problems.isEmpty()) {
            return "no node could be tried";
        }
        StringBuilder sb = new StringBuilder();
        problems.forEach((e, why) -> {
            if (sb.length() > 0) {
                sb.append("; ");
            }
            sb.append(member(e).map(Member::describe).orElse(e.toString())).append(": ").append(why);
        });
        return sb.toString();
    }
}
