package io.repmgr4j.core.daemon;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.ConnectionCheckType;
import io.repmgr4j.DaemonEvents;
import io.repmgr4j.DaemonMode;
import io.repmgr4j.DaemonState;
import io.repmgr4j.DaemonStatus;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.Lsn;
import io.repmgr4j.MonitoringRecord;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.NodeType;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.spi.FencingHook;
import io.repmgr4j.spi.MetadataStore;
import io.repmgr4j.sql.DaemonSessions;
import io.repmgr4j.sql.DaemonStateInstaller;
import io.repmgr4j.sql.DaemonStateTable;
import io.repmgr4j.sql.JdbcMetadataStore;
import io.repmgr4j.sql.PgPing;
import io.repmgr4j.sql.RecoveryProgress;
import io.repmgr4j.sql.ReplicationClient;
import io.repmgr4j.sql.ServerProbe;
import io.repmgr4j.sql.WalReceiverStatus;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The monitoring loop of one daemon: every monitor interval it checks the local server,
 * reads the node records, the pause flag and the voting term from the local copy of the
 * metadata, then acts by role:
 * <ul>
 *   <li>standby: checks the upstream (ping, connection or query); on success records
 *       monitoring history if asked; on failure runs the reconnect policy, then
 *       fails over ({@link Election}, claim, promote or follow), or follows the primary
 *       when the lost upstream was itself a standby (cascade);</li>
 *   <li>primary: watches the child nodes ({@link ChildWatch}) and looks for a second
 *       writable primary.</li>
 * </ul>
 * and publishes its state ({@link Beacon}) for its siblings. Runs on the daemon's own
 * thread; {@link #status} may be called from any thread.
 */
final class NodeMonitor implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(NodeMonitor.class);

    /** Raised inside the loop when the daemon is closing, to unwind from any wait. */
    private static final class Stop extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Stop() {
            super(null, null, false, false);
        }
    }

    private final DaemonSettings s;
    private final NodeConfig self;
    private final ClusterAccess access;
    private final EventSink sink;
    private final Optional<FencingHook> fencing;
    private final ExecutorService probePool;
    private final long pid = ProcessHandle.current().pid();
    private final String appName;

    private final KeptConnection local;
    private final KeptConnection beaconSession;
    private final KeptConnection upstreamKept;
    private final KeptConnection primaryKept;
    private final UpstreamWatch watch;
    private final MetadataStore localStore;

    private final Semaphore wake = new Semaphore(0);
    private final CountDownLatch stopLatch = new CountDownLatch(1);
    private volatile boolean stopping;

    // state: written by the monitoring thread, read by status()
    private volatile DaemonMode mode = DaemonMode.MONITORING;
    private volatile NodeType localRole;
    private volatile int upstreamId;
    private volatile Instant upstreamLastSeen;
    private volatile boolean paused;
    private volatile int term;
    /** When the loop last began a cycle (System.nanoTime), for the liveness check. */
    private volatile long lastLoopNanos = System.nanoTime();
    /** A primary cycle found no other writable primary since the server last came up as primary (health endpoints). */
    private volatile boolean primaryConfirmed;
    private volatile RoleChanges roleChanges;

    private List<NodeRecord> nodes = List.of();
    private Instant localDownSince;
    private NodeType roleBeforeLocalDown;
    private Instant upstreamDownSince;
    private String degradedReason;
    private boolean degradedByPause;
    private ConnInfo knownPrimary;
    private ConnInfo primaryKeptTarget;
    private final ChildWatch children = new ChildWatch();
    private final Set<Integer> splitBrainReported = new HashSet<>();
    /** Connections to the siblings, opened while the upstream is being reconnected, so the election reads them at once. */
    private final Map<Integer, KeptConnection> siblingLinks = new java.util.concurrent.ConcurrentHashMap<>();
    private boolean selfStaleReported;
    /** The upstream this node was just made to follow, trusted until the local copy of its record says so too. */
    private int followedTo;
    private Instant followedUntil = Instant.MIN;
    private static final Duration PRIMARY_SEARCH_PAUSE = Duration.ofSeconds(5);
    private Instant lastPrimarySearch = Instant.MIN;
    /** Set while a failover waits for another topology operation (a switchover, say) to end. */
    private boolean waitingForOperation;
    /** Synchronous replication: the primary's side (synchronous_standby_names) and the election's (the record). */
    private final io.repmgr4j.core.sync.SyncKeeper syncKeeper;
    private final SyncElection syncElection = new SyncElection();

    /** Isolation watch, fencing and the promotion hold (split-brain safety); set before {@link #startup()}. */
    private FenceGuard guard;
    /** The witness's metadata copy, made when this node is registered as a witness. */
    private WitnessSync witness;
    /** consensus = etcd: the leader key under a lease (null with the built-in peer voting); set before {@link #startup()}. */
    private LeaderLease consensus;

    NodeMonitor(DaemonSettings s, ClusterAccess access, EventSink sink, Optional<FencingHook> fencing,
                ExecutorService probePool) {
        this.s = s;
        this.self = s.node();
        this.access = access;
        this.sink = sink;
        this.fencing = fencing;
        this.probePool = probePool;
        this.appName = "repmgr4j-daemon-" + self.nodeId();
        Duration t = s.checkTimeout();
        this.local = new KeptConnection(() -> access.connect(named(self.conninfo()), t, t.plusSeconds(5)));
        this.beaconSession = new KeptConnection(() -> access.connect(
                self.conninfo().with("application_name", Beacon.PREFIX + "n=" + self.nodeId() + " m=S"), t, t.plusSeconds(5)));
        this.upstreamKept = new KeptConnection(() -> access.connect(named(upstreamConninfo()), t, t));
        this.primaryKept = new KeptConnection(() -> access.connect(named(primaryKeptTarget), t, t.plusSeconds(5)));
        this.localStore = JdbcMetadataStore.of(local.asSource());
        this.watch = s.watchUpstream()
                ? new UpstreamWatch(access, t, s.monitorInterval(), this::wakeUp, "repmgr4j-daemon-" + self.nodeId() + "-watch")
                : null;
        this.syncKeeper = new io.repmgr4j.core.sync.SyncKeeper(self, Duration.ofSeconds(1));
    }

    private ConnInfo named(ConnInfo c) {
        return io.repmgr4j.core.sync.SyncConnections.localCommit(c.with("application_name", appName));
    }

    /** Uses a consensus store's leader key ({@link LeaderLease}) besides the peer rules; call before {@link #startup()}. */
    void useConsensus(LeaderLease lease) {
        this.consensus = lease;
    }

    /** Sets up the split-brain safety ({@link FenceGuard}) with these settings; call before {@link #startup()}. */
    void useFencing(FenceSettings fs) {
        this.guard = new FenceGuard(s, fs, access, sink, fencing, probePool, () -> nodes, () -> term);
    }

    // ------------------------------------------------------------------ lifecycle

    /**
     * Checks the node and announces the start; throws (and leaves nothing open that
     * {@link #closeConnections()} would not close) when the daemon cannot run.
     */
    void startup() {
        RecoveryProgress prog;
        try {
            prog = RecoveryProgress.read(local.get());
        } catch (ReplicationException e) {
            if (PgPing.ping(self.conninfo(), s.checkTimeout()) == PgPing.Result.OK) {
                // the server is up and refuses this daemon (authentication, database): a setting to fix
                throw new ReplicationException(ErrorCode.DB_CONN, "unable to connect to local node \"" + self.nodeName()
                        + "\" (ID: " + self.nodeId() + ")", e.getMessage() + e.detail().map(d -> ": " + d).orElse(""),
                        "check conninfo in the node's configuration", e);
            }
            // its server is down (or starting): the daemon runs and waits for it, as repmgrd's loop does
            LOG.warn("[{}] unable to connect to local node \"{}\" (ID: {}) at start: {}; the daemon waits for it and"
                    + " finishes its start once it answers", self.nodeName(), self.nodeName(), self.nodeId(), e.getMessage());
            startPending = true;
            localDownSince = Instant.now();
            mode = DaemonMode.LOCAL_DOWN;
            sink.record(DaemonEvents.REPMGRD_LOCAL_DISCONNECT, true, "unable to connect to local node at daemon start",
                    EventSink.Context.NONE);
            return;
        }
        finishStartup(prog);
    }

    /**
     * Set when the daemon started while its local server did not answer: each cycle tries
     * the start's checks again ({@link #finishStartup}) until they pass; nothing else runs.
     */
    private boolean startPending;
    private String startPendingError;

    /** A start deferred by a local server that was down: true once it has finished. */
    private boolean resumeStartup() {
        RecoveryProgress prog = readLocal();
        if (prog == null) {
            return false;
        }
        try {
            finishStartup(prog);
        } catch (ReplicationException e) {
            String m = e.getMessage() + e.hint().map(h -> " (" + h + ")").orElse("");
            if (!m.equals(startPendingError)) {
                LOG.error("[{}] the local server answers, but the daemon cannot start: {}", self.nodeName(), m);
            }
            startPendingError = m;
            return false;
        }
        startPending = false;
        long secs = Duration.between(localDownSince, Instant.now()).toSeconds();
        localDownSince = null;
        sink.record(DaemonEvents.REPMGRD_LOCAL_RECONNECT, true, "reconnected to local node after " + secs + " seconds",
                EventSink.Context.NONE);
        flushEvents();
        return true;
    }

    /** The start's checks and announcements, once the local server answers. */
    private void finishStartup(RecoveryProgress prog) {
        try {
            nodes = localStore.nodes();
            access.remember(nodes);
        } catch (ReplicationException e) {
            throw new ReplicationException(ErrorCode.BAD_CONFIG, "no repmgr metadata on local node \"" + self.nodeName() + "\"",
                    e.getMessage(), "register the primary (and this node) before starting its daemon", e);
        }
        NodeRecord me = node(self.nodeId()).orElseThrow(() -> new ReplicationException(ErrorCode.BAD_CONFIG,
                "no metadata record found for node " + self.nodeId() + " (\"" + self.nodeName() + "\")",
                "a daemon runs for a registered node only",
                "register the node first: registerPrimary(...) or registerStandby(...)"));
        if (!me.nodeName().equals(self.nodeName())) {
            throw new ReplicationException(ErrorCode.BAD_CONFIG, "node " + self.nodeId() + " is registered as \""
                    + me.nodeName() + "\", but the configuration names it \"" + self.nodeName() + "\"",
                    "the daemon's configuration must be the node's", "correct node_name, or re-register the node");
        }
        Optional<Beacon> other = Beacon.find(DaemonSessions.list(local.get(), Beacon.PREFIX), self.nodeId());
        if (other.isPresent()) {
            throw new ReplicationException(ErrorCode.BAD_CONFIG, "a daemon is already running for node \"" + self.nodeName()
                    + "\" (ID: " + self.nodeId() + ")", "its session is on the node's server (process id "
                    + (other.get().pid() < 0 ? "unknown" : other.get().pid()) + ")",
                    "stop the other daemon first; one daemon runs per node");
        }
        readPauseAndTerm();
        localRole = prog.inRecovery() ? NodeType.STANDBY : NodeType.PRIMARY;
        if (localRole == NodeType.PRIMARY) {
            syncKeeper.validateAtStart(local.get(), nodes);
        }
        installDaemonState(prog);
        guard.onStart(localRole);
        LOG.info("[{}] split-brain safety: {}", self.nodeName(), guard.figures());
        if (consensus != null) { // consensus hook: the leader key's renewal thread
            guard.useConsensusLift(consensus::mayLift);
            LOG.info("[{}] consensus: {}", self.nodeName(), consensus.figures());
            consensus.start(guard);
        }
        String details;
        if (localRole == NodeType.PRIMARY) {
            children.reset(false);
            knownPrimary = self.conninfo();
            details = "monitoring cluster primary " + me.describe();
        } else {
            Optional<NodeRecord> up = upstreamOf(me);
            up.ifPresent(u -> upstreamId = u.nodeId());
            knownPrimary = nodes.stream().filter(n -> n.type() == NodeType.PRIMARY && n.active()).findFirst()
                    .map(NodeRecord::conninfo).orElse(null);
            details = up.map(u -> "monitoring connection to upstream " + u.describe())
                    .orElse("monitoring node " + me.describe() + " (no upstream recorded)");
        }
        publish();
        for (String w : s.warnings()) {
            LOG.warn("[{}] {}", self.nodeName(), w);
        }
        sink.record(DaemonEvents.REPMGRD_START, true, details, EventSink.Context.NONE);
        flushEvents();
        if (watch != null) {
            watch.start();
        }
        mode = DaemonMode.MONITORING;
    }

    /** Asks the loop to end; wakes every wait. */
    void stop() {
        stopping = true;
        stopLatch.countDown();
        wake.release(1000);
        if (watch != null) {
            watch.close();
        }
    }

    /** Breaks every kept connection at once (for a loop blocked in a call that does not return). */
    void abortConnections() {
        if (guard != null) {
            guard.abort();
        }
        if (witness != null) {
            witness.abort();
        }
        siblingLinks.values().forEach(KeptConnection::abort);
        local.abort();
        beaconSession.abort();
        upstreamKept.abort();
        primaryKept.abort();
    }

    /** Records {@code repmgrd_shutdown} and writes what is queued, if a primary can be reached. */
    void shutdownEvent() {
        sink.record(DaemonEvents.REPMGRD_SHUTDOWN, true, "daemon of " + describeSelf() + " stopped", EventSink.Context.NONE);
        lastPrimarySearch = Instant.MIN; // last chance: look for a writable primary now, whenever the last search was
        finalFlush = true;
        flushEvents();
    }

    /** Set by {@link #shutdownEvent()}: the flush's search for a primary runs although the daemon is stopping. */
    private boolean finalFlush;

    void closeConnections() {
        if (consensus != null) {
            consensus.close();
        }
        if (guard != null) {
            guard.close();
        }
        if (witness != null) {
            witness.close();
        }
        closeSiblingLinks();
        local.close();
        beaconSession.close();
        upstreamKept.close();
        primaryKept.close();
    }

    DaemonStatus status(DaemonState state) {
        Instant seen = upstreamLastSeen;
        return DaemonStatus.builder()
                .nodeId(self.nodeId())
                .nodeName(self.nodeName())
                .state(state)
                .mode(state == DaemonState.RUNNING ? mode : DaemonMode.STOPPED)
                .localRole(Optional.ofNullable(localRole))
                .upstreamNodeId(upstreamId > 0 ? OptionalInt.of(upstreamId) : OptionalInt.empty())
                .upstreamLastSeen(upstreamId > 0 ? Optional.ofNullable(seen) : Optional.empty())
                .paused(paused)
                .votingTerm(term)
                .lastEvent(sink.last())
                .build();
    }

    private void wakeUp() {
        wake.release();
    }

    long lastLoopNanos() {
        return lastLoopNanos;
    }

    /** Gives the role change listeners (set before {@link #startup()}). */
    void useRoleChanges(RoleChanges r) {
        this.roleChanges = r;
    }

    private void confirmPrimary(boolean now, String reason) {
        primaryConfirmed = now;
        RoleChanges r = roleChanges;
        if (r != null) {
            r.primary(now, reason);
        }
    }

    boolean primaryConfirmed() {
        FenceGuard g = guard;
        return primaryConfirmed && (g == null || !g.fenced());
    }

    // ------------------------------------------------------------------ the loop

    @Override
    public void run() {
        while (!stopping) {
            long started = System.nanoTime();
            lastLoopNanos = started;
            try {
                cycle();
            } catch (Stop e) {
                break;
            } catch (RuntimeException e) {
                if (stopping) {
                    break;
                }
                LOG.warn("[{}] monitoring cycle failed: {}", self.nodeName(), e.toString());
                LOG.debug("[{}] monitoring cycle failure", self.nodeName(), e);
            }
            long left = s.monitorInterval().toNanos() - (System.nanoTime() - started);
            try {
                if (left > 0 && wake.tryAcquire(left, TimeUnit.NANOSECONDS)) {
                    wake.drainPermits();
                }
            } catch (InterruptedException e) {
                break;
            }
        }
    }

    private void cycle() {
        if (startPending && !resumeStartup()) {
            return;
        }
        RecoveryProgress prog = checkLocal();
        if (prog == null) {
            return;
        }
        refreshMetadata();
        if (WitnessSync.isWitness(nodes, self.nodeId())) {
            witnessCycle();
            publish();
            return;
        }
        if (consensus != null) { // consensus hook: a writable, unfenced primary holds the leader key
            consensus.observe(!prog.inRecovery() && !guard.fenced());
        }
        if (guard.onCycle(prog)) {
            mode = DaemonMode.FENCED;
            confirmPrimary(false, "fenced");
            publish();
            flushEvents();
            return;
        }
        if (prog.inRecovery()) {
            standbyCycle(prog);
        } else {
            primaryCycle();
        }
        publish();
    }

    /** A witness copies the metadata from the primary and publishes whether it reached it. */
    private void witnessCycle() {
        if (witness == null) {
            witness = new WitnessSync(self, access, s.checkTimeout());
        }
        WitnessSync.Outcome o = witness.cycle(nodes, localStore, () -> findRunningPrimary(0));
        upstreamId = o.primaryId();
        if (o.reached()) {
            upstreamLastSeen = Instant.now();
            knownPrimary = node(o.primaryId()).map(NodeRecord::conninfo).orElse(knownPrimary);
        }
        mode = DaemonMode.MONITORING;
        flushEvents();
    }

    /** Sleeps, unless the daemon is closing. */
    private void pauseFor(Duration d) {
        try {
            if (stopLatch.await(d.toNanos(), TimeUnit.NANOSECONDS)) {
                throw new Stop();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Stop();
        }
    }

    private void checkStop() {
        if (stopping) {
            throw new Stop();
        }
    }

    // ------------------------------------------------------------------ local node

    private RecoveryProgress checkLocal() {
        RecoveryProgress prog = readLocal();
        if (prog == null) {
            confirmPrimary(false, "its server does not answer");
            if (localDownSince == null) {
                localDownSince = Instant.now();
                roleBeforeLocalDown = localRole;
                mode = DaemonMode.LOCAL_DOWN;
                beaconSession.reset();
                primaryKept.reset();
                sink.record(DaemonEvents.REPMGRD_LOCAL_DISCONNECT, true, "unable to connect to local node", EventSink.Context.NONE);
            }
            guard.onLocalDown(roleBeforeLocalDown == NodeType.PRIMARY, () -> findRunningPrimary(0));
            if (consensus != null) { // consensus hook: a dead primary resigns the key at once
                consensus.onLocalDown(roleBeforeLocalDown == NodeType.PRIMARY);
            }
            flushEvents();
            return null;
        }
        NodeType role = prog.inRecovery() ? NodeType.STANDBY : NodeType.PRIMARY;
        if (role != NodeType.PRIMARY) {
            confirmPrimary(false, "its server is in recovery");
        }
        if (localDownSince != null) {
            long secs = Duration.between(localDownSince, Instant.now()).toSeconds();
            localDownSince = null;
            mode = DaemonMode.MONITORING;
            refreshMetadata();
            if (roleBeforeLocalDown == NodeType.PRIMARY && role == NodeType.STANDBY) {
                Optional<NodeRecord> up = node(self.nodeId()).flatMap(this::upstreamOf);
                sink.record(DaemonEvents.REPMGRD_STANDBY_RECONNECT, true, "node restored as standby after " + secs
                        + " seconds, monitoring connection to upstream node " + up.map(u -> String.valueOf(u.nodeId())).orElse("?"),
                        EventSink.Context.NONE);
            } else {
                sink.record(DaemonEvents.REPMGRD_LOCAL_RECONNECT, true, "reconnected to local node after " + secs + " seconds",
                        EventSink.Context.NONE);
            }
        }
        if (role != localRole) {
            if (role == NodeType.PRIMARY) {
                children.reset(false);
                upstreamId = 0;
                upstreamLastSeen = null;
                upstreamDownSince = null;
                if (watch != null) {
                    watch.watch(null);
                }
            }
            localRole = role;
        }
        return prog;
    }

    private RecoveryProgress readLocal() {
        for (int attempt = 0; attempt < 2; attempt++) {
            try {
                return RecoveryProgress.read(local.get());
            } catch (ReplicationException e) {
                local.reset();
                LOG.debug("[{}] local node check failed: {}", self.nodeName(), e.getMessage());
            }
        }
        return null;
    }

    private void refreshMetadata() {
        try {
            nodes = localStore.nodes();
            access.remember(nodes);
        } catch (ReplicationException e) {
            LOG.debug("[{}] could not read node records: {}", self.nodeName(), e.getMessage());
        }
        readPauseAndTerm();
    }

    private void readPauseAndTerm() {
        try {
            boolean flag = DaemonStateTable.pausedFlags(local.get()).getOrDefault(self.nodeId(), false);
            if (localRole == NodeType.STANDBY) {
                flag = actOnPauseRequest(flag);
            }
            paused = flag || io.repmgr4j.sql.RepmgrdShared.pausedHere(local.get()); // a real `repmgr service pause` (extension)
        } catch (ReplicationException e) {
            LOG.debug("[{}] could not read the pause flag: {}", self.nodeName(), e.getMessage());
        }
        try {
            term = localStore.votingTerm();
        } catch (ReplicationException e) {
            LOG.debug("[{}] could not read the voting term: {}", self.nodeName(), e.getMessage());
        }
    }

    /**
     * A session on this standby asking this daemon to pause or unpause (real repmgr's
     * {@code repmgrd_pause()} on an extension-free schema, which cannot write here): sets
     * this node's flag on the primary, where repmgr4j keeps it; the call sees it arrive by
     * replication. Returns the flag to go by now.
     */
    private boolean actOnPauseRequest(boolean flag) {
        Optional<Boolean> wanted = DaemonStateTable.pauseRequest(local.get(), self.nodeId());
        if (wanted.isEmpty() || wanted.get() == flag) {
            return flag;
        }
        Optional<NodeRecord> primary = nodes.stream().filter(n -> n.type() == NodeType.PRIMARY && n.active()).findFirst();
        if (primary.isEmpty()) {
            LOG.warn("[{}] asked to {} on this standby, but no primary is recorded to keep the flag", self.nodeName(),
                    wanted.get() ? "pause" : "unpause");
            return flag;
        }
        try (Connection c = access.connect(named(primary.get().conninfo()), s.checkTimeout(), s.checkTimeout())) {
            DaemonStateTable.setPaused(c, List.of(self.nodeId()), wanted.get());
            LOG.info("[{}] {} on request of a session on this standby (repmgr service {})", self.nodeName(),
                    wanted.get() ? "paused" : "unpaused", wanted.get() ? "pause" : "unpause");
            return wanted.get();
        } catch (ReplicationException | SQLException e) {
            LOG.warn("[{}] could not {} as a session on this standby asked: the flag is kept on {}: {}", self.nodeName(),
                    wanted.get() ? "pause" : "unpause", primary.get().describe(), e.getMessage());
            return flag;
        }
    }

    /** Creates schema repmgr4j on the primary if it is missing there; a failure only costs pause support. */
    private void installDaemonState(RecoveryProgress prog) {
        try {
            if (DaemonStateTable.present(local.get())) {
                return;
            }
            if (!prog.inRecovery()) {
                DaemonStateInstaller.install(local.get());
                return;
            }
            Optional<NodeRecord> primary = nodes.stream().filter(n -> n.type() == NodeType.PRIMARY && n.active()).findFirst();
            if (primary.isPresent()) {
                try (Connection c = access.connect(named(primary.get().conninfo()), s.checkTimeout(), s.checkTimeout())) {
                    DaemonStateInstaller.install(c);
                }
            }
        } catch (ReplicationException | SQLException e) {
            LOG.warn("[{}] could not install schema repmgr4j (needed for pausing the daemons): {}", self.nodeName(),
                    e.getMessage());
        }
    }

    // ------------------------------------------------------------------ beacon

    private void publish() {
        Instant seen = upstreamLastSeen;
        long ago = upstreamId > 0 && seen != null ? Math.max(0, Duration.between(seen, Instant.now()).toMillis()) : -1;
        Beacon b = new Beacon(self.nodeId(), upstreamId, paused, s.automatic(), ago, mode, term, pid);
        try {
            DaemonSessions.publish(beaconSession.get(), b.encode());
        } catch (ReplicationException e) {
            beaconSession.reset();
            LOG.debug("[{}] could not publish the daemon state: {}", self.nodeName(), e.getMessage());
        }
    }

    private void setMode(DaemonMode m) {
        mode = m;
        publish();
    }

    // ------------------------------------------------------------------ standby

    private void standbyCycle(RecoveryProgress prog) {
        Optional<NodeRecord> me = node(self.nodeId());
        Optional<NodeRecord> up = me.flatMap(this::upstreamOf);
        if (followedTo > 0) {
            if (up.map(u -> u.nodeId() == followedTo).orElse(false) || Instant.now().isAfter(followedUntil)) {
                followedTo = 0;
            } else {
                up = node(followedTo); // the record's change has not been replicated here yet
            }
        }
        if (up.isEmpty()) {
            if (mode != DaemonMode.DEGRADED) {
                LOG.warn("[{}] this standby's upstream is not known (no record, or its upstream is not registered)",
                        self.nodeName());
            }
            mode = DaemonMode.DEGRADED;
            degradedReason = "upstream unknown";
            return;
        }
        NodeRecord upstream = up.get();
        if (upstream.nodeId() != upstreamId) {
            if (upstreamId > 0) {
                LOG.info("[{}] now monitoring upstream {}", self.nodeName(), upstream.describe());
            }
            upstreamId = upstream.nodeId();
            upstreamLastSeen = null;
            upstreamKept.reset();
        }
        if (watch != null) {
            watch.watch(named(upstream.conninfo()));
        }
        if (available(upstream)) {
            upstreamSeen(upstream, prog);
        } else {
            upstreamLost(upstream);
        }
    }

    /** The upstream of a standby record, or, when the record has none, the node its WAL receiver streams from. */
    private Optional<NodeRecord> upstreamOf(NodeRecord me) {
        if (me.upstreamNodeId().isPresent()) {
            return node(me.upstreamNodeId().getAsInt());
        }
        try {
            Optional<WalReceiverStatus> wr = ServerProbe.walReceiver(local.get());
            if (wr.isPresent() && wr.get().senderHost().isPresent() && wr.get().senderPort().isPresent()) {
                for (NodeRecord n : nodes) {
                    ConnInfo.HostPort hp = n.conninfo().hosts().get(0);
                    if (n.nodeId() != self.nodeId() && hp.port() == wr.get().senderPort().getAsInt()
                            && io.repmgr4j.core.host.Hosts.sameHost(hp.host(), wr.get().senderHost().get())) {
                        return Optional.of(n);
                    }
                }
            }
        } catch (ReplicationException e) {
            LOG.debug("[{}] could not read the WAL receiver: {}", self.nodeName(), e.getMessage());
        }
        return Optional.empty();
    }

    private ConnInfo upstreamConninfo() {
        return node(upstreamId).map(NodeRecord::conninfo).orElseThrow(() -> new ReplicationException(ErrorCode.INTERNAL,
                "no upstream to connect to"));
    }

    /** Whether a node's server is available, by {@code connection_check_type}. */
    private boolean available(NodeRecord n) {
        ConnectionCheckType type = s.checkType();
        if (type == ConnectionCheckType.QUERY && n.nodeId() == upstreamId) {
            try (Statement st = upstreamKept.get().createStatement()) {
                st.execute("SELECT 1");
                return true;
            } catch (SQLException | ReplicationException e) {
                upstreamKept.reset();
                return false;
            }
        }
        if (type == ConnectionCheckType.PING) {
            return PgPing.ping(n.conninfo(), s.checkTimeout()) == PgPing.Result.OK;
        }
        try (Connection c = access.connect(named(n.conninfo()), s.checkTimeout(), s.checkTimeout())) {
            return true;
        } catch (SQLException | ReplicationException e) {
            return false;
        }
    }

    private void upstreamSeen(NodeRecord upstream, RecoveryProgress prog) {
        upstreamLastSeen = Instant.now();
        guard.upstreamSeen();
        if (upstreamDownSince != null) {
            long secs = Duration.between(upstreamDownSince, Instant.now()).toSeconds();
            upstreamDownSince = null;
            sink.record(DaemonEvents.REPMGRD_UPSTREAM_RECONNECT, true, "reconnected to upstream " + upstream.describe()
                    + " after " + secs + " seconds", EventSink.Context.primary(upstream));
        }
        mode = DaemonMode.MONITORING;
        syncElection.clear();
        degradedReason = null;
        degradedByPause = false;
        waitingForOperation = false;
        closeSiblingLinks();
        knownPrimary = upstream.type() == NodeType.PRIMARY ? upstream.conninfo()
                : nodes.stream().filter(n -> n.type() == NodeType.PRIMARY && n.active()).findFirst()
                        .map(NodeRecord::conninfo).orElse(knownPrimary);
        flushEvents();
        if (s.monitoringHistory() && prog != null) {
            writeHistory(upstream, prog);
        }
    }

    private void writeHistory(NodeRecord upstream, RecoveryProgress prog) {
        Optional<NodeRecord> primary = upstream.type() == NodeType.PRIMARY ? Optional.of(upstream)
                : nodes.stream().filter(n -> n.type() == NodeType.PRIMARY && n.active()).findFirst();
        if (primary.isEmpty()) {
            return;
        }
        try {
            if (!primary.get().conninfo().equals(primaryKeptTarget)) {
                primaryKept.reset();
                primaryKeptTarget = primary.get().conninfo();
            }
            RecoveryProgress p = RecoveryProgress.read(primaryKept.get());
            if (p.inRecovery() || p.currentLsn().isEmpty()) {
                return;
            }
            Lsn primaryLsn = p.currentLsn().get();
            Optional<Lsn> receive = prog.receiveLsn().or(prog::replayLsn);
            long lag = receive.map(r -> Math.max(0, primaryLsn.minus(r))).orElse(0L);
            long applyLag = receive.isPresent() && prog.replayLsn().isPresent()
                    ? Math.max(0, receive.get().minus(prog.replayLsn().get())) : 0L;
            MonitoringRecord r = MonitoringRecord.builder()
                    .primaryNodeId(primary.get().nodeId())
                    .standbyNodeId(self.nodeId())
                    .lastMonitorTime(OffsetDateTime.now())
                    .lastApplyTime(prog.lastReplayTime())
                    .lastWalPrimaryLocation(primaryLsn)
                    .lastWalStandbyLocation(receive)
                    .replicationLag(lag)
                    .applyLag(applyLag)
                    .build();
            JdbcMetadataStore.of(primaryKept.asSource()).appendMonitoring(r);
        } catch (ReplicationException e) {
            primaryKept.reset();
            LOG.debug("[{}] could not record monitoring history: {}", self.nodeName(), e.getMessage());
        }
    }

    private void upstreamLost(NodeRecord upstream) {
        if (mode == DaemonMode.DEGRADED) {
            degradedCycle(upstream);
            return;
        }
        if (waitingForOperation) {
            failover(upstream); // the reconnect policy ran already
            return;
        }
        if (upstreamDownSince == null) {
            upstreamDownSince = Instant.now();
            guard.upstreamLost();
            sink.record(DaemonEvents.REPMGRD_UPSTREAM_DISCONNECT, true, "unable to connect to upstream " + upstream.describe(),
                    EventSink.Context.primary(upstream));
        }
        setMode(DaemonMode.RECONNECTING);
        if (upstream.type() == NodeType.PRIMARY) {
            warmSiblingLinks(siblingsOf(upstream));
        }
        // repmgr's shape: the first attempt at once, then one every reconnect_interval; the
        // failover starts when the last one fails, (attempts - 1) × interval after the loss.
        // Attempts start on that schedule: a silent upstream's timeout does not push the next one back.
        long firstAttempt = System.nanoTime();
        for (int attempt = 1; attempt <= s.reconnectAttempts(); attempt++) {
            if (attempt > 1) {
                long wait = firstAttempt + s.reconnectInterval().toNanos() * (attempt - 1) - System.nanoTime();
                if (wait > 0) {
                    pauseFor(Duration.ofNanos(wait));
                }
            }
            if (available(upstream)) {
                upstreamSeen(upstream, null);
                return;
            }
            LOG.info("[{}] unable to reach upstream {} (attempt {} of {})", self.nodeName(), upstream.describe(), attempt,
                    s.reconnectAttempts());
            publish();
        }
        failover(upstream);
    }

    private void degrade(String reason, boolean byPause) {
        closeSiblingLinks();
        if (mode != DaemonMode.DEGRADED || !reason.equals(degradedReason)) {
            LOG.warn("[{}] no failover: {}; monitoring in degraded state", self.nodeName(), reason);
        }
        degradedReason = reason;
        degradedByPause = byPause;
        setMode(DaemonMode.DEGRADED);
    }

    /** Each interval while degraded and the upstream is still gone. */
    private void degradedCycle(NodeRecord failed) {
        if (!s.automatic() || paused) {
            return;
        }
        if (degradedByPause && failed.type() == NodeType.PRIMARY) {
            LOG.info("[{}] the daemons were unpaused while the primary is unreachable; starting a failover", self.nodeName());
            failover(failed);
            return;
        }
        Optional<NodeRecord> primary = findRunningPrimary(failed.nodeId());
        if (primary.isPresent()) {
            LOG.info("[{}] found a new primary {}", self.nodeName(), primary.get().describe());
            followNewPrimary(primary.get());
        } else if (syncElection.blockedReason() != null && failed.type() == NodeType.PRIMARY) {
            failover(failed); // the synchronous record blocked the last try: keep trying
        } else if (consensus != null && consensus.blockedReason() != null && failed.type() == NodeType.PRIMARY) {
            failover(failed); // consensus hook: the leader key was not free the last time: keep trying
        }
    }

    // ------------------------------------------------------------------ failover

    private void failover(NodeRecord failed) {
        checkStop();
        RecoveryProgress prog = readLocal();
        if (prog == null) {
            return; // the next cycle reports the local node down
        }
        refreshMetadata();
        if (!prog.inRecovery()) {
            return;
        }
        if (failed.type() != NodeType.PRIMARY) {
            followPrimaryAfterCascadeLoss(failed);
            return;
        }
        if (!s.automatic()) {
            degrade("failover is set to manual", false);
            return;
        }
        if (paused) {
            degrade("the daemons are paused", true);
            return;
        }
        Optional<String> operation = Optional.empty();
        try {
            operation = access.topologyOperation(local.get());
        } catch (ReplicationException e) {
            LOG.debug("[{}] could not read the topology lock: {}", self.nodeName(), e.getMessage());
        }
        if (operation.isPresent()) {
            if (!waitingForOperation) {
                LOG.info("[{}] upstream {} is gone while a topology operation runs ({}); waiting for it to end",
                        self.nodeName(), failed.describe(), operation.get());
            }
            waitingForOperation = true;
            return;
        }
        waitingForOperation = false;
        earlyProbes = null;
        if (!guard.holdBeforeElection(failed, () -> available(failed), this::pauseFor,
                () -> earlyProbes = submitProbes(electionTargets(failed), true))) {
            cancelProbes(earlyProbes);
            earlyProbes = null;
            LOG.info("[{}] upstream {} answers again; no failover", self.nodeName(), failed.describe());
            upstreamSeen(failed, null);
            return;
        }
        elect(failed);
    }

    /**
     * The election's first probes, started {@link FenceGuard#electionLead()} before the fence
     * hold ends, so that a silent old primary's check timeout runs out with the hold rather
     * than after it; taken (once) by the first election round.
     */
    private Probes earlyProbes;

    /** Probes in flight: one future per node, and when they were started. */
    private record Probes(Map<Integer, Future<Observed>> futures, long startedNanos) {
    }

    /** The nodes an election for {@code failed} probes: the siblings and the failed primary itself. */
    private List<NodeRecord> electionTargets(NodeRecord failed) {
        List<NodeRecord> probeList = new ArrayList<>(siblingsOf(failed));
        probeList.add(failed);
        return probeList;
    }

    /** A cascaded standby whose upstream standby failed attaches to the primary. */
    private void followPrimaryAfterCascadeLoss(NodeRecord failed) {
        if (!s.automatic()) {
            degrade("failover is set to manual", false);
            return;
        }
        if (paused) {
            degrade("the daemons are paused", true);
            return;
        }
        Optional<NodeRecord> primary = findRunningPrimary(failed.nodeId());
        if (primary.isEmpty()) {
            sink.record(DaemonEvents.REPMGRD_FAILOVER_ABORTED, false, "upstream " + failed.describe()
                    + " is unreachable and no running primary was found to follow", EventSink.Context.NONE);
            degrade("no running primary to follow", false);
            return;
        }
        followNewPrimary(primary.get());
    }

    /** The single running, writable node among the active ones (other than this one and {@code excluded}). */
    private Optional<NodeRecord> findRunningPrimary(int excluded) {
        return findRunningPrimary(excluded, false);
    }

    /** {@link #findRunningPrimary(int)}; {@code whileStopping}: also while the daemon closes (its last flush). */
    private Optional<NodeRecord> findRunningPrimary(int excluded, boolean whileStopping) {
        List<NodeRecord> candidates = nodes.stream()
                .filter(n -> n.active() && n.nodeId() != self.nodeId() && n.nodeId() != excluded
                        && (n.type() == NodeType.PRIMARY || n.type() == NodeType.STANDBY))
                .toList();
        Map<Integer, Observed> seen = whileStopping ? collect(submitProbes(candidates, false), candidates)
                : observe(candidates, false);
        List<NodeRecord> primaries = candidates.stream()
                .filter(n -> seen.get(n.nodeId()).progress().map(p -> !p.inRecovery()).orElse(false))
                .toList();
        return primaries.size() == 1 ? Optional.of(primaries.get(0)) : Optional.empty();
    }

    /** What probing one node found. */
    private record Observed(Optional<RecoveryProgress> progress, Optional<Beacon> beacon) {
        static final Observed NOTHING = new Observed(Optional.empty(), Optional.empty());
    }

    /** Probes nodes in parallel, each bounded by the check timeout. */
    private Map<Integer, Observed> observe(List<NodeRecord> targets, boolean beacons) {
        Map<Integer, Observed> out = collect(submitProbes(targets, beacons), targets);
        checkStop();
        return out;
    }

    private Probes submitProbes(List<NodeRecord> targets, boolean beacons) {
        Map<Integer, Future<Observed>> futures = new HashMap<>();
        for (NodeRecord n : targets) {
            futures.put(n.nodeId(), probePool.submit(() -> probe(n, beacons)));
        }
        return new Probes(futures, System.nanoTime());
    }

    private static void cancelProbes(Probes p) {
        if (p != null) {
            p.futures().values().forEach(f -> f.cancel(true));
        }
    }

    /** The answers of probes in flight, all under one deadline (check timeout + 2 s from their start); a node not probed counts as silent. */
    private Map<Integer, Observed> collect(Probes probes, List<NodeRecord> targets) {
        long deadline = probes.startedNanos() + s.checkTimeout().plusSeconds(2).toNanos();
        Map<Integer, Observed> out = new HashMap<>();
        for (NodeRecord n : targets) {
            Future<Observed> f = probes.futures().get(n.nodeId());
            if (f == null) {
                out.put(n.nodeId(), Observed.NOTHING);
                continue;
            }
            try {
                out.put(n.nodeId(), f.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
            } catch (TimeoutException | ExecutionException e) {
                f.cancel(true);
                out.put(n.nodeId(), Observed.NOTHING);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new Stop();
            }
        }
        return out;
    }

    private Observed probe(NodeRecord n, boolean beacons) {
        KeptConnection link = siblingLinks.get(n.nodeId());
        if (link != null && link.isOpen()) {
            try {
                return read(link.get(), n, beacons);
            } catch (ReplicationException e) {
                link.reset(); // broken since it was opened: try a new connection
            }
        }
        try (Connection c = access.connect(named(n.conninfo()), s.checkTimeout(), s.checkTimeout())) {
            return read(c, n, beacons);
        } catch (SQLException | ReplicationException e) {
            return Observed.NOTHING;
        }
    }

    private static Observed read(Connection c, NodeRecord n, boolean beacons) {
        RecoveryProgress p = RecoveryProgress.read(c);
        Optional<Beacon> b = beacons ? Beacon.find(DaemonSessions.list(c, Beacon.PREFIX), n.nodeId())
                .or(() -> RepmgrdBeacon.read(c, n.nodeId())) : Optional.empty(); // or a real repmgrd (extension)
        return new Observed(Optional.of(p), b);
    }

    /** Opens connections to the siblings in the background; a sibling that does not answer is skipped. */
    private void warmSiblingLinks(List<NodeRecord> siblings) {
        for (NodeRecord n : siblings) {
            KeptConnection link = siblingLinks.computeIfAbsent(n.nodeId(),
                    id -> new KeptConnection(() -> access.connect(named(n.conninfo()), s.checkTimeout(), s.checkTimeout())));
            probePool.execute(() -> {
                try {
                    link.get();
                } catch (ReplicationException e) {
                    LOG.debug("[{}] sibling {} not reachable: {}", self.nodeName(), n.describe(), e.getMessage());
                }
            });
        }
    }

    private void closeSiblingLinks() {
        siblingLinks.values().forEach(KeptConnection::close);
        siblingLinks.clear();
    }

    private Election.Participant participant(NodeRecord n, Observed o) {
        return new Election.Participant(n.nodeId(), n.nodeName(), n.type(), n.location(), n.priority(),
                o.progress().isPresent(), o.progress().map(RecoveryProgress::inRecovery),
                o.progress().flatMap(RecoveryProgress::electionLsn), o.beacon());
    }

    private List<NodeRecord> siblingsOf(NodeRecord failed) {
        return nodes.stream()
                .filter(n -> n.active() && n.nodeId() != self.nodeId() && n.nodeId() != failed.nodeId()
                        && n.upstreamNodeId().equals(OptionalInt.of(failed.nodeId()))
                        && (n.type() == NodeType.STANDBY || n.type() == NodeType.WITNESS))
                .toList();
    }

    /** The election, repeated (bounded) while winners fail to become primary or claims collide. */
    private void elect(NodeRecord failed) {
        Set<Integer> excluded = new HashSet<>();
        int maxRounds = siblingsOf(failed).size() + 3;
        for (int round = 1; round <= maxRounds; round++) {
            checkStop();
            setMode(DaemonMode.ELECTING);
            RecoveryProgress mine = readLocal();
            if (mine == null) {
                return;
            }
            List<NodeRecord> siblings = siblingsOf(failed);
            List<NodeRecord> probeList = electionTargets(failed);
            Probes early = earlyProbes;
            earlyProbes = null;
            Map<Integer, Observed> seen = early != null ? collect(early, probeList) : observe(probeList, true);
            checkStop();
            if (seen.get(failed.nodeId()).progress().isPresent()) {
                LOG.info("[{}] upstream {} answers again; no failover", self.nodeName(), failed.describe());
                upstreamSeen(failed, null);
                return;
            }
            NodeRecord me = node(self.nodeId()).orElseThrow();
            Election.Participant selfP = participant(me, new Observed(Optional.of(mine), Optional.empty()));
            List<Election.Participant> sibs = siblings.stream().map(n -> participant(n, seen.get(n.nodeId()))).toList();
            Election.Outcome outcome = Election.decide(new Election.Input(selfP, s.automatic() && !paused, failed.nodeId(),
                    failed.nodeName(), failed.location(), sibs, s.visibilityConsensus() || guard.requireVisibilityConsensus(),
                    s.monitorInterval().multipliedBy(2).toMillis(), excluded));
            LOG.info("[{}] election round {} for failed primary {}: {}", self.nodeName(), round, failed.describe(),
                    describe(outcome));
            if (outcome instanceof Election.Follow f) {
                node(f.primary().nodeId()).ifPresent(this::followNewPrimary);
                return;
            }
            io.repmgr4j.core.sync.SyncGate.Verdict gate = syncElection.judge(local.get(), failed, selfP, sibs, siblings,
                    n -> access.connect(named(n.conninfo()), s.checkTimeout(), s.checkTimeout()));
            if (gate.blocked()) {
                if (syncElection.block(gate.reason())) {
                    sink.record(io.repmgr4j.SyncEvents.SYNCHRONOUS_FAILOVER_BLOCKED, false, gate.reason(), EventSink.Context.NONE);
                    sink.record(DaemonEvents.REPMGRD_FAILOVER_ABORTED, false, gate.reason(), EventSink.Context.NONE);
                }
                degrade(gate.reason(), false);
                return;
            }
            syncElection.clear();
            if (!gate.notAllowed().isEmpty()) {
                Set<Integer> barred = new HashSet<>(excluded);
                barred.addAll(gate.notAllowed());
                LOG.info("[{}] {}", self.nodeName(), gate.reason());
                outcome = Election.decide(new Election.Input(selfP, s.automatic() && !paused, failed.nodeId(),
                        failed.nodeName(), failed.location(), sibs, s.visibilityConsensus(),
                        s.monitorInterval().multipliedBy(2).toMillis(), barred));
            }
            if (outcome instanceof Election.Cancel c) {
                sink.record(DaemonEvents.REPMGRD_FAILOVER_ABORTED, false, c.reason(), EventSink.Context.NONE);
                degrade(c.reason(), false);
                return;
            }
            if (outcome instanceof Election.Promote) {
                long c0 = System.nanoTime();
                Claim claim = claim(failed, siblings);
                LOG.debug("[{}] claim: {} after {} ms", self.nodeName(), claim, (System.nanoTime() - c0) / 1_000_000);
                if (claim == Claim.GRANTED) {
                    if (consensus != null && !consensus.takeForPromotion(() -> available(failed), this::pauseFor)) {
                        // consensus hook: no promotion without the leader key
                        String why = consensus.blockedReason();
                        if (why == null) {
                            LOG.info("[{}] upstream {} answers again; no failover", self.nodeName(), failed.describe());
                            upstreamSeen(failed, null);
                            return;
                        }
                        sink.record(DaemonEvents.REPMGRD_FAILOVER_ABORTED, false, "no promotion: " + why, EventSink.Context.NONE);
                        degrade(why, false);
                        return;
                    }
                    catchUpBeforePromotion(selfP, sibs);
                    promoteSelf(failed);
                    return;
                }
                if (claim == Claim.FOLLOWED) {
                    return;
                }
                if (yieldTo == null) {
                    continue; // the first of the claimants: elect again at once
                }
                outcome = new Election.WaitFor(yieldTo, List.of(yieldTo));
            }
            Election.WaitFor w = (Election.WaitFor) outcome;
            WaitResult r = awaitPrimary(w.winner(), failed);
            if (r.upstreamBack()) {
                upstreamSeen(failed, null);
                return;
            }
            if (r.primary().isPresent()) {
                followNewPrimary(r.primary().get());
                return;
            }
            LOG.warn("[{}] {} did not become primary; electing again without it", self.nodeName(), w.winner().describe());
            excluded.add(w.winner().nodeId());
        }
        String reason = "no node became primary after " + maxRounds + " election rounds";
        sink.record(DaemonEvents.REPMGRD_FAILOVER_ABORTED, false, reason, EventSink.Context.NONE);
        degrade(reason, false);
    }

    private static String describe(Election.Outcome o) {
        if (o instanceof Election.Promote p) {
            return "this node wins (ranking: " + p.ranking().stream().map(Election.Participant::describe)
                    .collect(Collectors.joining(", ")) + ")";
        }
        if (o instanceof Election.WaitFor w) {
            return "winner is " + w.winner().describe();
        }
        if (o instanceof Election.Follow f) {
            return f.primary().describe() + " already runs as primary";
        }
        return "cancelled: " + ((Election.Cancel) o).reason();
    }

    /** After a claim collided: the claimant with the lowest node id, which this node now waits for (null: this node is it). */
    private Election.Participant yieldTo;

    /** What came of a claim. */
    private enum Claim {
        /** Nobody else claims: promote. */
        GRANTED,
        /** A sibling already runs as primary, and this node now follows it. */
        FOLLOWED,
        /** Another node claims too: this node stepped back (and waited its turn); elect again. */
        STEPPED_BACK
    }

    /**
     * Announces this node's claim (mode P), then reads every sibling again. Because the
     * claim is visible before the siblings are read, of two daemons that see each other at
     * least one sees the other's claim and steps back, so they never both go on to promote.
     * Of the claimants that stepped back, the one with the lowest node id elects again; the
     * others wait for it to become primary ({@link #yieldTo}).
     */
    private Claim claim(NodeRecord failed, List<NodeRecord> siblings) {
        yieldTo = null;
        setMode(DaemonMode.PROMOTING);
        Map<Integer, Observed> seen = observe(siblings, true);
        List<Election.Participant> now = siblings.stream().map(n -> participant(n, seen.get(n.nodeId()))).toList();
        Optional<Election.Participant> primary = now.stream()
                .filter(p -> p.type() == NodeType.STANDBY && p.inRecovery().equals(Optional.of(false))).findFirst();
        if (primary.isPresent()) {
            node(primary.get().nodeId()).ifPresent(this::followNewPrimary);
            return Claim.FOLLOWED;
        }
        List<Election.Participant> rivals = now.stream()
                .filter(p -> p.beacon().map(b -> b.mode() == DaemonMode.PROMOTING && b.upstreamId() == failed.nodeId())
                        .orElse(false))
                .toList();
        if (rivals.isEmpty()) {
            return Claim.GRANTED;
        }
        // Claims collide only when daemons see the cluster differently (records not yet
        // replicated alike, say), so ranking them again could tie the same way: the order of
        // retries goes by node id instead, which every daemon agrees on.
        List<Integer> claimants = new ArrayList<>(rivals.stream().map(Election.Participant::nodeId).toList());
        claimants.add(self.nodeId());
        claimants.sort(Integer::compare);
        LOG.warn("[{}] {} claim(s) the promotion too; stepping back", self.nodeName(),
                rivals.stream().map(Election.Participant::describe).collect(Collectors.joining(", ")));
        setMode(DaemonMode.ELECTING);
        Duration unit = s.monitorInterval().dividedBy(4);
        if (unit.compareTo(Duration.ofMillis(50)) < 0) {
            unit = Duration.ofMillis(50);
        }
        // the lowest node id elects again after a pause (by then the others have stepped
        // back); the others wait for it to become primary, then follow it
        int first = claimants.get(0);
        yieldTo = first == self.nodeId() ? null
                : rivals.stream().filter(p -> p.nodeId() == first).findFirst().orElse(null);
        if (yieldTo == null) {
            pauseFor(unit);
        }
        return Claim.STEPPED_BACK;
    }

    /** A standby whose WAL replay was paused can neither catch up nor follow: resume it, as repmgrd does in a failover. */
    private void resumeReplay() {
        try {
            if (RecoveryProgress.resumeReplayIfPaused(local.get())) {
                LOG.warn("[{}] WAL replay was paused on this standby; resumed it for the failover", self.nodeName());
            }
        } catch (ReplicationException e) {
            LOG.debug("[{}] could not resume WAL replay: {}", self.nodeName(), e.getMessage());
        }
    }

    private record WaitResult(Optional<NodeRecord> primary, boolean upstreamBack) {
    }

    /** Waits (bounded) until the winner runs as primary. */
    private WaitResult awaitPrimary(Election.Participant winner, NodeRecord failed) {
        setMode(DaemonMode.WAITING_FOR_PRIMARY);
        NodeRecord w = node(winner.nodeId()).orElseThrow();
        Duration poll = s.monitorInterval().dividedBy(4);
        if (poll.compareTo(Duration.ofMillis(50)) < 0) {
            poll = Duration.ofMillis(50);
        } else if (poll.compareTo(Duration.ofMillis(500)) > 0) {
            poll = Duration.ofMillis(500);
        }
        long deadline = System.nanoTime() + s.primaryWaitTimeout().toNanos();
        int silent = 0;
        int polls = 0;
        while (System.nanoTime() < deadline) {
            pauseFor(poll);
            polls++;
            Observed o = probe(w, true);
            if (o.progress().isPresent() && !o.progress().get().inRecovery()) {
                return new WaitResult(Optional.of(w), false);
            }
            boolean gaveUp = o.beacon().map(b -> b.mode() == DaemonMode.DEGRADED).orElse(false);
            if (o.progress().isEmpty() || o.beacon().isEmpty()) {
                silent++;
            } else {
                silent = 0;
            }
            if (gaveUp || silent > 5) {
                return new WaitResult(Optional.empty(), false);
            }
            if (polls % 4 == 0 && available(failed)) {
                return new WaitResult(Optional.empty(), true);
            }
        }
        return new WaitResult(Optional.empty(), false);
    }

    /**
     * Before promoting: when a sibling received more WAL than this node (an asynchronous
     * standby ahead of the synchronous one the record lets win, say), fetch it from that
     * sibling first, so that nothing any standby received is lost with the old timeline and
     * the siblings can follow without pg_rewind. Bounded; on failure the promotion goes on
     * (the sibling then needs a rejoin, as without this step).
     */
    private void catchUpBeforePromotion(Election.Participant selfP, List<Election.Participant> sibs) {
        RecoveryProgress now = readLocal();
        Optional<Lsn> mine = now == null ? selfP.lsn() : now.electionLsn();
        Optional<Election.Participant> ahead = sibs.stream()
                .filter(p -> p.visible() && p.type() == NodeType.STANDBY && p.inRecovery().equals(Optional.of(true)))
                .filter(p -> p.lsn().isPresent() && (mine.isEmpty() || p.lsn().get().compareTo(mine.get()) > 0))
                .max(java.util.Comparator.comparing(p -> p.lsn().get()));
        if (ahead.isEmpty()) {
            return;
        }
        Election.Participant from = ahead.get();
        Optional<NodeRecord> rec = node(from.nodeId());
        if (rec.isEmpty()) {
            return;
        }
        Duration budget = s.monitorInterval().multipliedBy(2);
        budget = budget.compareTo(Duration.ofSeconds(1)) < 0 ? Duration.ofSeconds(1)
                : budget.compareTo(Duration.ofSeconds(5)) > 0 ? Duration.ofSeconds(5) : budget;
        LOG.info("[{}] {} received WAL up to {}, this node only up to {}: fetching the rest from it before promoting",
                self.nodeName(), from.describe(), from.lsn().get(), mine.map(Lsn::toString).orElse("nothing"));
        try {
            LOG.info("[{}] {}", self.nodeName(), access.topology().catchUp(self, rec.get(), from.lsn().get(), budget));
        } catch (ReplicationException e) {
            LOG.warn("[{}] could not fetch the missing WAL from {} ({}); promoting without it: that standby will need a"
                    + " rejoin", self.nodeName(), from.describe(), e.getMessage() + e.detail().map(d -> ": " + d).orElse(""));
        }
    }

    private void promoteSelf(NodeRecord failed) {
        closeSiblingLinks();
        resumeReplay();
        int termBefore = term;
        long p0 = System.nanoTime();
        try {
            // the election has just found the old primary silent (or refusing) under the full check
            // timeout, after the fence hold: the operation's look at it is bounded by a short cap.
            // Routing may follow as soon as the server accepts writes, not only once the records
            // are written
            access.topology().promote(self, failed, s.promoteTimeout(), s.checkTimeout(), oldPrimaryRecheck(),
                    sink::announceOnly, () -> confirmPrimary(true, "promoted by its daemon"));
            LOG.debug("[{}] promote operation took {} ms", self.nodeName(), (System.nanoTime() - p0) / 1_000_000);
        } catch (ReplicationException e) {
            confirmPrimary(false, "its promotion failed"); // confirmed again by the loop once recorded as the primary
            sink.record(DaemonEvents.REPMGRD_PROMOTE_ERROR, false, "promotion of " + describeSelf() + " failed: "
                    + e.getMessage() + e.detail().map(d -> ": " + d).orElse(""), EventSink.Context.NONE);
            if (consensus != null) {
                consensus.promotionFailed(); // consensus hook
            }
            degrade("promotion failed", false);
            return;
        }
        MetadataStore store = storeAt(self.conninfo());
        try {
            int t = store.votingTerm();
            if (t <= termBefore) {
                t = store.incrementVotingTerm();
            }
            term = t;
            store.node(failed.nodeId()).filter(NodeRecord::active)
                    .ifPresent(f -> store.updateNode(NodeRecord.builder().from(f).active(false).build()));
        } catch (ReplicationException e) {
            LOG.warn("[{}] promoted, but could not update the voting term or the old primary's record: {}", self.nodeName(),
                    e.getMessage());
        }
        localRole = NodeType.PRIMARY;
        syncKeeper.reset();
        syncElection.clear();
        upstreamId = 0;
        upstreamLastSeen = null;
        upstreamDownSince = null;
        degradedReason = null;
        knownPrimary = self.conninfo();
        children.reset(true);
        if (watch != null) {
            watch.watch(null);
        }
        upstreamKept.reset();
        mode = DaemonMode.MONITORING;
        publish();
        EventSink.Context ctx = new EventSink.Context(OptionalInt.of(failed.nodeId()), Optional.of(self.nodeName()),
                Optional.of(self.conninfo()));
        sink.record(DaemonEvents.REPMGRD_FAILOVER_PROMOTE, true, describeSelf() + " promoted to primary; old primary \""
                + failed.nodeName() + "\" (ID: " + failed.nodeId() + ") marked as failed", ctx);
        sink.record(DaemonEvents.REPMGRD_RELOAD, true, "monitoring cluster primary " + describeSelf(), ctx);
        flushEvents();
    }

    /** The promote operation's bound on the old primary's probe and lock connection (see {@link #promoteSelf}). */
    private Duration oldPrimaryRecheck() {
        Duration cap = Duration.ofMillis(250);
        return s.checkTimeout().compareTo(cap) < 0 ? s.checkTimeout() : cap;
    }

    private void followNewPrimary(NodeRecord primary) {
        closeSiblingLinks();
        setMode(DaemonMode.FOLLOWING);
        resumeReplay();
        try {
            access.topology().follow(self, primary, s.followTimeout(), sink::announceOnly);
        } catch (ReplicationException e) {
            sink.record(DaemonEvents.REPMGRD_FAILOVER_FOLLOW, false, describeSelf() + " could not follow new upstream "
                    + primary.describe() + ": " + e.getMessage() + e.detail().map(d -> ": " + d).orElse(""),
                    EventSink.Context.primary(primary));
            degrade("could not follow " + primary.describe(), false);
            return;
        }
        upstreamId = primary.nodeId();
        syncElection.clear();
        followedTo = primary.nodeId();
        followedUntil = Instant.now().plusSeconds(60);
        upstreamLastSeen = Instant.now();
        upstreamDownSince = null;
        degradedReason = null;
        degradedByPause = false;
        knownPrimary = primary.conninfo();
        upstreamKept.reset();
        if (watch != null) {
            watch.watch(named(primary.conninfo()));
        }
        mode = DaemonMode.MONITORING;
        publish();
        sink.record(DaemonEvents.REPMGRD_FAILOVER_FOLLOW, true, describeSelf() + " now following new upstream "
                + primary.describe(), EventSink.Context.primary(primary));
        flushEvents();
    }

    // ------------------------------------------------------------------ primary

    private void primaryCycle() {
        upstreamId = 0;
        upstreamLastSeen = null;
        List<ReplicationClient> clients;
        try {
            clients = ServerProbe.replicationClients(local.get());
        } catch (ReplicationException e) {
            LOG.debug("[{}] could not read pg_stat_replication: {}", self.nodeName(), e.getMessage());
            return;
        }
        Set<String> attached = clients.stream()
                .filter(c -> c.state().map(st -> st.equals("streaming") || st.equals("catchup")).orElse(false))
                .map(ReplicationClient::applicationName)
                .collect(Collectors.toSet());
        List<NodeRecord> kids = nodes.stream()
                .filter(n -> n.active() && n.type() == NodeType.STANDBY && n.upstreamNodeId().equals(OptionalInt.of(self.nodeId())))
                .toList();
        Optional<SplitBrain> split = checkSplitBrain(kids, attached);
        if (split.isPresent() && split.get().stale().nodeId() == self.nodeId()) {
            confirmPrimary(false, "another node is the cluster's primary");
            mode = DaemonMode.SPLIT_BRAIN;
            knownPrimary = split.get().current().conninfo();
            if (!selfStaleReported) {
                selfStaleReported = true;
                reportSplitBrain(split.get());
            }
            guard.fenceStale(split.get().current().describe() + " is the current primary (timeline "
                    + split.get().currentTimeline() + ", this node's " + split.get().staleTimeline() + ")");
            flushEvents();
            return;
        }
        selfStaleReported = false;
        boolean recorded = node(self.nodeId()).map(n -> n.type() == NodeType.PRIMARY && n.active()).orElse(false);
        confirmPrimary(recorded, recorded ? "writable, recorded as the primary, no other primary found"
                : "the metadata does not record it as the primary");
        if (mode != DaemonMode.MONITORING) {
            mode = DaemonMode.MONITORING;
        }
        knownPrimary = self.conninfo();
        for (ChildWatch.Change c : children.check(kids, attached, Instant.now())) {
            String event = switch (c.kind()) {
                case NEW_CONNECT -> DaemonEvents.CHILD_NODE_NEW_CONNECT;
                case DISCONNECT -> DaemonEvents.CHILD_NODE_DISCONNECT;
                case RECONNECT -> DaemonEvents.CHILD_NODE_RECONNECT;
            };
            sink.record(event, true, c.details(), EventSink.Context.NONE);
        }
        for (io.repmgr4j.core.sync.SyncKeeper.Notice n : syncKeeper.cycle(local.get(), nodes, clients)) {
            sink.record(n.event(), n.successful(), n.details(), EventSink.Context.NONE);
        }
        flushEvents();
    }

    /** Two writable primaries: {@code stale} should not be one. */
    private record SplitBrain(NodeRecord stale, NodeRecord current, int staleTimeline, int currentTimeline) {
    }

    /**
     * Looks for another writable primary among the nodes that could be one: records of
     * type primary (an old, inactive primary back up), and children not streaming from
     * this node. When one is found, the current primary is the one with the higher voting
     * term in its own metadata, then the higher timeline.
     */
    private Optional<SplitBrain> checkSplitBrain(List<NodeRecord> kids, Set<String> attached) {
        List<NodeRecord> suspects = new ArrayList<>();
        for (NodeRecord n : nodes) {
            if (n.nodeId() == self.nodeId()) {
                continue;
            }
            boolean detachedChild = kids.contains(n) && !attached.contains(n.nodeName());
            if (n.type() == NodeType.PRIMARY || detachedChild) {
                suspects.add(n);
            }
        }
        splitBrainReported.retainAll(suspects.stream().map(NodeRecord::nodeId).collect(Collectors.toSet()));
        if (suspects.isEmpty()) {
            return Optional.empty();
        }
        Map<Integer, Observed> seen = observe(suspects, false);
        for (NodeRecord other : suspects) {
            Optional<RecoveryProgress> p = seen.get(other.nodeId()).progress();
            if (p.isEmpty() || p.get().inRecovery()) {
                splitBrainReported.remove(other.nodeId());
                continue;
            }
            Optional<SplitBrain> sb = judge(other);
            if (sb.isPresent()) {
                if (sb.get().stale().nodeId() == self.nodeId()) {
                    return sb;
                }
                if (splitBrainReported.add(other.nodeId())) {
                    reportSplitBrain(sb.get());
                }
            }
        }
        return Optional.empty();
    }

    /** Decides which of this node and {@code other} (both writable) is the current primary. */
    private Optional<SplitBrain> judge(NodeRecord other) {
        try (Connection theirs = access.connect(named(other.conninfo()), s.checkTimeout(), s.checkTimeout())) {
            MetadataStore theirStore = JdbcMetadataStore.of(KeptConnection.nonClosing(theirs));
            int theirTerm = theirStore.votingTerm();
            int ourTerm = localStore.votingTerm();
            int theirTli = ServerProbe.timeline(theirs);
            int ourTli = ServerProbe.timeline(local.get());
            NodeRecord me = node(self.nodeId()).orElseThrow();
            NodeRecord them = theirStore.node(other.nodeId()).orElse(other);
            NodeRecord meThere = theirStore.node(self.nodeId()).orElse(me);
            boolean theyWin = theirTerm != ourTerm ? theirTerm > ourTerm : theirTli > ourTli;
            return Optional.of(theyWin ? new SplitBrain(meThere, them, ourTli, theirTli)
                    : new SplitBrain(other, me, theirTli, ourTli));
        } catch (SQLException | ReplicationException e) {
            LOG.debug("[{}] could not compare with {}: {}", self.nodeName(), other.describe(), e.getMessage());
            return Optional.empty();
        }
    }

    private void reportSplitBrain(SplitBrain sb) {
        String details = sb.stale().describe() + " is running as a primary (timeline " + sb.staleTimeline() + "), but "
                + sb.current().describe() + " is the current primary (timeline " + sb.currentTimeline()
                + "); two writable primaries";
        sink.record(DaemonEvents.SPLIT_BRAIN_DETECTED, false, details, EventSink.Context.primary(sb.current()));
        fencing.ifPresent(h -> sink.fence(h, sb.stale(), sb.current()));
    }

    // ------------------------------------------------------------------ helpers

    private Optional<NodeRecord> node(int id) {
        for (NodeRecord n : nodes) {
            if (n.nodeId() == id) {
                return Optional.of(n);
            }
        }
        return Optional.empty();
    }

    private String describeSelf() {
        return "node \"" + self.nodeName() + "\" (ID: " + self.nodeId() + ")";
    }

    /** A store on {@code server} whose connections are bounded by the check timeout. */
    private MetadataStore storeAt(ConnInfo server) {
        return JdbcMetadataStore.of(() -> access.connect(named(server), s.checkTimeout(), s.checkTimeout().plusSeconds(5)));
    }

    /**
     * Writes queued events to the primary this daemon knows, when there are any; when that
     * fails (this node was the primary and is down, say), looks for the one running primary
     * among the nodes, at most every few seconds.
     */
    private void flushEvents() {
        if (sink.pendingCount() == 0) {
            return;
        }
        boolean done = false;
        if (knownPrimary != null) {
            boolean local = knownPrimary.equals(self.conninfo()) && localRole == NodeType.PRIMARY
                    && mode != DaemonMode.SPLIT_BRAIN && localDownSince == null && !guard.isolated();
            boolean isolatedSelf = knownPrimary.equals(self.conninfo()) && guard.isolated();
            done = local ? sink.flush(localStore) : !isolatedSelf && sink.flush(storeAt(knownPrimary));
        }
        Instant now = Instant.now();
        if (!done && Duration.between(lastPrimarySearch, now).compareTo(PRIMARY_SEARCH_PAUSE) > 0) {
            lastPrimarySearch = now;
            Optional<NodeRecord> primary = findRunningPrimary(0, finalFlush);
            if (primary.isPresent()) {
                knownPrimary = primary.get().conninfo();
                sink.flush(storeAt(knownPrimary));
            }
        }
    }
}
