package io.repmgr4j.core;

import io.repmgr4j.ErrorCode;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.sql.ConnectFailures;
import java.util.ArrayList;
import java.util.List;

/**
 * The error when no node's metadata could be read: DETAIL names each node tried with its
 * SQLState and the server's message (or that it has no repmgr schema), and the HINT fits
 * the causes (authentication, network, missing database, TLS); "register the primary
 * first" only when some node was reached and none holds the schema. Stateless; thread-safe.
 */
final class MetadataUnreachable {
    private MetadataUnreachable() {
    }

    static ReplicationException error(List<ConnectFailures.Failure> failures, List<String> withoutSchema) {
        List<String> lines = new ArrayList<>();
        failures.forEach(f -> lines.add(f.describe()));
        lines.addAll(withoutSchema);
        String detail = lines.isEmpty() ? "no node to try: the handle has no seed" : "tried " + String.join("; ", lines);
        List<String> hints = new ArrayList<>();
        if (!failures.isEmpty()) {
            hints.add(ConnectFailures.hint(failures));
        }
        if (!withoutSchema.isEmpty()) {
            hints.add("register the primary first, or give a seed that holds the repmgr schema");
        }
        return new ReplicationException(ErrorCode.DB_CONN,
                "unable to read the repmgr metadata from any node", detail,
                hints.isEmpty() ? "give the handle a seed" : String.join("; ", hints));
    }
}
