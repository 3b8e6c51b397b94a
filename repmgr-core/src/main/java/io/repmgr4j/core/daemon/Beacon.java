package io.repmgr4j.core.daemon;

import io.repmgr4j.DaemonMode;
import io.repmgr4j.sql.DaemonSessions;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A daemon's live state as its siblings see it: the text a daemon keeps in the
 * {@code application_name} of one session on its own server, and the parser for it.
 *
 * <p>Format (at most 63 characters, PostgreSQL's limit):
 * {@code r4jd n=2 u=1 p=0 a=1 s=250 m=M t=3 i=48213}
 * <ul>
 *   <li>{@code n}: the node id;</li>
 *   <li>{@code u}: the upstream node id it monitors (0: none, a primary);</li>
 *   <li>{@code p}: paused (1) or not (0);</li>
 *   <li>{@code a}: failover=automatic (1) or manual (0);</li>
 *   <li>{@code s}: milliseconds since it last reached its upstream, at the time the text
 *       was set (-1: never, or a primary); a reader adds the session's
 *       {@code now() - state_change}, both on the server's own clock, so hosts' clocks
 *       need not agree;</li>
 *   <li>{@code m}: its {@link DaemonMode} letter;</li>
 *   <li>{@code t}: the voting term it last read;</li>
 *   <li>{@code i}: its operating-system process id.</li>
 * </ul>
 * When the numbers are so large that the text would pass 63 characters, {@code i} and
 * then {@code t} are left out. Immutable; thread-safe.
 */
record Beacon(int nodeId, int upstreamId, boolean paused, boolean automatic, long lastSeenAgoMillis, DaemonMode mode,
              int term, long pid) {

    /** How every daemon session's application_name starts. */
    static final String PREFIX = "r4jd ";

    /** PostgreSQL keeps at most this many bytes of an application_name. */
    static final int MAX_LENGTH = 63;

    String encode() {
        StringBuilder sb = new StringBuilder(PREFIX.strip());
        sb.append(" n=").append(nodeId)
                .append(" u=").append(upstreamId)
                .append(" p=").append(paused ? 1 : 0)
                .append(" a=").append(automatic ? 1 : 0)
                .append(" s=").append(lastSeenAgoMillis < 0 ? -1 : Math.min(lastSeenAgoMillis, 9_999_999_999L))
                .append(" m=").append(mode.code());
        for (String optional : List.of(" t=" + term, " i=" + pid)) {
            if (sb.length() + optional.length() <= MAX_LENGTH) {
                sb.append(optional);
            }
        }
        return sb.toString();
    }

    /** Whether the daemon reached its upstream within {@code millis}. */
    boolean sawUpstreamWithin(long millis) {
        return lastSeenAgoMillis >= 0 && lastSeenAgoMillis <= millis;
    }

    /**
     * Reads a beacon from a session's application_name; {@code millisSinceSet} (the
     * session's age since its last statement, when known) is added to the last-seen age.
     * Empty when the text is not a beacon.
     */
    static Optional<Beacon> parse(String applicationName, OptionalLong millisSinceSet) {
        if (applicationName == null || !applicationName.startsWith(PREFIX)) {
            return Optional.empty();
        }
        Integer n = null;
        int u = 0;
        int t = 0;
        long pid = -1;
        long s = -1;
        boolean p = false;
        boolean a = false;
        DaemonMode m = null;
        try {
            for (String token : applicationName.substring(PREFIX.length()).trim().split(" +")) {
                int eq = token.indexOf('=');
                if (eq != 1) {
                    continue;
                }
                String v = token.substring(2);
                switch (token.charAt(0)) {
                    case 'n' -> n = Integer.parseInt(v);
                    case 'u' -> u = Integer.parseInt(v);
                    case 'p' -> p = v.equals("1");
                    case 'a' -> a = v.equals("1");
                    case 's' -> s = Long.parseLong(v);
                    case 'm' -> m = v.length() == 1 ? DaemonMode.ofCode(v.charAt(0)).orElse(null) : null;
                    case 't' -> t = Integer.parseInt(v);
                    case 'i' -> pid = Long.parseLong(v);
                    default -> { }
                }
            }
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
        if (n == null || m == null) {
            return Optional.empty();
        }
        long age = s < 0 ? -1 : s + millisSinceSet.orElse(0);
        return Optional.of(new Beacon(n, u, p, a, age, m, t, pid));
    }

    /** The beacon of {@code nodeId} among a server's daemon sessions (the freshest when there are several). */
    static Optional<Beacon> find(List<DaemonSessions.Session> sessions, int nodeId) {
        Optional<Beacon> best = Optional.empty();
        long bestAge = Long.MAX_VALUE;
        for (DaemonSessions.Session s : sessions) {
            Optional<Beacon> b = parse(s.applicationName(), s.millisSinceStateChange());
            if (b.isPresent() && b.get().nodeId() == nodeId) {
                long age = s.millisSinceStateChange().orElse(0);
                if (age < bestAge) {
                    best = b;
                    bestAge = age;
                }
            }
        }
        return best;
    }
}
