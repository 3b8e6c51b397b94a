package io.repmgr4j.format;

import io.repmgr4j.EventRecord;
import java.time.format.DateTimeFormatter;
import java.util.List;

/**
 * Renders events the way {@code repmgr cluster event} prints them:
 * {@code Node ID | Name | Event | OK | Timestamp | Details}, in the order given (the
 * store returns newest first). Stateless; thread-safe.
 */
public final class EventTableFormat {
    private static final DateTimeFormatter TIMESTAMP = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");

    private EventTableFormat() {
    }

    /**
     * repmgr's table, with the empty line repmgr prints after it; {@code no matching events
     * found} when there are none.
     */
    public static String table(List<EventRecord> events) {
        if (events.isEmpty()) {
            return "no matching events found\n";
        }
        TextTable t = new TextTable(List.of("Node ID", "Name", "Event", "OK", "Timestamp", "Details"));
        for (EventRecord e : events) {
            t.row(List.of(String.valueOf(e.nodeId()), e.nodeName().orElse(""), e.event(), e.successful() ? "t" : "f",
                    e.timestamp().map(TIMESTAMP::format).orElse(""), e.details().orElse("")));
        }
        return t.renderRepmgr(false) + "\n";
    }
}
