package io.repmgr4j.core.sync;

import io.repmgr4j.ConnInfo;

/**
 * Connection strings for the library's own sessions that write metadata: they commit with
 * {@code synchronous_commit = local}, so that events and records are never held up by a
 * synchronous standby that is gone (the application's commits still wait). A static
 * utility; thread-safe.
 */
public final class SyncConnections {
    private SyncConnections() {
    }

    /** {@code c} with {@code -c synchronous_commit=local} added to its {@code options}. */
    public static ConnInfo localCommit(ConnInfo c) {
        String opts = c.get("options").orElse("");
        if (opts.contains("synchronous_commit")) {
            return c;
        }
        return c.with("options", (opts.isBlank() ? "" : opts + " ") + "-c synchronous_commit=local");
    }
}
