package io.repmgr4j.core.http;

import io.repmgr4j.ClusterStatus;
import io.repmgr4j.DaemonStatus;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.NodeHealth;
import io.repmgr4j.spi.MetricsText;
import java.time.Duration;
import java.util.Optional;

/**
 * What the health endpoints read: the daemon's status, its last look at the local server,
 * whether its loop is alive, cluster show and the metrics. Implemented by the daemon;
 * every method but {@link #cluster} returns from memory at once. Implementations are
 * thread-safe.
 */
public interface HealthSource {

    /** The node the daemon runs for (its id, name and tags). */
    NodeConfig node();

    /** The daemon's status snapshot. */
    DaemonStatus status();

    /** The daemon's last look at its server; empty before the first. */
    Optional<NodeHealth> health();

    /**
     * Whether the daemon's last primary check, since the server last came up writable,
     * found no other writable primary (a restarted old primary is not one until then).
     */
    boolean primaryConfirmed();

    /** A look at the server older than this counts as none (the server may hang). */
    Duration staleAfter();

    /** Whether the daemon's monitoring loop ran recently. */
    boolean alive();

    /** {@code cluster show}, bounded by {@code timeout} (this one may take that long). */
    ClusterStatus cluster(Duration timeout);

    /** What {@code /metrics} serves, if anything. */
    Optional<MetricsText> metrics();
}
