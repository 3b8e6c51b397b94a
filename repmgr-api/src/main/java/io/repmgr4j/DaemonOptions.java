package io.repmgr4j;

import io.repmgr4j.spi.FencingHook;
import java.time.Duration;
import java.util.Optional;
import org.immutables.value.Value;

/**
 * Java-only settings of a {@link FailoverDaemon}, beyond what repmgr.conf holds (the
 * node's {@link NodeConfig} carries those). The overrides allow intervals below one
 * second, which repmgr.conf's whole-second keys cannot express. Immutable; thread-safe.
 *
 * <pre>{@code
 * DaemonOptions fast = DaemonOptions.builder()
 *         .monitorInterval(Duration.ofMillis(500))
 *         .reconnectInterval(Duration.ofMillis(200))
 *         .build();
 * }</pre>
 */
@Value.Immutable
public abstract class DaemonOptions {

    public static ImmutableDaemonOptions.Builder builder() {
        return ImmutableDaemonOptions.builder();
    }

    /** No overrides: everything as the node's configuration says. */
    public static DaemonOptions defaults() {
        return builder().build();
    }

    /** Replaces {@code monitor_interval_secs}: how often the upstream and the local server are checked. */
    public abstract Optional<Duration> monitorInterval();

    /** Replaces {@code reconnect_interval}: the pause between reconnect attempts to a lost upstream. */
    public abstract Optional<Duration> reconnectInterval();

    /**
     * The longest one availability check (a connection attempt or a query) may take.
     * Default: the monitor interval, at least 1 s and at most 10 s. pgjdbc counts connect
     * timeouts in whole seconds, so values below 1 s act as 1 s for unreachable hosts
     * (a refused connection is seen at once).
     */
    public abstract Optional<Duration> checkTimeout();

    /**
     * How long a standby that lost the election waits for the winner to become primary
     * before a new election runs without it. Default: {@code promote_check_timeout}.
     */
    public abstract Optional<Duration> primaryWaitTimeout();

    /** The longest {@code event_notification_command} may run; it is killed after. Default 30 s. */
    @Value.Default
    public Duration notificationTimeout() {
        return Duration.ofSeconds(30);
    }

    /**
     * Keep an idle connection to the upstream whose loss is noticed at once (a crashed
     * server's socket closes immediately), so a failure is detected without waiting for the
     * next check. The reconnect policy still runs in full. Default on.
     */
    @Value.Default
    public boolean watchUpstream() {
        return true;
    }

    /** Called when this daemon finds two writable primaries (see {@link FencingHook}). */
    public abstract Optional<FencingHook> fencingHook();

    /** Replaces repmgr4j's {@code fencing} key: what the daemon does to its own server when it must stop accepting writes. */
    public abstract Optional<FencingMode> fencing();

    /** Replaces {@code fence_command} (for {@link FencingMode#COMMAND}); %n node id, %a node name, %r reason. */
    public abstract Optional<String> fenceCommand();

    /**
     * Replaces {@code primary_isolation_timeout}: how long a primary may go without seeing a
     * quorum of the cluster before it fences itself; sub-second values allowed.
     */
    public abstract Optional<Duration> primaryIsolationTimeout();
    /** Serve HTTP health endpoints here (replaces the node's {@code http_*} settings). Default: the node's, else off. */
    public abstract Optional<HttpEndpoint> http();

    /**
     * Replaces the node's {@code consensus = etcd} settings ({@link NodeConfig#consensus()}):
     * the store that decides who may be primary; needs module {@code repmgr-etcd}.
     */
    public abstract Optional<ConsensusConfig> consensus();

    /** What {@code /metrics} of the HTTP endpoint serves (the {@code repmgr-metrics} module gives one). */
    public abstract Optional<io.repmgr4j.spi.MetricsText> metrics();

    /** Told when this node becomes or stops being the primary, or follows a new upstream (see {@link io.repmgr4j.spi.RoleChangeListener}). */
    public abstract java.util.List<io.repmgr4j.spi.RoleChangeListener> roleChangeListeners();

    @Value.Check
    protected void check() {
        positive("monitorInterval", monitorInterval());
        positive("reconnectInterval", reconnectInterval());
        positive("checkTimeout", checkTimeout());
        positive("primaryWaitTimeout", primaryWaitTimeout());
        positive("notificationTimeout", Optional.of(notificationTimeout()));
        positive("primaryIsolationTimeout", primaryIsolationTimeout());
    }

    private static void positive(String name, Optional<Duration> d) {
        if (d.isPresent() && (d.get().isNegative() || d.get().isZero())) {
            throw new ReplicationException(ErrorCode.BAD_CONFIG, "invalid daemon option " + name + " = " + d.get(),
                    name + " must be a positive duration", null);
        }
    }
}
