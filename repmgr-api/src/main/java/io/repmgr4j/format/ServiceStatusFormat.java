package io.repmgr4j.format;

import io.repmgr4j.NodeServiceStatus;
import io.repmgr4j.NodeStatus;
import io.repmgr4j.NodeType;
import io.repmgr4j.ServiceStatus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Renders a {@link ServiceStatus} the way {@code repmgr service status} prints it:
 * {@code ID | Name | Role | Status | Upstream | repmgrd | PID | Paused? | Upstream last seen},
 * then the warning block. Stateless; thread-safe.
 */
public final class ServiceStatusFormat {
    private static final List<String> HEADER = List.of("ID", "Name", "Role", "Status", "Upstream", "repmgrd", "PID",
            "Paused?", "Upstream last seen");

    private ServiceStatusFormat() {
    }

    /** repmgr's table, followed by the warning block when problems were detected. */
    public static String table(ServiceStatus status) {
        boolean sync = status.synchronous().map(r -> r.mode() != io.repmgr4j.SyncMode.OFF).orElse(false);
        List<String> header = new ArrayList<>(HEADER);
        if (sync) {
            header.add("Sync"); // only when synchronous replication is in use: repmgr's table otherwise
        }
        TextTable t = new TextTable(header);
        for (NodeServiceStatus n : status.nodes()) {
            List<String> c = cells(n);
            if (sync) {
                c.add(n.node().syncState().map(io.repmgr4j.SyncState::pgValue).orElse(""));
            }
            t.row(c);
        }
        StringBuilder sb = new StringBuilder(t.renderRepmgr(true));
        if (!status.problems().isEmpty()) {
            sb.append("\nWARNING: following issues were detected\n");
            for (String p : status.problems()) {
                sb.append("  - ").append(p).append('\n');
            }
        }
        return sb.toString();
    }

    /** A CSV with a header row and the table's columns. */
    public static String csv(ServiceStatus status) {
        StringBuilder sb = new StringBuilder(Csv.line(List.of("id", "name", "role", "status", "upstream", "repmgrd", "pid",
                "paused", "upstream_last_seen")));
        for (NodeServiceStatus n : status.nodes()) {
            sb.append(Csv.line(cells(n)));
        }
        return sb.toString();
    }

    /** repmgr's wording of an age: {@code 2 second(s) ago}. */
    public static String ago(Duration age) {
        long s = Math.max(0, age.toSeconds());
        return s + " second(s) ago";
    }

    private static List<String> cells(NodeServiceStatus row) {
        NodeStatus n = row.node();
        List<String> c = new ArrayList<>();
        c.add(String.valueOf(n.nodeId()));
        c.add(n.nodeName());
        c.add(n.role().sqlName());
        c.add(ClusterShowFormat.statusText(n.state()));
        c.add(n.upstreamLabel());
        boolean known = row.daemonRunning().isPresent();
        boolean running = row.daemonRunning().orElse(false);
        c.add(known ? (running ? "running" : "not running") : "n/a");
        // as repmgr: the pid when one is known (a dead repmgrd's stays known), and the
        // paused and last-seen columns only beside a known pid
        boolean pid = known && row.daemonPid().isPresent();
        c.add(pid ? String.valueOf(row.daemonPid().getAsLong()) : "n/a");
        c.add(pid ? row.paused().map(p -> p ? "yes" : "no").orElse("n/a") : "n/a");
        boolean primary = n.role() == NodeType.PRIMARY && n.upstreamNodeId().isEmpty();
        c.add(primary || !pid ? "n/a" : row.upstreamLastSeen().map(ServiceStatusFormat::ago).orElse("n/a"));
        return c;
    }
}
