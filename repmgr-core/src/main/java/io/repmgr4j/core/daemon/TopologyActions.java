package io.repmgr4j.core.daemon;

import io.repmgr4j.NodeConfig;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.spi.EventListener;
import java.time.Duration;

/**
 * The topology changes a failover daemon makes: promote its own standby, or make it
 * follow a new upstream. Each writes its own operation event ({@code standby_promote},
 * {@code standby_follow}) and node record changes, and tells {@code events} of the
 * events it recorded; the daemon records its {@code repmgrd_*} events itself.
 * Internal; implementations are thread-safe.
 */
public interface TopologyActions {

    /**
     * Promotes the standby {@code self} and returns once it accepts writes; its record
     * becomes the primary's and {@code failedPrimary}'s record is marked inactive.
     *
     * @throws io.repmgr4j.ReplicationException {@code PROMOTION_FAIL} when the server was
     *     not promoted within {@code timeout}
     */
    void promote(NodeConfig self, NodeRecord failedPrimary, Duration timeout, EventListener events);

    /**
     * {@link #promote(NodeConfig, NodeRecord, Duration, EventListener)}, with the old
     * primary's probe and the lock's connections bounded by {@code probeCap} (the daemon has
     * just found the old primary silent; waiting out a full connect timeout on it again only
     * delays the failover).
     */
    default void promote(NodeConfig self, NodeRecord failedPrimary, Duration timeout, Duration probeCap,
                         EventListener events) {
        promote(self, failedPrimary, timeout, events);
    }

    /**
     * {@link #promote(NodeConfig, NodeRecord, Duration, Duration, EventListener)}, with the old
     * primary's probe and lock connection bounded by {@code oldPrimaryCap} instead: the daemon
     * has just waited out its fence hold and found the old primary silent under its full check
     * timeout, so the operation's own look at it need not wait that timeout out again.
     */
    default void promote(NodeConfig self, NodeRecord failedPrimary, Duration timeout, Duration probeCap,
                         Duration oldPrimaryCap, EventListener events) {
        promote(self, failedPrimary, timeout, probeCap, events);
    }

    /**
     * Makes the standby {@code self} stream from {@code newUpstream} and returns once it
     * does; its record's upstream becomes {@code newUpstream}.
     *
     * @throws io.repmgr4j.ReplicationException {@code FOLLOW_FAIL} when the standby does not
     *     stream from the new upstream within {@code timeout}
     */
    void follow(NodeConfig self, NodeRecord newUpstream, Duration timeout, EventListener events);
}
