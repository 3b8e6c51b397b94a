package io.repmgr4j.core.daemon;

import io.repmgr4j.DaemonOptions;
import io.repmgr4j.DaemonState;
import io.repmgr4j.DaemonStatus;
import io.repmgr4j.FailoverDaemon;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.spi.EventListener;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link FailoverDaemon} of one node: owns the monitoring thread
 * ({@code repmgr4j-daemon-<id>}), the upstream watch ({@code ...-watch}), the
 * notification thread ({@code ...-notify}), the probe threads ({@code ...-probe-N}) and
 * every connection the daemon opens; {@link #close()} ends all of them. Thread-safe.
 */
final class DefaultFailoverDaemon implements FailoverDaemon {
    private static final Logger LOG = LoggerFactory.getLogger(DefaultFailoverDaemon.class);

    private final NodeConfig config;
    private final DaemonOptions options;
    private final ClusterAccess access;
    private final Consumer<DefaultFailoverDaemon> onClose;
    private final EventSink sink;
    private final Object lock = new Object();
    private final String threadName;
    private volatile DaemonState state = DaemonState.CREATED;
    private NodeMonitor monitor;
    private Thread loop;
    private ExecutorService probePool;
    private HealthPoller healthPoller;
    private RoleChanges roleChanges;
    private io.repmgr4j.core.http.HealthServer httpServer;

    DefaultFailoverDaemon(NodeConfig config, DaemonOptions options, ClusterAccess access,
                          Consumer<DefaultFailoverDaemon> onClose) {
        this.config = Objects.requireNonNull(config, "config");
        this.options = Objects.requireNonNull(options, "options");
        this.access = access;
        this.onClose = onClose;
        this.threadName = "repmgr4j-daemon-" + config.nodeId();
        this.sink = new EventSink(config, access.runner(config.nodeId()), access, options.notificationTimeout(),
                threadName + "-notify");
    }

    @Override
    public int nodeId() {
        return config.nodeId();
    }

    @Override
    public FailoverDaemon start() {
        synchronized (lock) {
            if (state != DaemonState.CREATED) {
                throw new IllegalStateException("the daemon of node " + config.nodeId() + " is " + state.name().toLowerCase()
                        + "; a daemon starts once");
            }
            DaemonSettings settings = DaemonSettings.of(config, options);
            FenceSettings fence = FenceSettings.of(settings, options);
            access.bind(config);
            AtomicInteger n = new AtomicInteger();
            ExecutorService pool = Executors.newCachedThreadPool(r -> {
                Thread t = new Thread(r, threadName + "-probe-" + n.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
            java.util.concurrent.atomic.AtomicReference<NodeMonitor> mon = new java.util.concurrent.atomic.AtomicReference<>();
            java.util.List<io.repmgr4j.spi.RoleChangeListener> roleListeners = new java.util.ArrayList<>();
            io.repmgr4j.VirtualIp.of(config).ifPresent(v -> roleListeners.add(new VipAction(v, access.runner(config.nodeId()),
                    config.nodeName(), () -> mon.get() != null && mon.get().primaryConfirmed())));
            roleListeners.addAll(options.roleChangeListeners());
            roleChanges = new RoleChanges(config, roleListeners);
            boolean hooks = roleChanges.active() || config.promoteCommand().isPresent() || config.followCommand().isPresent();
            NodeMonitor m = new NodeMonitor(settings, hooks ? RoleCommands.wrap(access, roleChanges) : access, sink,
                    options.fencingHook(), pool);
            m.useRoleChanges(roleChanges);
            m.useFencing(fence);
            mon.set(m);
            healthPoller = new HealthPoller(config, access, settings.checkTimeout());
            try {
                useConsensus(m);
                startHttp(settings, m);
                m.startup();
            } catch (RuntimeException e) {
                stopHttp();
                roleChanges.close(0);
                m.stop();
                m.closeConnections();
                pool.shutdownNow();
                throw e;
            }
            monitor = m;
            probePool = pool;
            loop = new Thread(m, threadName);
            loop.setDaemon(true);
            state = DaemonState.RUNNING;
            loop.start();
            return this;
        }
    }

    @Override
    public DaemonState state() {
        return state;
    }

    @Override
    public java.util.Optional<io.repmgr4j.NodeHealth> health() {
        HealthPoller p = healthPoller;
        return p == null || state != DaemonState.RUNNING ? java.util.Optional.empty() : p.current();
    }

    /** consensus = etcd (DaemonOptions.consensus, else the node's): the monitor holds the leader key besides the peer rules. */
    private void useConsensus(NodeMonitor m) {
        java.util.Optional<io.repmgr4j.ConsensusConfig> cc = options.consensus().or(config::consensus);
        if (cc.isEmpty()) {
            return;
        }
        io.repmgr4j.spi.ConsensusStore store = io.repmgr4j.spi.ConsensusStore.open(cc.get());
        try {
            m.useConsensus(new LeaderLease(store, config.nodeName(), config.conninfo(), cc.get().timeout(), threadName + "-lease"));
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
    }

    /** Starts the HTTP health endpoints when configured (DaemonOptions.http, else the node's http_* settings). */
    private void startHttp(DaemonSettings settings, NodeMonitor m) {
        java.util.Optional<io.repmgr4j.HttpEndpoint> ep = options.http().or(config::http);
        if (ep.isEmpty()) {
            return;
        }
        healthPoller.current(); // starts polling now, so the first health check has an answer
        Duration stale = settings.checkTimeout().plusSeconds(1);
        Duration liveFor = max(Duration.ofSeconds(30), settings.monitorInterval().multipliedBy(10));
        httpServer = io.repmgr4j.core.http.HealthServer.start(ep.get(), new io.repmgr4j.core.http.HealthSource() {
            @Override
            public NodeConfig node() {
                return config;
            }

            @Override
            public io.repmgr4j.DaemonStatus status() {
                return DefaultFailoverDaemon.this.status();
            }

            @Override
            public java.util.Optional<io.repmgr4j.NodeHealth> health() {
                return DefaultFailoverDaemon.this.health();
            }

            @Override
            public boolean primaryConfirmed() {
                return m.primaryConfirmed();
            }

            @Override
            public Duration staleAfter() {
                return stale;
            }

            @Override
            public boolean alive() {
                if (state != DaemonState.RUNNING) {
                    return false;
                }
                Thread t = loop;
                return t != null && t.isAlive() && System.nanoTime() - m.lastLoopNanos() < liveFor.toNanos();
            }

            @Override
            public io.repmgr4j.ClusterStatus cluster(Duration timeout) {
                return access.show(timeout);
            }

            @Override
            public java.util.Optional<io.repmgr4j.spi.MetricsText> metrics() {
                return options.metrics();
            }
        });
    }

    private void stopHttp() {
        if (httpServer != null) {
            httpServer.close();
            httpServer = null;
        }
        if (healthPoller != null) {
            healthPoller.close();
        }
    }

    private static Duration max(Duration a, Duration b) {
        return a.compareTo(b) >= 0 ? a : b;
    }

    @Override
    public DaemonStatus status() {
        NodeMonitor m = monitor;
        DaemonState st = state;
        if (m == null) {
            return DaemonStatus.builder().nodeId(config.nodeId()).nodeName(config.nodeName()).state(st)
                    .mode(io.repmgr4j.DaemonMode.STOPPED).paused(false).votingTerm(0).lastEvent(sink.last()).build();
        }
        return m.status(st);
    }

    @Override
    public FailoverDaemon addListener(EventListener listener) {
        sink.addListener(Objects.requireNonNull(listener, "listener"));
        return this;
    }

    @Override
    public boolean removeListener(EventListener listener) {
        return sink.removeListener(listener);
    }

    @Override
    public void close() {
        synchronized (lock) {
            if (state == DaemonState.CLOSED) {
                return;
            }
            boolean wasRunning = state == DaemonState.RUNNING;
            state = DaemonState.CLOSED;
            try {
                if (wasRunning) {
                    stopRunning();
                }
            } catch (RuntimeException e) {
                LOG.warn("[{}] error while stopping the daemon: {}", config.nodeName(), e.toString());
            } finally {
                sink.close(Duration.ofSeconds(5));
                onClose.accept(this);
            }
        }
    }

    private void stopRunning() {
        stopHttp();
        monitor.stop();
        join(loop, 5_000);
        if (loop.isAlive()) {
            LOG.warn("[{}] the monitoring thread is blocked; breaking its connections", config.nodeName());
            monitor.abortConnections();
            loop.interrupt(); // ends a wait inside an operation (a follow waiting for streaming, say)
            join(loop, 5_000);
        }
        try {
            monitor.shutdownEvent();
        } catch (RuntimeException e) {
            LOG.debug("[{}] could not record the shutdown: {}", config.nodeName(), e.toString());
        }
        monitor.closeConnections();
        roleChanges.close();
        probePool.shutdownNow();
        try {
            probePool.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void join(Thread t, long millis) {
        try {
            t.join(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return "FailoverDaemon[node " + config.nodeId() + " \"" + config.nodeName() + "\", " + state + "]";
    }
}
