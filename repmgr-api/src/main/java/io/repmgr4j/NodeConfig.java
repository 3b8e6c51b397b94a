package io.repmgr4j;

import java.util.Optional;
import java.util.Set;
import org.immutables.value.Value;

/**
 * One node's configuration: what repmgr keeps in a node's {@code repmgr.conf}. Build it
 * in Java with {@link #builder()}, or read it from a file with the core module's
 * {@code RepmgrConf}. Defaults are repmgr's. Immutable; thread-safe.
 */
@Value.Immutable
public abstract class NodeConfig {

    /** A builder; {@code nodeId}, {@code nodeName}, {@code conninfo} and {@code dataDirectory} are required. */
    public static ImmutableNodeConfig.Builder builder() {
        return ImmutableNodeConfig.builder();
    }

    /** {@code node_id}: an integer ≥ 1, unique in the cluster. */
    public abstract int nodeId();

    /** {@code node_name}: at most 63 characters, unique in the cluster. */
    public abstract String nodeName();

    /** {@code conninfo}: how other nodes and the library connect to this node's database. */
    public abstract ConnInfo conninfo();

    /** {@code data_directory}, on the node's own host. */
    public abstract String dataDirectory();

    /** {@code pg_bindir}: where the node's PostgreSQL programs are; empty means look on PATH. */
    public abstract Optional<String> pgBindir();

    /** {@code priority}: 0 means never promoted by the daemon. */
    @Value.Default
    public int priority() {
        return 100;
    }

    /** {@code location}: nodes in another location than the failed primary's do not promote. */
    @Value.Default
    public String location() {
        return "default";
    }

    /** {@code use_replication_slots}. */
    @Value.Default
    public boolean useReplicationSlots() {
        return false;
    }

    /** {@code replication_user}; empty means the conninfo's user. */
    public abstract Optional<String> replicationUser();

    /** The replication user in effect: {@code replication_user}, else the conninfo's user. */
    @Value.Derived
    @Value.Auxiliary
    public String effectiveReplicationUser() {
        return replicationUser().or(() -> conninfo().user()).orElse("postgres");
    }

    /** {@code failover}. */
    @Value.Default
    public FailoverMode failover() {
        return FailoverMode.MANUAL;
    }

    /** {@code promote_command}. */
    public abstract Optional<String> promoteCommand();

    /** {@code follow_command}; {@code %n} stands for the new upstream's node id. */
    public abstract Optional<String> followCommand();

    /** repmgr4j's {@code http_listen_address}, {@code http_port}, ... keys: the daemon's HTTP health endpoints. */
    public abstract Optional<HttpEndpoint> http();

    /**
     * repmgr4j's {@code consensus = etcd} with {@code etcd_endpoints}, {@code etcd_prefix},
     * {@code etcd_cluster}, {@code etcd_ttl}, {@code etcd_timeout}, {@code etcd_user},
     * {@code etcd_password}, {@code etcd_ca_file}, {@code etcd_cert_file},
     * {@code etcd_key_file}: the store that decides who may be primary. Empty
     * ({@code consensus = peers}, the default): the daemons' peer voting decides.
     */
    public abstract Optional<ConsensusConfig> consensus();

    /**
     * repmgr4j's {@code vip}: a virtual IPv4 address with its prefix ({@code 10.0.0.100/24})
     * that the daemon adds to {@link #vipInterface()} while this node is the legitimate
     * primary and removes when it stops being it.
     */
    public abstract Optional<String> vip();

    /** repmgr4j's {@code vip_interface}: the network interface the {@link #vip()} goes on ({@code eth0}). */
    public abstract Optional<String> vipInterface();

    /** {@code monitor_interval_secs}. */
    @Value.Default
    public int monitorIntervalSecs() {
        return 2;
    }

    /** {@code reconnect_attempts}. */
    @Value.Default
    public int reconnectAttempts() {
        return 6;
    }

    /** {@code reconnect_interval}, in seconds. */
    @Value.Default
    public int reconnectInterval() {
        return 10;
    }

    /** {@code connection_check_type}. */
    @Value.Default
    public ConnectionCheckType connectionCheckType() {
        return ConnectionCheckType.PING;
    }

    /** {@code monitoring_history}. */
    @Value.Default
    public boolean monitoringHistory() {
        return false;
    }

    /** {@code primary_visibility_consensus}. */
    @Value.Default
    public boolean primaryVisibilityConsensus() {
        return false;
    }

    /** {@code promote_check_timeout}, in seconds. */
    @Value.Default
    public int promoteCheckTimeout() {
        return 60;
    }

    /** {@code shutdown_check_timeout}, in seconds. */
    @Value.Default
    public int shutdownCheckTimeout() {
        return 60;
    }

    /** {@code standby_reconnect_timeout}, in seconds. */
    @Value.Default
    public int standbyReconnectTimeout() {
        return 60;
    }

    /** {@code node_rejoin_timeout}, in seconds. */
    @Value.Default
    public int nodeRejoinTimeout() {
        return 60;
    }

    /** {@code service_start_command}; empty means pg_ctl. */
    public abstract Optional<String> serviceStartCommand();

    /** {@code service_stop_command}; empty means pg_ctl. */
    public abstract Optional<String> serviceStopCommand();

    /** {@code service_restart_command}; empty means pg_ctl. */
    public abstract Optional<String> serviceRestartCommand();

    /** {@code service_reload_command}; empty means pg_ctl. */
    public abstract Optional<String> serviceReloadCommand();

    /** {@code event_notification_command}, with repmgr's %-placeholders. */
    public abstract Optional<String> eventNotificationCommand();

    /** {@code event_notifications}: the events that run the notification command; empty means all. */
    public abstract Set<String> eventNotifications();

    /**
     * repmgr4j's own {@code fencing} (readonly|stop|command|none): what the daemon does to
     * this node's server when it must stop acknowledging writes. Default readonly.
     */
    @Value.Default
    public FencingMode fencing() {
        return FencingMode.READONLY;
    }

    /**
     * repmgr4j's own {@code fence_command}, run for {@code fencing=command} through the
     * node's command runner (as the OS user that runner runs commands as); {@code %n} node
     * id, {@code %a} node name, {@code %r} reason.
     */
    public abstract Optional<String> fenceCommand();

    /**
     * repmgr4j's own {@code primary_isolation_timeout}, in seconds: how long a primary may
     * go without seeing a quorum of the cluster before it fences itself. Empty: derived
     * from the daemon's intervals (see the daemon's documentation).
     */
    public abstract Optional<Integer> primaryIsolationTimeout();

    /** {@code ssh_options}, as written in repmgr.conf. */
    public abstract Optional<String> sshOptions();

    /** {@code log_file}. */
    public abstract Optional<String> logFile();

    /** {@code log_level}. */
    @Value.Default
    public String logLevel() {
        return "INFO";
    }

    /**
     * {@code synchronous} (repmgr4j's own key, cluster-wide: give every node the same value):
     * whether and how the library manages {@code synchronous_standby_names}. Default off.
     */
    @Value.Default
    public SyncMode synchronous() {
        return SyncMode.OFF;
    }

    /** {@code synchronous_count} (repmgr4j, cluster-wide): the {@code n} of {@code FIRST n} / {@code ANY n}; default 1. */
    @Value.Default
    public int synchronousCount() {
        return 1;
    }

    /**
     * {@code synchronous_strict} (repmgr4j, cluster-wide): never fall back to asynchronous
     * replication; with no synchronous standby connected, commits wait. Default false.
     */
    @Value.Default
    public boolean synchronousStrict() {
        return false;
    }

    /**
     * {@code synchronous_degrade_timeout} in seconds (repmgr4j, cluster-wide): without
     * {@code synchronous_strict}, how long no synchronous standby may be connected before the
     * primary's daemon drops to asynchronous replication. Default 10.
     */
    @Value.Default
    public int synchronousDegradeTimeout() {
        return 10;
    }

    /**
     * {@code sync_candidate} (repmgr4j, per node): whether this node may be a synchronous
     * standby; default true. Candidates are ordered by {@link #priority()}.
     */
    @Value.Default
    public boolean syncCandidate() {
        return true;
    }

    /**
     * Where this configuration came from: the repmgr.conf path, or a description. Stored
     * in {@code repmgr.nodes.config_file}.
     */
    @Value.Default
    public String configFile() {
        return "(built in Java by repmgr4j)";
    }

    @Value.Check
    protected void check() {
        if (nodeId() < 1) {
            throw invalid("node_id", String.valueOf(nodeId()), "node_id must be an integer of 1 or more");
        }
        if (nodeName().isBlank()) {
            throw invalid("node_name", nodeName(), "node_name must not be empty");
        }
        if (nodeName().length() > 63) {
            throw invalid("node_name", nodeName(), "node_name is " + nodeName().length()
                    + " characters long; the limit is 63 (PostgreSQL's identifier length)");
        }
        if (dataDirectory().isBlank()) {
            throw invalid("data_directory", dataDirectory(), "data_directory must not be empty");
        }
        if (priority() < 0) {
            throw invalid("priority", String.valueOf(priority()), "priority must be 0 or more");
        }
        positive("monitor_interval_secs", monitorIntervalSecs());
        positive("reconnect_interval", reconnectInterval());
        positive("promote_check_timeout", promoteCheckTimeout());
        positive("shutdown_check_timeout", shutdownCheckTimeout());
        positive("standby_reconnect_timeout", standbyReconnectTimeout());
        positive("node_rejoin_timeout", nodeRejoinTimeout());
        positive("synchronous_count", synchronousCount());
        positive("synchronous_degrade_timeout", synchronousDegradeTimeout());
        if (reconnectAttempts() < 0) {
            throw invalid("reconnect_attempts", String.valueOf(reconnectAttempts()), "reconnect_attempts must be 0 or more");
        }
        InputRules.checkNodeConfig(this);
        VirtualIp.parse(vip(), vipInterface());
    }

    private static void positive(String key, int value) {
        if (value < 1) {
            throw invalid(key, String.valueOf(value), key + " must be 1 or more");
        }
    }

    private static ReplicationException invalid(String key, String value, String detail) {
        return new ReplicationException(ErrorCode.BAD_CONFIG,
                "invalid value \"" + InputRules.visible(InputRules.shorten(value)) + "\" for \"" + key + "\"", detail, null);
    }
}
