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
     * {@link #promote(NodeConfig, NodeRecord, Duration, EventListener)} for a failover daemon:
     * the old primary's probe and the lock's connections are bounded by {@code probeCap} (the
     * daemon has just found the old primary silent; waiting out a full connect timeout on it
     * again only delays the failover), and with {@code oldPrimaryCap} the operation's own look
     * at the old primary by that shorter cap instead (the daemon has just waited out its fence
     * hold and found it silent under its full check timeout); either may be null.
     * {@code onWritable} runs as soon as the server accepts writes, before the records are
     * written; it must return fast and never throw.
     */
    default void promote(NodeConfig self, NodeRecord failedPrimary, Duration timeout, Duration probeCap,
                         Duration oldPrimaryCap, EventListener events, Runnable onWritable) {
        promote(self, failedPrimary, timeout, events);
        onWritable.run();
    }

    /**
     * Makes the standby {@code self} stream from {@code newUpstream} and returns once it
     * does; its record's upstream becomes {@code newUpstream}.
     *
     * @throws io.repmgr4j.ReplicationException {@code FOLLOW_FAIL} when the standby does not
     *     stream from the new upstream within {@code timeout}
     */
    void follow(NodeConfig self, NodeRecord newUpstream, Duration timeout, EventListener events);

    /**
     * Before a promotion: makes the standby {@code self} stream from its sibling
     * {@code from} (a standby of the same failed primary) until it has received WAL up to
     * {@code target}, so that the node promoted holds everything any standby received and
     * its siblings can follow it without pg_rewind. Changes no node record and writes no
     * event; the promotion that follows replaces the upstream setting anyway.
     *
     * @return what was done, in a sentence
     * @throws io.repmgr4j.ReplicationException when {@code target} was not reached within
     *     {@code timeout} or the server cannot change its upstream without a restart
     */
    String catchUp(NodeConfig self, NodeRecord from, io.repmgr4j.Lsn target, Duration timeout);
}
