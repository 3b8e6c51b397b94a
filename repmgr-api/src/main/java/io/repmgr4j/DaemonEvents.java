package io.repmgr4j;

/**
 * The event names the failover daemon writes to {@code repmgr.events}: repmgrd's, plus
 * {@link #SPLIT_BRAIN_DETECTED}, which repmgr has no equivalent for. Constants only.
 */
public final class DaemonEvents {
    private DaemonEvents() {
    }

    public static final String REPMGRD_START = "repmgrd_start";
    public static final String REPMGRD_SHUTDOWN = "repmgrd_shutdown";
    public static final String REPMGRD_RELOAD = "repmgrd_reload";
    public static final String REPMGRD_FAILOVER_PROMOTE = "repmgrd_failover_promote";
    public static final String REPMGRD_FAILOVER_FOLLOW = "repmgrd_failover_follow";
    public static final String REPMGRD_FAILOVER_ABORTED = "repmgrd_failover_aborted";
    public static final String REPMGRD_STANDBY_RECONNECT = "repmgrd_standby_reconnect";
    public static final String REPMGRD_PROMOTE_ERROR = "repmgrd_promote_error";
    public static final String REPMGRD_LOCAL_DISCONNECT = "repmgrd_local_disconnect";
    public static final String REPMGRD_LOCAL_RECONNECT = "repmgrd_local_reconnect";
    public static final String REPMGRD_UPSTREAM_DISCONNECT = "repmgrd_upstream_disconnect";
    public static final String REPMGRD_UPSTREAM_RECONNECT = "repmgrd_upstream_reconnect";
    public static final String CHILD_NODE_DISCONNECT = "child_node_disconnect";
    public static final String CHILD_NODE_RECONNECT = "child_node_reconnect";
    public static final String CHILD_NODE_NEW_CONNECT = "child_node_new_connect";

    /**
     * repmgr4j's own: a node runs as a writable primary while another node is the
     * cluster's current primary (typically a failed primary restarted after a failover).
     */
    public static final String SPLIT_BRAIN_DETECTED = "repmgrd_split_brain_detected";

    /**
     * repmgr4j's own: this primary has not seen a quorum of the cluster (its standbys and
     * the witness) for {@code primary_isolation_timeout}; it fences itself next.
     */
    public static final String PRIMARY_ISOLATED = "primary_isolated";

    /** repmgr4j's own: the daemon fenced its own server (the details say how and why). */
    public static final String PRIMARY_FENCED = "primary_fenced";

    /** repmgr4j's own: a readonly fence was lifted (quorum seen again, no other node promoted meanwhile). */
    public static final String PRIMARY_FENCE_LIFTED = "primary_fence_lifted";
}
