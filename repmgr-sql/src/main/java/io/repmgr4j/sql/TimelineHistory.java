package io.repmgr4j.sql;

import io.repmgr4j.Lsn;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A server's timeline history (the {@code 0000000N.history} file of its current timeline
 * N): for every earlier timeline on the way to N, the WAL location where the server's
 * history left it (the switchpoint, or fork point). Timeline 1 has no history file and an
 * empty list. Immutable; thread-safe.
 *
 * @param timeline the timeline this history leads to
 * @param entries the earlier timelines, oldest first
 */
public record TimelineHistory(int timeline, List<Entry> entries) {

    /**
     * One line of a history file: timeline {@code parent} ended at {@code switchpoint},
     * where the next timeline in the history began.
     */
    public record Entry(int parent, Lsn switchpoint) {
    }

    public TimelineHistory {
        entries = List.copyOf(entries);
    }

    /**
     * Parses a history file's text: lines {@code <parentTLI> <switchpoint> <reason>},
     * separated by tabs or spaces; blank lines and lines starting with {@code #} ignored.
     *
     * @throws IllegalArgumentException on a line that is neither
     */
    public static TimelineHistory parse(int timeline, String content) {
        List<Entry> entries = new ArrayList<>();
        for (String raw : content.split("\n")) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] parts = line.split("\\s+", 3);
            if (parts.length < 2) {
                throw new IllegalArgumentException("not a timeline history line: \"" + line + "\"");
            }
            try {
                entries.add(new Entry(Integer.parseInt(parts[0]), Lsn.parse(parts[1])));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not a timeline history line: \"" + line + "\"", e);
            }
        }
        return new TimelineHistory(timeline, entries);
    }

    /** True when timeline {@code tli} is this timeline or one of its ancestors. */
    public boolean contains(int tli) {
        return tli == timeline || entries.stream().anyMatch(e -> e.parent() == tli);
    }

    /**
     * Where timeline {@code tli} ends in this history: empty for this history's own
     * timeline (it has not ended) and for a timeline that is not in it.
     */
    public Optional<Lsn> switchpoint(int tli) {
        return entries.stream().filter(e -> e.parent() == tli).map(Entry::switchpoint).findFirst();
    }
}
