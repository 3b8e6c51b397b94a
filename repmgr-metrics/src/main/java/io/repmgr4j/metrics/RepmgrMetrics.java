package io.repmgr4j.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.repmgr4j.DaemonEvents;
import io.repmgr4j.DaemonMode;
import io.repmgr4j.DaemonState;
import io.repmgr4j.EventRecord;
import io.repmgr4j.Events;
import io.repmgr4j.FailoverDaemon;
import io.repmgr4j.NodeHealth;
import io.repmgr4j.NodeType;
import io.repmgr4j.plan.OperationReport;
import io.repmgr4j.spi.EventListener;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.ToDoubleFunction;

/**
 * repmgr4j's metrics on a Micrometer {@link MeterRegistry} (the embedding application's
 * own, or a {@link PrometheusMetricsText}'s):
 * <ul>
 * <li>per bound daemon (tags {@code node_id}, {@code node_name}): {@code repmgr.node.role}
 *     (tag {@code role}: primary, standby; 1 for the role the server is in),
 *     {@code repmgr.node.primary} (1 on the legitimate primary, as {@code /primary} decides),
 *     {@code repmgr.node.up} (the server answers), {@code repmgr.node.timeline},
 *     {@code repmgr.replication.lag.bytes}, {@code repmgr.replication.lag.seconds} (NaN
 *     off a standby), {@code repmgr.daemon.running}, {@code repmgr.daemon.paused},
 *     {@code repmgr.daemon.split.brain}, {@code repmgr.node.fenced} (daemon mode {@code FENCED}, with the
 *     fencing feature), {@code repmgr.voting.term};</li>
 * <li>counters: {@code repmgr.events} (tags {@code event}, {@code successful}),
 *     {@code repmgr.failovers} (successful {@code repmgrd_failover_promote}),
 *     {@code repmgr.switchovers} (successful {@code standby_switchover}),
 *     {@code repmgr.fences} (successful {@code primary_fenced}, recorded by the fencing feature);</li>
 * <li>timer {@code repmgr.operation} (tags {@code operation}, {@code outcome}) of every
 *     operation report handed to {@link #record(OperationReport)}.</li>
 * </ul>
 * Gauges read the daemon's in-memory state ({@link FailoverDaemon#status()},
 * {@link FailoverDaemon#health()}) when scraped. Events reach this object as an
 * {@link EventListener}: {@link #bind} adds it to the daemon; it may also be given to a
 * cluster handle ({@code ReplicationClusters.builder().eventListener(metrics)}) for the
 * events of operations: an event seen twice (a daemon's, through both) counts once.
 *
 * <pre>{@code
 * PrometheusMetricsText prometheus = PrometheusMetricsText.create();
 * RepmgrMetrics metrics = RepmgrMetrics.on(prometheus.registry());
 * FailoverDaemon d = cluster.daemon(node, DaemonOptions.builder().http(http).metrics(prometheus).build());
 * metrics.bind(d);
 * d.start();
 * }</pre>
 *
 * Thread-safe.
 */
public final class RepmgrMetrics implements EventListener {
    private static final int RECENT = 512;

    private final MeterRegistry registry;
    private final Counter failovers;
    private final Counter switchovers;
    private final Counter fences;
    /** The last events counted, compared by identity: a daemon hands the same record to its listeners and the handle's. */
    private final java.util.ArrayDeque<EventRecord> recent = new java.util.ArrayDeque<>();
    private final Map<Integer, List<Meter>> bound = new LinkedHashMap<>();

    private RepmgrMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.failovers = Counter.builder("repmgr.failovers").description("automatic failovers that promoted a standby")
                .register(registry);
        this.switchovers = Counter.builder("repmgr.switchovers").description("successful switchovers").register(registry);
        this.fences = Counter.builder("repmgr.fences").description("primaries fenced by their daemon (primary_fenced)")
                .register(registry);
    }

    /** Metrics on {@code registry}. */
    public static RepmgrMetrics on(MeterRegistry registry) {
        return new RepmgrMetrics(Objects.requireNonNull(registry, "registry"));
    }

    /** The registry the meters are on. */
    public MeterRegistry registry() {
        return registry;
    }

    /**
     * Registers the gauges of {@code daemon} (before or after it starts) and counts its
     * events. Returns this object.
     *
     * @throws IllegalStateException when a daemon of the same node is bound already
     */
    public RepmgrMetrics bind(FailoverDaemon daemon) {
        Objects.requireNonNull(daemon, "daemon");
        synchronized (bound) {
            if (bound.containsKey(daemon.nodeId())) {
                throw new IllegalStateException("a daemon of node " + daemon.nodeId() + " is bound already; unbind it first");
            }
            Tags tags = Tags.of("node_id", String.valueOf(daemon.nodeId()), "node_name", daemon.status().nodeName());
            List<Meter> meters = new ArrayList<>();
            for (NodeType role : List.of(NodeType.PRIMARY, NodeType.STANDBY)) {
                meters.add(gauge("repmgr.node.role", "1 for the role the node's server is in", daemon,
                        tags.and("role", role.name().toLowerCase(java.util.Locale.ROOT)),
                        d -> health(d).filter(NodeHealth::running)
                                .map(h -> (h.inRecovery() ? NodeType.STANDBY : NodeType.PRIMARY) == role ? 1.0 : 0.0)
                                .orElse(0.0)));
            }
            meters.add(gauge("repmgr.node.primary", "1 on the legitimate primary (writable, the metadata's primary, no split brain)",
                    daemon, tags, d -> health(d).map(h -> h.legitimatePrimary(d.nodeId())
                            && d.status().mode() != DaemonMode.SPLIT_BRAIN && !d.status().mode().name().equals("FENCED")
                            ? 1.0 : 0.0).orElse(0.0)));
            meters.add(gauge("repmgr.node.up", "1 while the node's server answers", daemon, tags,
                    d -> health(d).map(h -> h.running() ? 1.0 : 0.0).orElse(0.0)));
            meters.add(gauge("repmgr.node.timeline", "the server's timeline", daemon, tags,
                    d -> health(d).flatMap(h -> h.timeline().isPresent() ? Optional.of((double) h.timeline().getAsLong())
                            : Optional.empty()).orElse(Double.NaN)));
            meters.add(gauge("repmgr.replication.lag.bytes", "a standby's replay lag in bytes", daemon, tags,
                    d -> health(d).flatMap(h -> h.lagBytes().isPresent() ? Optional.of((double) h.lagBytes().getAsLong())
                            : Optional.empty()).orElse(Double.NaN)));
            meters.add(gauge("repmgr.replication.lag.seconds", "a standby's replay delay in seconds", daemon, tags,
                    d -> health(d).flatMap(h -> h.lagSeconds().isPresent() ? Optional.of(h.lagSeconds().getAsDouble())
                            : Optional.empty()).orElse(Double.NaN)));
            meters.add(gauge("repmgr.daemon.running", "1 while the daemon runs", daemon, tags,
                    d -> d.state() == DaemonState.RUNNING ? 1.0 : 0.0));
            meters.add(gauge("repmgr.daemon.paused", "1 while the daemons are paused", daemon, tags,
                    d -> d.status().paused() ? 1.0 : 0.0));
            meters.add(gauge("repmgr.daemon.split.brain", "1 while this node is a primary beside the cluster's current one",
                    daemon, tags, d -> d.status().mode() == DaemonMode.SPLIT_BRAIN ? 1.0 : 0.0));
            meters.add(gauge("repmgr.node.fenced", "1 while the daemon keeps its server fenced (mode FENCED)", daemon, tags,
                    d -> d.status().mode().name().equals("FENCED") ? 1.0 : 0.0));
            meters.add(gauge("repmgr.voting.term", "the cluster's voting term as this daemon last read it", daemon, tags,
                    d -> d.status().votingTerm()));
            bound.put(daemon.nodeId(), meters);
        }
        daemon.addListener(this);
        return this;
    }

    /** Removes the gauges of {@code daemon} and stops counting its events; false when it was not bound. */
    public boolean unbind(FailoverDaemon daemon) {
        List<Meter> meters;
        synchronized (bound) {
            meters = bound.remove(daemon.nodeId());
        }
        if (meters == null) {
            return false;
        }
        meters.forEach(registry::remove);
        daemon.removeListener(this);
        return true;
    }

    private static Optional<NodeHealth> health(FailoverDaemon d) {
        return d.health();
    }

    private Meter gauge(String name, String description, FailoverDaemon daemon, Tags tags,
                        ToDoubleFunction<FailoverDaemon> f) {
        return Gauge.builder(name, daemon, f).description(description).tags(tags).strongReference(true).register(registry);
    }

    /** Counts {@code event} (once, however many ways it arrives). Never throws. */
    @Override
    public void onEvent(EventRecord event) {
        synchronized (recent) {
            for (EventRecord r : recent) {
                if (r == event) {
                    return;
                }
            }
            recent.addLast(event);
            if (recent.size() > RECENT) {
                recent.removeFirst();
            }
        }
        Counter.builder("repmgr.events").description("events recorded, by type").tag("event", event.event())
                .tag("successful", String.valueOf(event.successful())).register(registry).increment();
        if (!event.successful()) {
            return;
        }
        if (event.event().equals(DaemonEvents.REPMGRD_FAILOVER_PROMOTE)) {
            failovers.increment();
        } else if (event.event().equals(Events.STANDBY_SWITCHOVER)) {
            switchovers.increment();
        }
        if (event.event().equals("primary_fenced")) {
            fences.increment();
        }
    }

    /** Times {@code report} (its duration, tags operation and outcome success/failure/dry_run). Returns it. */
    public OperationReport record(OperationReport report) {
        String outcome = report.dryRun() ? "dry_run" : report.successful() ? "success" : "failure";
        Timer.builder("repmgr.operation").description("topology operations, by kind and outcome")
                .tag("operation", report.operation()).tag("outcome", outcome).register(registry).record(report.duration());
        return report;
    }
}
