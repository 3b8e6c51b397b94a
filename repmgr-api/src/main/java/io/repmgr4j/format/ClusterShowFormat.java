package io.repmgr4j.format;

import io.repmgr4j.ClusterStatus;
import io.repmgr4j.NodeState;
import io.repmgr4j.NodeStatus;
import io.repmgr4j.SyncState;
import io.repmgr4j.SynchronousRecord;
import java.util.ArrayList;
import java.util.List;

/**
 * Renders a {@link ClusterStatus} the way {@code repmgr cluster show} prints it: the
 * table, the CSV forms, and the warning block. Passwords are always masked.
 * Stateless; thread-safe.
 */
public final class ClusterShowFormat {
    private static final List<String> HEADER = List.of("ID", "Name", "Role", "Status", "Upstream", "Location",
            "Priority", "Timeline", "Connection string");

    private ClusterShowFormat() {
    }

    /** repmgr's table, followed by the warning block when problems were detected. */
    public static String table(ClusterStatus status) {
        return table(status, false);
    }

    /**
     * repmgr's table and warning block; with {@code verbose}, each unreachable node's
     * connection error is listed too.
     */
    public static String table(ClusterStatus status, boolean verbose) {
        TextTable t = new TextTable(HEADER);
        for (NodeStatus n : status.nodes()) {
            t.row(cells(n));
        }
        return t.renderRepmgr(false) + warnings(status, verbose);
    }

    /**
     * The verbose variant: repmgr's columns plus {@code Sync} (each standby's
     * {@code sync_state} on the primary), a line with the cluster's synchronous mode, then
     * the warning block with connection errors.
     */
    public static String verboseTable(ClusterStatus status) {
        List<String> header = new ArrayList<>(HEADER);
        header.add(header.size() - 1, "Sync");
        TextTable t = new TextTable(header);
        for (NodeStatus n : status.nodes()) {
            List<String> c = cells(n);
            c.add(c.size() - 1, n.syncState().map(SyncState::pgValue).orElse(""));
            t.row(c);
        }
        return t.render() + synchronousLine(status) + warnings(status, true);
    }

    /** {@code Synchronous replication: priority, FIRST 1 ("pg2") (record: priority 1 of 2, generation 4)}, or off. */
    public static String synchronousLine(ClusterStatus status) {
        if (status.synchronous().isEmpty()) {
            return "\nSynchronous replication: off\n";
        }
        SynchronousRecord r = status.synchronous().get();
        return "\nSynchronous replication: " + r.mode().confValue() + (r.strict() ? " (strict)" : "") + ", "
                + (r.standbyNames().isEmpty() ? "none named" : r.standbyNames()) + " (record: "
                + r.kind().name().toLowerCase(java.util.Locale.ROOT)
                + (r.guarding() ? " " + r.recordCount() + " of node(s) " + r.members() : "") + ", generation " + r.generation()
                + ")\n";
    }

    /**
     * The warning block alone: {@code WARNING: following issues were detected}, one
     * {@code   - ...} line per problem, and a HINT; empty when the cluster is healthy.
     */
    public static String warnings(ClusterStatus status, boolean verbose) {
        if (status.problems().isEmpty()) {
            return "";
        }
        StringBuilder sb = new StringBuilder("\nWARNING: following issues were detected\n");
        for (String p : status.problems()) {
            sb.append("  - ").append(p).append('\n');
        }
        boolean anyError = status.nodes().stream().anyMatch(n -> n.connectionError().isPresent());
        if (verbose && anyError) {
            sb.append("DETAIL: connection errors:\n");
            for (NodeStatus n : status.nodes()) {
                n.connectionError().ifPresent(e -> sb.append("  - node \"").append(n.nodeName()).append("\" (ID: ")
                        .append(n.nodeId()).append("): ").append(e).append('\n'));
            }
        } else if (anyError) {
            sb.append("HINT: render with verbose output to see connection error messages\n");
        }
        return sb.toString();
    }

    /** A CSV with a header row and the same columns as the table. */
    public static String csv(ClusterStatus status) {
        StringBuilder sb = new StringBuilder(Csv.line(List.of("id", "name", "role", "status", "upstream", "location",
                "priority", "timeline", "conninfo")));
        for (NodeStatus n : status.nodes()) {
            sb.append(Csv.line(cells(n)));
        }
        return sb.toString();
    }

    /**
     * repmgr's terse {@code cluster show --csv} form, one line per node:
     * {@code node_id,connection (0 reachable, -1 not),recovery (0 primary, 1 standby, -1 unknown)}.
     */
    public static String repmgrCsv(ClusterStatus status) {
        StringBuilder sb = new StringBuilder();
        for (NodeStatus n : status.nodes()) {
            String reach = n.state().reachable() ? "0" : "-1";
            String recovery = n.inRecovery().map(r -> r ? "1" : "0").orElse("-1");
            sb.append(n.nodeId()).append(',').append(reach).append(',').append(recovery).append('\n');
        }
        return sb.toString();
    }

    /**
     * The Status column as repmgr prints it: the state's label, with a running standby's
     * {@code running} indented by two spaces so that it lines up under {@code * running}.
     */
    public static String statusText(NodeState state) {
        return state == NodeState.STANDBY_RUNNING ? "  " + state.label() : state.label();
    }

    private static List<String> cells(NodeStatus n) {
        List<String> c = new ArrayList<>();
        c.add(String.valueOf(n.nodeId()));
        c.add(n.nodeName());
        c.add(n.role().sqlName());
        c.add(statusText(n.state()));
        c.add(n.upstreamLabel());
        c.add(n.location());
        c.add(String.valueOf(n.priority()));
        c.add(n.timeline().isPresent() ? String.valueOf(n.timeline().getAsLong()) : "");
        c.add(n.conninfo().masked());
        return c;
    }
}
