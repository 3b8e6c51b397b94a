package io.repmgr4j.core;

import io.repmgr4j.ClusterStatus;
import io.repmgr4j.DaemonOptions;
import io.repmgr4j.FailoverDaemon;
import io.repmgr4j.ServiceStatus;
import io.repmgr4j.core.daemon.Daemons;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.EventQuery;
import io.repmgr4j.EventRecord;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.NodeType;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.spi.MetadataStore;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicBoolean;

/** The library's {@link ReplicationCluster}: builders that hand their options to the operations. Thread-safe. */
final class DefaultReplicationCluster implements ReplicationCluster {
    private final ClusterContext ctx;
    private final Registration registration;
    private final ClusterProbe probe;
    private final StandbyCloning cloning;
    private final TopologyBuilders topology;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Daemons daemons;

    DefaultReplicationCluster(ClusterContext ctx) {
        this.ctx = ctx;
        this.registration = new Registration(ctx);
        this.probe = new ClusterProbe(ctx);
        this.cloning = new StandbyCloning(ctx, registration);
        this.daemons = new Daemons(new ContextAccess(ctx, probe));
        this.topology = new TopologyBuilders(ctx, this::open);
    }

    private void open() {
        if (closed.get()) {
            throw new ReplicationException(ErrorCode.INTERNAL, "this cluster handle is closed", null,
                    "build a new one with ReplicationClusters");
        }
    }

    @Override
    public PrimaryRegistration registerPrimary(NodeConfig node) {
        Objects.requireNonNull(node, "node");
        return new PrimaryRegistration() {
            private boolean force;

            @Override
            public PrimaryRegistration force(boolean force) {
                this.force = force;
                return this;
            }

            private boolean extensionFree;

            @Override
            public PrimaryRegistration extensionFree(boolean extensionFree) {
                this.extensionFree = extensionFree;
                return this;
            }

            @Override
            public NodeRecord execute() {
                open();
                return registration.registerPrimary(node, force, extensionFree);
            }
        };
    }

    @Override
    public RepmgrExtensionInstall installRepmgrExtension() {
        ExtensionInstallOperation op = new ExtensionInstallOperation(ctx);
        return new RepmgrExtensionInstall() {
            @Override
            public io.repmgr4j.plan.OperationReport plan() {
                open();
                return op.run(true);
            }

            @Override
            public io.repmgr4j.plan.OperationReport execute() {
                open();
                return op.run(false);
            }
        };
    }

    @Override
    public PrimaryUnregistration unregisterPrimary(int nodeId) {
        return new PrimaryUnregistration() {
            private boolean force;

            @Override
            public PrimaryUnregistration force(boolean force) {
                this.force = force;
                return this;
            }

            @Override
            public NodeRecord execute() {
                open();
                return registration.unregister(nodeId, NodeType.PRIMARY, force);
            }
        };
    }

    @Override
    public StandbyRegistration registerStandby(NodeConfig node) {
        Objects.requireNonNull(node, "node");
        return new StandbyRegistration() {
            private OptionalInt upstream = OptionalInt.empty();
            private boolean force;
            private Optional<Duration> wait = Optional.empty();

            @Override
            public StandbyRegistration upstreamNodeId(int upstreamNodeId) {
                this.upstream = OptionalInt.of(upstreamNodeId);
                return this;
            }

            @Override
            public StandbyRegistration force(boolean force) {
                this.force = force;
                return this;
            }

            @Override
            public StandbyRegistration waitUntilAttached(Duration timeout) {
                if (timeout.isNegative() || timeout.isZero()) {
                    throw new IllegalArgumentException("the attach timeout must be positive");
                }
                this.wait = Optional.of(timeout);
                return this;
            }

            @Override
            public NodeRecord execute() {
                open();
                return registration.registerStandby(node, upstream, force, wait, true);
            }
        };
    }

    @Override
    public StandbyUnregistration unregisterStandby(int nodeId) {
        return () -> {
            open();
            return registration.unregister(nodeId, NodeType.STANDBY, false);
        };
    }

    @Override
    public WitnessRegistration registerWitness(NodeConfig node) {
        Objects.requireNonNull(node, "node");
        return new WitnessRegistration() {
            private boolean force;

            @Override
            public WitnessRegistration force(boolean force) {
                this.force = force;
                return this;
            }

            @Override
            public NodeRecord execute() {
                open();
                return new WitnessRegistrar(ctx).register(node, force);
            }
        };
    }

    @Override
    public WitnessUnregistration unregisterWitness(int nodeId) {
        return () -> {
            open();
            return new WitnessRegistrar(ctx).unregister(nodeId);
        };
    }

    @Override
    public ClusterShow show() {
        return new ClusterShow() {
            private Duration timeout = ctx.showTimeout();

            @Override
            public ClusterShow timeout(Duration timeout) {
                if (timeout.isNegative() || timeout.isZero()) {
                    throw new IllegalArgumentException("the probe timeout must be positive");
                }
                this.timeout = timeout;
                return this;
            }

            @Override
            public ClusterStatus execute() {
                open();
                return probe.show(timeout);
            }
        };
    }

    @Override
    public EventList events() {
        return new EventList() {
            private final io.repmgr4j.ImmutableEventQuery.Builder query = EventQuery.builder();

            @Override
            public EventList nodeId(int nodeId) {
                query.nodeId(nodeId);
                return this;
            }

            @Override
            public EventList event(String eventName) {
                query.event(eventName);
                return this;
            }

            @Override
            public EventList limit(int limit) {
                query.limit(limit);
                return this;
            }

            @Override
            public List<EventRecord> list() {
                open();
                return ctx.readableStore().events(query.build());
            }
        };
    }

    @Override
    public MetadataStore metadata() {
        open();
        return ctx.primaryStore();
    }

    @Override
    public StandbyPromotion promote(int nodeId) {
        return topology.promote(nodeId);
    }

    @Override
    public StandbyPromotion promote(NodeConfig node) {
        return topology.promote(node);
    }

    @Override
    public StandbyFollow follow(NodeConfig standby) {
        return topology.follow(standby);
    }

    @Override
    public StandbyFollow follow(int nodeId) {
        return topology.follow(nodeId);
    }

    @Override
    public StandbySwitchover switchover(int targetNodeId) {
        return topology.switchover(targetNodeId);
    }

    @Override
    public StandbySwitchover switchover(NodeConfig target) {
        return topology.switchover(target);
    }

    @Override
    public NodeRejoin rejoin(NodeConfig node) {
        return topology.rejoin(node);
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            daemons.close();
            ctx.close();
        }
    }

    @Override
    public StandbyClone cloneStandby(NodeConfig node) {
        return new StandbyCloneBuilder(cloning, node, this::open);
    }

    @Override
    public FailoverDaemon daemon(NodeConfig node) {
        return daemon(node, DaemonOptions.defaults());
    }

    @Override
    public FailoverDaemon daemon(NodeConfig node, DaemonOptions options) {
        open();
        return daemons.create(node, options);
    }

    @Override
    public DaemonPause pauseDaemons() {
        return new DaemonPauseBuilder(true);
    }

    @Override
    public DaemonPause unpauseDaemons() {
        return new DaemonPauseBuilder(false);
    }

    private final class DaemonPauseBuilder implements DaemonPause {
        private final boolean pause;
        private Optional<Duration> wait = Optional.empty();

        DaemonPauseBuilder(boolean pause) {
            this.pause = pause;
        }

        @Override
        public DaemonPause waitUntilApplied(Duration timeout) {
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("the wait must be positive");
            }
            this.wait = Optional.of(timeout);
            return this;
        }

        @Override
        public List<NodeRecord> execute() {
            open();
            return daemons.setPaused(pause, wait);
        }
    }

    @Override
    public SynchronousReplication synchronousReplication() {
        open();
        return new SynchronousReplicationBuilder(ctx);
    }

    @Override
    public ServiceStatusQuery serviceStatus() {
        return new ServiceStatusQuery() {
            private Duration timeout = ctx.showTimeout();

            @Override
            public ServiceStatusQuery timeout(Duration timeout) {
                if (timeout.isNegative() || timeout.isZero()) {
                    throw new IllegalArgumentException("the probe timeout must be positive");
                }
                this.timeout = timeout;
                return this;
            }

            @Override
            public ServiceStatus execute() {
                open();
                return daemons.serviceStatus(timeout);
            }
        };
    }
}
