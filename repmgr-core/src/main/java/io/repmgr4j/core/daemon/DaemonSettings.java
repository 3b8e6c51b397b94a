package io.repmgr4j.core.daemon;

import io.repmgr4j.ConnectionCheckType;
import io.repmgr4j.DaemonOptions;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.FailoverMode;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The settings a daemon runs with: the node's repmgr.conf values with the Java-only
 * overrides applied, checked once at start. Immutable; thread-safe.
 */
record DaemonSettings(NodeConfig node, Duration monitorInterval, int reconnectAttempts, Duration reconnectInterval,
                      Duration checkTimeout, Duration promoteTimeout, Duration followTimeout, Duration primaryWaitTimeout,
                      Duration notificationTimeout, ConnectionCheckType checkType, boolean automatic,
                      boolean monitoringHistory, boolean visibilityConsensus, boolean watchUpstream, List<String> warnings) {

    /** Events repmgr (and this daemon) know; {@code event_notifications} naming others is only warned about. */
    private static final Set<String> KNOWN_EVENT_PREFIXES = Set.of("repmgrd_", "child_node", "standby_", "primary_",
            "witness_", "node_", "cluster_", "bdr_", "synchronous_");

    static DaemonSettings of(NodeConfig node, DaemonOptions options) {
        Duration monitor = options.monitorInterval().orElse(Duration.ofSeconds(node.monitorIntervalSecs()));
        Duration reconnect = options.reconnectInterval().orElse(Duration.ofSeconds(node.reconnectInterval()));
        Duration check = options.checkTimeout().orElse(clamp(monitor, Duration.ofSeconds(1), Duration.ofSeconds(10)));
        Duration promote = Duration.ofSeconds(node.promoteCheckTimeout());
        List<String> warnings = new ArrayList<>();
        if (node.eventNotificationCommand().isPresent() && node.eventNotificationCommand().get().isBlank()) {
            throw new ReplicationException(ErrorCode.BAD_CONFIG, "event_notification_command is empty",
                    "an empty command cannot be run", "remove the setting, or give the command to run");
        }
        if (!node.eventNotifications().isEmpty() && node.eventNotificationCommand().isEmpty()) {
            warnings.add("event_notifications is set but event_notification_command is not; no command will be run");
        }
        for (String e : node.eventNotifications()) {
            if (KNOWN_EVENT_PREFIXES.stream().noneMatch(e::startsWith)) {
                warnings.add("event_notifications names \"" + e + "\", which is not an event repmgr or repmgr4j records");
            }
        }
        if (node.failover() == FailoverMode.AUTOMATIC && node.priority() == 0) {
            warnings.add("failover=automatic with priority 0: this node follows a new primary but is never promoted");
        }
        if (node.promoteCommand().map(String::isBlank).orElse(false) || node.followCommand().map(String::isBlank).orElse(false)) {
            throw new ReplicationException(ErrorCode.BAD_CONFIG, (node.promoteCommand().map(String::isBlank).orElse(false) ? "promote_command" : "follow_command")
                    + " is blank",
                    "the daemon runs these instead of its own promote and follow", "remove the setting, or give the command");
        }
        if (monitor.compareTo(Duration.ofMillis(50)) < 0) {
            throw new ReplicationException(ErrorCode.BAD_CONFIG, "monitor interval " + monitor.toMillis() + " ms is too short",
                    "each check needs a round trip to the servers; below 50 ms the daemon would do little else",
                    "use 50 ms or more (monitor_interval_secs, or DaemonOptions.monitorInterval)");
        }
        return new DaemonSettings(node, monitor, node.reconnectAttempts(), reconnect, check, promote,
                Duration.ofSeconds(node.standbyReconnectTimeout()), options.primaryWaitTimeout().orElse(promote),
                options.notificationTimeout(), node.connectionCheckType(), node.failover() == FailoverMode.AUTOMATIC,
                node.monitoringHistory(), node.primaryVisibilityConsensus(), options.watchUpstream(), List.copyOf(warnings));
    }

    /**
     * How long after an upstream was found gone the failover starts: the first reconnect
     * attempt is made at once, the others {@code reconnect_interval} apart, as repmgrd
     * does, so (reconnect_attempts - 1) × reconnect_interval.
     */
    Duration reconnectWindow() {
        return reconnectInterval.multipliedBy(Math.max(0, reconnectAttempts - 1));
    }

    private static Duration clamp(Duration d, Duration min, Duration max) {
        return d.compareTo(min) < 0 ? min : d.compareTo(max) > 0 ? max : d;
    }
}
