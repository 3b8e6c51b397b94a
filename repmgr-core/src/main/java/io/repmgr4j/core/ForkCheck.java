package io.repmgr4j.core;

import io.repmgr4j.Lsn;
import io.repmgr4j.sql.ReplicationProtocol.Lineage;
import java.util.List;
import java.util.Optional;

/**
 * Whether a node can stream from a target without pg_rewind: every point the node's
 * data has reached must lie on the target's history. A point on the target's current
 * timeline must not be ahead of the target; a point on an older timeline must come before
 * the place where the target's history left that timeline (its fork point); a point on a
 * timeline the target's history does not contain has diverged. These are PostgreSQL's own
 * rules at standby start-up (a checkpoint record must start before the fork point; the
 * minimum recovery point may reach it). Stateless; thread-safe.
 */
final class ForkCheck {
    private ForkCheck() {
    }

    /**
     * A point the node's data has reached.
     *
     * @param what how messages name it ("recovery point", "checkpoint")
     * @param timeline the timeline the point is on
     * @param lsn the point
     * @param strict true when the point must come strictly before a fork point (a
     *     checkpoint record's start), false when it may equal it (the end of replayed WAL)
     */
    record Point(String what, int timeline, Lsn lsn, boolean strict) {
    }

    /** The answer: can it attach, and the LSNs that decided it, in repmgr's words. */
    record Verdict(boolean canAttach, String detail, Optional<Lsn> forkPoint) {
    }

    /** Checks each point against the target's lineage; the first that fails decides. */
    static Verdict check(List<Point> points, Lineage target) {
        int targetTli = target.system().timeline();
        Optional<Lsn> fork = Optional.empty();
        StringBuilder ok = new StringBuilder();
        for (Point p : points) {
            if (p.lsn().value() == 0) {
                continue; // an unset minimum recovery point
            }
            if (p.timeline() == targetTli) {
                if (p.lsn().compareTo(target.system().xlogPos()) > 0) {
                    return new Verdict(false, "node's " + p.what() + " " + p.lsn() + " on timeline " + p.timeline()
                            + " is ahead of the target's position " + target.system().xlogPos() + " on the same timeline",
                            Optional.empty());
                }
                append(ok, "node's " + p.what() + ": " + p.lsn() + " on timeline " + p.timeline()
                        + "; target's position: " + target.system().xlogPos());
                continue;
            }
            Optional<Lsn> sp = target.history().switchpoint(p.timeline());
            if (p.timeline() > targetTli || sp.isEmpty()) {
                return new Verdict(false, "node's timeline " + p.timeline() + " is not in the history of the target's timeline "
                        + targetTli, Optional.empty());
            }
            fork = sp;
            int c = p.lsn().compareTo(sp.get());
            if (c > 0 || (c == 0 && p.strict())) {
                return new Verdict(false, "target server's timeline " + targetTli + " forked off current database system timeline "
                        + p.timeline() + " before current " + p.what() + " " + p.lsn() + " (fork point " + sp.get() + ")", sp);
            }
            append(ok, "node's " + p.what() + ": " + p.lsn() + "; target's fork point: " + sp.get());
        }
        return new Verdict(true, ok.length() == 0 ? "nothing to compare" : ok.toString(), fork);
    }

    private static void append(StringBuilder sb, String s) {
        if (sb.length() > 0) {
            sb.append("; ");
        }
        sb.append(s);
    }
}
