package io.repmgr4j;

/** repmgr's event names, as written to {@code repmgr.events.event}. */
public final class Events {
    private Events() {
    }

    public static final String CLUSTER_CREATED = "cluster_created";
    public static final String PRIMARY_REGISTER = "primary_register";
    public static final String PRIMARY_UNREGISTER = "primary_unregister";
    public static final String STANDBY_CLONE = "standby_clone";
    public static final String STANDBY_REGISTER = "standby_register";
    public static final String STANDBY_REGISTER_SYNC = "standby_register_sync";
    public static final String STANDBY_UNREGISTER = "standby_unregister";
    public static final String STANDBY_PROMOTE = "standby_promote";
    public static final String STANDBY_FOLLOW = "standby_follow";
    public static final String STANDBY_SWITCHOVER = "standby_switchover";
    public static final String WITNESS_REGISTER = "witness_register";
    public static final String WITNESS_UNREGISTER = "witness_unregister";
    public static final String NODE_REJOIN = "node_rejoin";
    public static final String CLUSTER_CLEANUP = "cluster_cleanup";
}
