package io.repmgr4j.core.daemon;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.DaemonEvents;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.FencingMode;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.NodeType;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.spi.FencingHook;
import io.repmgr4j.sql.DaemonSessions;
import io.repmgr4j.sql.JdbcMetadataStore;
import io.repmgr4j.sql.RecoveryProgress;
import io.repmgr4j.sql.ServerProbe;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.IntSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The split-brain safety of one daemon, kept out of the monitoring loop's own code: the
 * loop calls it at a few points (start, each cycle, upstream lost and seen, before an
 * election, local server down, stale primary found) and it
 * <ul>
 *   <li>checks at start that fence-before-promotion holds against the settings the other
 *       running daemons publish ({@link FenceSettings});</li>
 *   <li>runs the {@link IsolationWatch} while this node is primary and fences the node
 *       ({@link Fence}) when it has not seen a quorum for {@code primary_isolation_timeout},
 *       recording {@code primary_isolated} and {@code primary_fenced};</li>
 *   <li>fences this node when it is the stale one of two writable primaries, at once, or
 *       puts {@code standby.signal} in place while its server is down and another node
 *       is the primary;</li>
 *   <li>lifts a readonly fence when a quorum is seen again and nobody was promoted
 *       meanwhile (no other writable node, no higher voting term, no newer timeline);</li>
 *   <li>holds a standby's promotion until the primary has surely fenced itself, unless
 *       the primary's port refuses connections (positive evidence).</li>
 * </ul>
 * Thread-safe: the monitoring thread and the isolation thread call it.
 */
final class FenceGuard implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(FenceGuard.class);
    /** application_name prefix of the session that publishes this daemon's fence figures. */
    static final String SAFETY_PREFIX = "r4jd safety ";

    private final DaemonSettings s;
    private final FenceSettings fs;
    private final NodeConfig self;
    private final ClusterAccess access;
    private final EventSink sink;
    private final Optional<FencingHook> hook;
    private final ExecutorService pool;
    private final Supplier<List<NodeRecord>> nodes;
    private final IntSupplier term;
    private final Fence fence;
    private final IsolationWatch watch;
    private final KeptConnection safetySession;

    private volatile boolean isolated;
    private volatile Optional<Fence.Marker> fenced = Optional.empty();
    private volatile boolean preFenced;
    private volatile long upstreamLostAt;
    private volatile boolean silenceOnly;
    /** This primary's timeline, read each cycle, so the fence reads nothing before it stops the server (0: unknown). */
    private volatile int timeline;
    private int cycles;
    private boolean staleDone;
    private boolean stuckReported;

    FenceGuard(DaemonSettings s, FenceSettings fs, ClusterAccess access, EventSink sink, Optional<FencingHook> hook,
               ExecutorService pool, Supplier<List<NodeRecord>> nodes, IntSupplier term) {
        this.s = s;
        this.fs = fs;
        this.self = s.node();
        this.access = access;
        this.sink = sink;
        this.hook = hook;
        this.pool = pool;
        this.nodes = nodes;
        this.term = term;
        this.fence = new Fence(self, fs, access.runner(self.nodeId()));
        this.watch = new IsolationWatch(self, fs, access, pool, nodes, this::onIsolated);
        Duration t = s.checkTimeout();
        this.safetySession = new KeptConnection(() -> access.connect(self.conninfo().with("application_name", safetyText()),
                t, t.plusSeconds(5)));
    }

    FenceSettings settings() {
        return fs;
    }

    /** The text other daemons read: this node's longest cut→fence and shortest cut→promotion, in ms. */
    String safetyText() {
        return SAFETY_PREFIX + "n=" + self.nodeId() + " fence=" + fs.longestCutToFence().toMillis() + " promote="
                + fs.shortestCutToPromotion().toMillis() + " auto=" + (fs.automatic() ? 1 : 0)
                + " mode=" + fs.mode().name().toLowerCase(java.util.Locale.ROOT);
    }

    /** One daemon's published fence figures. */
    record Figures(int nodeId, long fenceMillis, long promoteMillis, boolean automatic, String mode) {
        static Optional<Figures> parse(String text) {
            if (text == null || !text.startsWith(SAFETY_PREFIX)) {
                return Optional.empty();
            }
            Map<String, String> kv = new HashMap<>();
            for (String tok : text.substring(SAFETY_PREFIX.length()).trim().split(" +")) {
                int eq = tok.indexOf('=');
                if (eq > 0) {
                    kv.put(tok.substring(0, eq), tok.substring(eq + 1));
                }
            }
            try {
                return Optional.of(new Figures(Integer.parseInt(kv.get("n")), Long.parseLong(kv.get("fence")),
                        Long.parseLong(kv.get("promote")), "1".equals(kv.get("auto")), kv.getOrDefault("mode", "?")));
            } catch (RuntimeException e) {
                return Optional.empty();
            }
        }
    }

    // ------------------------------------------------------------------ start

    /**
     * At daemon start: warns about {@code fencing=none}, refuses settings that break
     * fence-before-promotion against any other running daemon, reads a readonly fence's
     * marker, publishes this daemon's figures and starts the isolation watch.
     *
     * @throws ReplicationException BAD_CONFIG when the settings break the rule
     */
    void onStart(NodeType localRole) {
        if (fs.mode() == FencingMode.NONE) {
            LOG.warn("[{}] fencing=none: this node never fences itself; a network partition can leave two writable"
                    + " primaries", self.nodeName());
        }
        checkPeers();
        if (localRole == NodeType.STANDBY && fs.mode() == FencingMode.READONLY) {
            boolean registeredPrimary = nodes.get().stream()
                    .anyMatch(n -> n.nodeId() == self.nodeId() && n.type() == NodeType.PRIMARY);
            if (registeredPrimary) {
                fenced = fence.readMarker();
                fenced.ifPresent(m -> LOG.warn("[{}] this node is fenced (read-only standby without upstream) since: {}",
                        self.nodeName(), m.reason()));
            }
        }
        try {
            safetySession.get();
        } catch (ReplicationException e) {
            LOG.debug("[{}] could not open the safety session: {}", self.nodeName(), e.getMessage());
        }
        watch.setActive(localRole == NodeType.PRIMARY && !WitnessSync.isWitness(nodes.get(), self.nodeId()));
        watch.start();
    }

    private void checkPeers() {
        List<NodeRecord> others = nodes.get().stream()
                .filter(n -> n.active() && n.nodeId() != self.nodeId() && n.type() != NodeType.BDR).toList();
        Map<Integer, Future<Optional<Figures>>> futures = new HashMap<>();
        for (NodeRecord n : others) {
            futures.put(n.nodeId(), pool.submit(() -> figuresOf(n)));
        }
        long deadline = System.nanoTime() + s.checkTimeout().plusSeconds(1).toNanos();
        for (NodeRecord n : others) {
            Optional<Figures> f;
            try {
                f = futures.get(n.nodeId()).get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (TimeoutException | ExecutionException e) {
                futures.get(n.nodeId()).cancel(true);
                continue;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            if (f.isEmpty()) {
                continue;
            }
            Figures p = f.get();
            long myFence = fs.longestCutToFence().toMillis();
            long myPromote = fs.shortestCutToPromotion().toMillis();
            if (fs.automatic() && !"none".equals(p.mode()) && myPromote < p.fenceMillis()) {
                throw new ReplicationException(ErrorCode.BAD_CONFIG, "fence before promotion is not guaranteed: this node"
                        + " could promote " + myPromote + " ms after losing its primary, but " + n.describe()
                        + " may take up to " + p.fenceMillis() + " ms to fence itself",
                        "shortest cut-to-promotion here " + myPromote + " ms < longest cut-to-fence of node " + n.nodeId()
                                + " " + p.fenceMillis() + " ms (primary_isolation_timeout plus the "
                                + FenceSettings.FENCE_DEADLINE.toMillis() + " ms fence deadline)",
                        "set the same primary_isolation_timeout on every node (this node: "
                                + fs.isolationTimeout().toMillis() + " ms), or lower it on node " + n.nodeId());
            }
            if (p.automatic() && fs.mode() != FencingMode.NONE && p.promoteMillis() < myFence) {
                throw new ReplicationException(ErrorCode.BAD_CONFIG, "fence before promotion is not guaranteed: "
                        + n.describe() + " could promote " + p.promoteMillis() + " ms after losing its primary, but this node"
                        + " may take up to " + myFence + " ms to fence itself",
                        "longest cut-to-fence here " + myFence + " ms (primary_isolation_timeout "
                                + fs.isolationTimeout().toMillis() + " ms plus the " + FenceSettings.FENCE_DEADLINE.toMillis()
                                + " ms fence deadline) > shortest cut-to-promotion of node " + n.nodeId() + " "
                                + p.promoteMillis() + " ms",
                        "lower primary_isolation_timeout here to " + Math.max(1, p.promoteMillis()
                                - FenceSettings.FENCE_DEADLINE.toMillis()) + " ms or less, or set the same value on every node");
            }
        }
    }

    private Optional<Figures> figuresOf(NodeRecord n) {
        try (Connection c = access.connect(n.conninfo().with("application_name", "repmgr4j-daemon-" + self.nodeId()),
                s.checkTimeout(), s.checkTimeout())) {
            for (DaemonSessions.Session x : DaemonSessions.list(c, SAFETY_PREFIX)) {
                Optional<Figures> f = Figures.parse(x.applicationName());
                if (f.isPresent() && f.get().nodeId() == n.nodeId()) {
                    return f;
                }
            }
            return Optional.empty();
        } catch (SQLException | ReplicationException e) {
            return Optional.empty();
        }
    }

    // ------------------------------------------------------------------ each cycle

    /**
     * Called once per monitoring cycle with the local server's state. Returns true when
     * the node is fenced (a read-only standby without upstream): the loop then skips its
     * standby work, and this method lifts the fence when that is safe.
     */
    boolean onCycle(RecoveryProgress prog) {
        endDownReports();
        if (++cycles % 10 == 1) {
            try {
                DaemonSessions.publish(safetySession.get(), safetyText());
            } catch (ReplicationException e) {
                safetySession.reset();
            }
        }
        if (!prog.inRecovery()) {
            try {
                timeline = ServerProbe.timeline(safetySession.get());
            } catch (ReplicationException e) {
                safetySession.reset();
            }
            preFenced = false;
            if (fenced.isPresent()) {
                fenced = Optional.empty();
            }
            if (isolated && watch.quorumNow()) {
                isolated = false; // a command fence left it writable, or the fence failed: decided afresh
            }
            watch.setActive(true);
            return false;
        }
        watch.setActive(false);
        staleDone = false;
        preFenced = false;
        if (fenced.isPresent() && nodes.get().stream().anyMatch(n -> n.nodeId() == self.nodeId() && n.type() != NodeType.PRIMARY)) {
            LOG.info("[{}] this node was registered again as a {} (rejoined): no longer fenced", self.nodeName(),
                    nodes.get().stream().filter(n -> n.nodeId() == self.nodeId()).findFirst().orElseThrow().type().sqlName());
            fenced = Optional.empty();
            isolated = false;
            stuckReported = false;
        }
        watch.setProbing(fenced.isPresent());
        if (fenced.isEmpty()) {
            return false;
        }
        tryLift(prog);
        return true;
    }

    boolean fenced() {
        return fenced.isPresent();
    }

    /** Whether this primary lost its quorum (its events must not be stored on its own server). */
    boolean isolated() {
        return isolated || fenced.isPresent();
    }

    private synchronized void onIsolated(String reason) {
        if (fenced.isPresent()) {
            return;
        }
        boolean first = !isolated;
        isolated = true; // first: its events must not go to its own server any more
        if (first) {
            sink.record(DaemonEvents.PRIMARY_ISOLATED, false, describeSelf() + " is isolated: " + reason,
                    EventSink.Context.NONE);
        }
        applyFence("isolated: " + reason, term.getAsInt());
    }

    /** A consensus store's lift condition (the leader key taken again); null: none. */
    private volatile BooleanSupplier consensusLift;

    /** With a consensus store: a readonly fence is lifted only when {@code mayLift} says so as well. */
    void useConsensusLift(BooleanSupplier mayLift) {
        this.consensusLift = mayLift;
    }

    /** The consensus store says this node must not accept writes (lease lost or about to end, key held by another): fence now. */
    synchronized void fenceForConsensus(String reason) {
        if (fenced.isPresent()) {
            return;
        }
        isolated = true;
        applyFence("consensus: " + reason, term.getAsInt());
    }

    /** This node runs as a writable primary but another node is the current one: fence now (idempotent). */
    synchronized void fenceStale(String details) {
        if (fenced.isPresent() || staleDone) {
            return;
        }
        staleDone = true;
        isolated = true;
        applyFence("stale primary: " + details, term.getAsInt());
    }

    private synchronized void applyFence(String reason, int t) {
        // nothing that waits on a connection runs between the decision and the fence: the
        // timeline is the one read in the last cycle (a primary's changes only by promotion)
        int tli = timeline;
        long t0 = System.nanoTime();
        Fence.Result r = fence.apply(reason, t, tli);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        if (r.done() && fs.mode() == FencingMode.READONLY) {
            fenced = Optional.of(new Fence.Marker(t, tli, reason));
        }
        if (fs.mode() == FencingMode.NONE) {
            isolated = false; // nothing was done: the watch goes on deciding
        }
        sink.record(DaemonEvents.PRIMARY_FENCED, r.done(), describeSelf() + " fenced (fencing="
                + fs.mode().name().toLowerCase(java.util.Locale.ROOT) + ", " + ms + " ms): " + r.details() + "; reason: "
                + reason, EventSink.Context.NONE);
        NodeRecord me = myRecord();
        hook.ifPresent(h -> sink.submitTask(() -> h.fenceLocal(me, reason)));
    }

    private NodeRecord myRecord() {
        return nodes.get().stream().filter(n -> n.nodeId() == self.nodeId()).findFirst()
                .orElseGet(() -> NodeRecord.from(self, NodeType.PRIMARY, java.util.OptionalInt.empty()));
    }

    private String describeSelf() {
        return "node \"" + self.nodeName() + "\" (ID: " + self.nodeId() + ")";
    }

    // ------------------------------------------------------------------ lifting

    private void tryLift(RecoveryProgress prog) {
        Fence.Marker m = fenced.get();
        if (!watch.quorumNow()) {
            return;
        }
        List<NodeRecord> others = watch.voters().stream().filter(n -> n.nodeId() != self.nodeId()).toList();
        Map<Integer, Future<Optional<int[]>>> futures = new HashMap<>();
        for (NodeRecord n : others) {
            futures.put(n.nodeId(), pool.submit(() -> stateOf(n.conninfo())));
        }
        long deadline = System.nanoTime() + s.checkTimeout().plusSeconds(1).toNanos();
        int reached = 0;
        List<String> blockers = new ArrayList<>();
        for (NodeRecord n : others) {
            Optional<int[]> st;
            try {
                st = futures.get(n.nodeId()).get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (TimeoutException | ExecutionException e) {
                futures.get(n.nodeId()).cancel(true);
                st = Optional.empty();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            if (st.isEmpty()) {
                continue;
            }
            reached++;
            int[] v = st.get(); // {inRecovery, timeline, term}
            // a witness is a server outside replication: writable and on a timeline of its own by
            // nature; only the voting term it copied tells whether someone was promoted
            boolean witness = n.type() == NodeType.WITNESS;
            if (v[0] == 0 && !witness) {
                blockers.add(n.describe() + " runs as a writable primary");
            }
            if (v[1] > m.timeline() && !witness) {
                blockers.add(n.describe() + " is on timeline " + v[1] + " (this node " + m.timeline() + ")");
            }
            if (v[2] > m.term()) {
                blockers.add(n.describe() + " has voting term " + v[2] + " (this node was fenced in term " + m.term() + ")");
            }
        }
        if (reached + 1 < IsolationWatch.majority(others.size() + 1)) {
            return;
        }
        if (!blockers.isEmpty()) {
            if (!stuckReported) {
                stuckReported = true;
                LOG.warn("[{}] stays fenced: another node was promoted meanwhile ({}); rejoin this node to the new primary",
                        self.nodeName(), String.join("; ", blockers));
            }
            return;
        }
        BooleanSupplier gate = consensusLift;
        if (gate != null && !gate.getAsBoolean()) {
            return; // consensus: the leader key is not this node's
        }
        Fence.Result r = fence.lift();
        sink.record(DaemonEvents.PRIMARY_FENCE_LIFTED, r.done(), describeSelf() + ": " + r.details()
                + " (quorum seen again, no other node promoted)", EventSink.Context.NONE);
        if (r.done()) {
            fenced = Optional.empty();
            isolated = false;
            stuckReported = false;
        }
    }

    private Optional<int[]> stateOf(ConnInfo node) {
        return stateOf(node, false);
    }

    /** {inRecovery, timeline, voting term} of a node; empty when unreachable or, if asked, while a topology operation runs. */
    private Optional<int[]> stateOf(ConnInfo node, boolean whileNoOperation) {
        try (Connection c = access.connect(node.with("application_name", "repmgr4j-daemon-" + self.nodeId()),
                s.checkTimeout(), s.checkTimeout())) {
            boolean rec = ServerProbe.isInRecovery(c);
            Optional<String> operation = whileNoOperation ? access.topologyOperation(c) : Optional.empty();
            if (operation.isPresent()) {
                // a rejoin (or another topology operation) is working on the nodes: it decides what this
                // node becomes, and its crash recovery must not find a standby.signal written meanwhile
                LOG.debug("[{}] {} holds the topology lock: no fence while it runs", self.nodeName(), operation.get());
                return Optional.empty();
            }
            int tli = ServerProbe.timeline(c);
            int t = 0;
            try {
                t = JdbcMetadataStore.of(KeptConnection.nonClosing(c)).votingTerm();
            } catch (ReplicationException e) {
                LOG.debug("[{}] no voting term on {}: {}", self.nodeName(), node.masked(), e.getMessage());
            }
            return Optional.of(new int[] {rec ? 1 : 0, tli, t});
        } catch (SQLException | ReplicationException e) {
            return Optional.empty();
        }
    }

    // ------------------------------------------------------------------ local server down

    /**
     * Each cycle while the local server is down: when this node was a primary and another
     * node now runs as the writable primary with a higher voting term, standby.signal is
     * put in place (once), so that the server starts as a read-only standby.
     */
    void onLocalDown(boolean wasPrimary, Supplier<Optional<NodeRecord>> runningPrimary) {
        staleDone = false;
        if (wasPrimary && !preFenced && !isolated && fenced.isEmpty() && fs.mode() == FencingMode.READONLY) {
            fenceIfStale(runningPrimary);
        }
        reportDown(wasPrimary);
    }

    private void fenceIfStale(Supplier<Optional<NodeRecord>> runningPrimary) {
        Optional<NodeRecord> other = runningPrimary.get();
        if (other.isEmpty()) {
            return;
        }
        Optional<int[]> st = stateOf(other.get().conninfo(), true);
        int myTerm = term.getAsInt();
        if (st.isEmpty() || st.get()[0] != 0 || st.get()[2] <= myTerm) {
            return;
        }
        String reason = "stale primary: " + other.get().describe() + " is the primary now (voting term " + st.get()[2]
                + " > " + myTerm + ")";
        try {
            fence.placeSignal(new Fence.Marker(myTerm, 0, reason));
            preFenced = true;
            fenced = Optional.of(new Fence.Marker(myTerm, 0, reason));
            isolated = true;
            sink.record(DaemonEvents.PRIMARY_FENCED, true, describeSelf() + " fenced while its server is down"
                    + " (standby.signal written: it starts as a read-only standby); reason: " + reason, EventSink.Context.NONE);
        } catch (ReplicationException e) {
            LOG.warn("[{}] could not write standby.signal while the server is down: {}", self.nodeName(), e.getMessage());
        }
    }

    // ------------------------------------------------------------------ "its server is down", reported by its daemon

    /** application_name prefix of the sessions a primary's daemon keeps on its peers while its server is down and fenced. */
    static final String DOWN_PREFIX = "r4jd down ";

    /** The sessions on the peers' servers that carry this daemon's down report, by node id. */
    private final Map<Integer, KeptConnection> downReports = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * While this primary's server is down: when nothing listens on its port here (a refusal
     * on its own host, positive evidence) and a standby's daemon has lost it for longer than
     * its reconnect window (so a failover is coming), puts the readonly fence's standby.signal in place,
     * so that the server can only start read-only, and reports "server down, fenced" in a
     * session on every peer's server it reaches. A standby that meets only silence from this
     * node's server (a host that drops packets to a closed port, a path cut to the port only)
     * then promotes without waiting out the fence hold. A restart of the server within the
     * reconnect window is left alone (no report, no signal). Called each cycle while the local
     * server is down; {@link #onCycle} ends the report once it answers.
     */
    private void reportDown(boolean wasPrimary) {
        if (!wasPrimary || fs.mode() != FencingMode.READONLY
                || PortProbe.probe(self.conninfo(), s.checkTimeout()) != PortProbe.Reach.REFUSED) {
            endDownReports();
            return;
        }
        List<NodeRecord> peers = nodes.get().stream()
                .filter(n -> n.active() && n.nodeId() != self.nodeId()
                        && (n.type() == NodeType.STANDBY || n.type() == NodeType.WITNESS))
                .toList();
        if (fenced.isEmpty()) {
            if (!standbyLostMe(peers)) {
                return;
            }
            String reason = "server down (its port refuses connections on its own host) while the standbys lost it";
            Fence.Marker m = new Fence.Marker(term.getAsInt(), timeline, reason);
            try {
                fence.placeSignal(m);
            } catch (ReplicationException e) {
                LOG.warn("[{}] could not write standby.signal while the server is down: {}", self.nodeName(), e.getMessage());
                return;
            }
            preFenced = true;
            isolated = true;
            fenced = Optional.of(m);
            sink.record(DaemonEvents.PRIMARY_FENCED, true, describeSelf() + " fenced while its server is down"
                    + " (standby.signal written: it starts as a read-only standby); reason: " + reason, EventSink.Context.NONE);
        }
        String text = DOWN_PREFIX + "n=" + self.nodeId() + " t=" + term.getAsInt();
        for (NodeRecord n : peers) {
            KeptConnection k = downReports.computeIfAbsent(n.nodeId(), id -> new KeptConnection(() -> access.connect(
                    n.conninfo().with("application_name", text), s.checkTimeout(), s.checkTimeout().plusSeconds(5))));
            pool.execute(() -> {
                try {
                    k.get();
                } catch (ReplicationException e) {
                    LOG.debug("[{}] could not report the server down on {}: {}", self.nodeName(), n.describe(), e.getMessage());
                }
            });
        }
    }

    /**
     * Whether a peer's daemon (its beacon, on its own server) has lost this node: reconnecting
     * to it past its reconnect window, or electing. False while a topology operation (a switchover, a rejoin) holds the
     * lock on any peer reached: it stops this server on purpose and decides what it becomes.
     */
    private boolean standbyLostMe(List<NodeRecord> peers) {
        // past its reconnect window (and the last attempt's timeout): a restart within the window
        // causes no failover, as in repmgr, and must not come back read-only either
        long pastWindow = s.reconnectWindow().plus(s.checkTimeout()).toMillis();
        Map<Integer, Future<Integer>> futures = new HashMap<>(); // 1 lost, 0 not, -1 an operation runs
        for (NodeRecord n : peers) {
            futures.put(n.nodeId(), pool.submit(() -> {
                try (Connection c = access.connect(n.conninfo().with("application_name", "repmgr4j-daemon-" + self.nodeId()),
                        s.checkTimeout(), s.checkTimeout())) {
                    if (access.topologyOperation(c).isPresent()) {
                        return -1;
                    }
                    return Beacon.find(DaemonSessions.list(c, Beacon.PREFIX), n.nodeId())
                            .map(b -> b.upstreamId() == self.nodeId() && !b.paused()
                                    && b.lastSeenAgoMillis() > pastWindow
                                    && (b.mode() == io.repmgr4j.DaemonMode.RECONNECTING
                                    || b.mode() == io.repmgr4j.DaemonMode.ELECTING
                                    || b.mode() == io.repmgr4j.DaemonMode.PROMOTING))
                            .orElse(false) ? 1 : 0;
                } catch (SQLException | ReplicationException e) {
                    return 0;
                }
            }));
        }
        long deadline = System.nanoTime() + s.checkTimeout().plusSeconds(1).toNanos();
        boolean lost = false;
        for (Future<Integer> f : futures.values()) {
            try {
                int v = f.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (v < 0) {
                    return false;
                }
                lost |= v > 0;
            } catch (TimeoutException | ExecutionException e) {
                f.cancel(true);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return lost;
    }

    private void endDownReports() {
        if (!downReports.isEmpty()) {
            downReports.values().forEach(KeptConnection::close);
            downReports.clear();
        }
    }

    /** Whether the daemon of {@code failed} reports, in a session on this node's server, that its server is down and fenced. */
    private boolean reportedDown(NodeRecord failed) {
        try {
            for (DaemonSessions.Session x : DaemonSessions.list(safetySession.get(), DOWN_PREFIX)) {
                if (x.applicationName().startsWith(DOWN_PREFIX + "n=" + failed.nodeId() + " ")) {
                    return true;
                }
            }
        } catch (ReplicationException e) {
            safetySession.reset();
        }
        return false;
    }

    // ------------------------------------------------------------------ standby side

    void upstreamLost() {
        upstreamLostAt = System.nanoTime();
    }

    void upstreamSeen() {
        upstreamLostAt = 0;
    }

    /**
     * Before an election for a lost primary: waits until the primary has surely fenced
     * itself ({@link FenceSettings#fenceHold()} since the first failed check), unless its
     * port refuses connections. Returns false when the primary answered again meanwhile
     * (the caller goes back to monitoring); {@code pause} sleeps and throws when the
     * daemon closes.
     */
    boolean holdBeforeElection(NodeRecord failed, BooleanSupplier available, Consumer<Duration> pause) {
        return holdBeforeElection(failed, available, pause, () -> { });
    }

    /**
     * {@link #holdBeforeElection(NodeRecord, BooleanSupplier, Consumer)}; {@code nearEnd} runs
     * once when at most {@link #electionLead()} of the hold is left (the caller starts the
     * election's probes then, so that a silent node's timeout runs out with the hold instead
     * of after it). It does not run when the hold ends early on evidence, or is zero.
     */
    boolean holdBeforeElection(NodeRecord failed, BooleanSupplier available, Consumer<Duration> pause, Runnable nearEnd) {
        Duration hold = fs.fenceHold();
        silenceOnly = false;
        if (hold.isZero()) {
            return true;
        }
        long since = upstreamLostAt == 0 ? System.nanoTime() : upstreamLostAt;
        boolean logged = false;
        boolean probesStarted = false;
        while (true) {
            long left = hold.toNanos() - (System.nanoTime() - since);
            if (!probesStarted && left <= electionLead().toNanos()) {
                probesStarted = true;
                nearEnd.run();
            }
            if (left <= 0) {
                silenceOnly = true; // waited out: whatever the primary did, it has fenced itself by now
                return true;
            }
            // a silent probe waits its whole timeout: never past the end of the hold
            long t0 = System.nanoTime();
            Duration probeFor = Duration.ofNanos(Math.max(Duration.ofMillis(50).toNanos(),
                    Math.min(left, s.checkTimeout().toNanos())));
            PortProbe.Reach r = PortProbe.probe(failed.conninfo(), probeFor);
            if (r == PortProbe.Reach.REFUSED) {
                LOG.info("[{}] {} refuses connections on its port: its server is down, no fence to wait for",
                        self.nodeName(), failed.describe());
                return true;
            }
            if (reportedDown(failed)) {
                LOG.info("[{}] the daemon of {} reports its server down (nothing listens on its port there) and fenced:"
                        + " no fence to wait for", self.nodeName(), failed.describe());
                return true;
            }
            if (!logged) {
                logged = true;
                LOG.info("[{}] {} is silent (no refusal): holding the promotion {} ms more, until it has fenced itself",
                        self.nodeName(), failed.describe(), Math.max(0, hold.toNanos() - (System.nanoTime() - since)) / 1_000_000);
            }
            // back? (the election probes it once more anyway, so near the end of the hold this is skipped)
            if (r == PortProbe.Reach.OPEN && hold.toNanos() - (System.nanoTime() - since) > s.checkTimeout().toNanos()
                    && available.getAsBoolean()) {
                return false;
            }
            long spent = System.nanoTime() - t0;
            left = hold.toNanos() - (System.nanoTime() - since);
            long rest = Math.min(left, fs.probeInterval().toNanos() - spent);
            if (rest > 0) {
                pause.accept(Duration.ofNanos(rest));
            }
        }
    }

    /**
     * How long before the end of the hold the election's probes may start: the check
     * timeout, at most the fence deadline. They then start no earlier than
     * {@code primary_isolation_timeout} after the cut, the latest moment at which the
     * primary can decide to keep its writes: a primary that saw its quorum again by then
     * answers them, and one that did not has fenced itself by the end of the hold.
     */
    Duration electionLead() {
        return s.checkTimeout().compareTo(FenceSettings.FENCE_DEADLINE) < 0 ? s.checkTimeout() : FenceSettings.FENCE_DEADLINE;
    }

    /**
     * Whether the election that follows must apply primary_visibility_consensus whatever
     * the setting: the primary was only silent, so a sibling or the witness that still
     * reaches it means it still has its quorum, is not fenced, and must not be replaced.
     */
    boolean requireVisibilityConsensus() {
        return silenceOnly;
    }

    // ------------------------------------------------------------------ lifecycle

    @Override
    public void close() {
        watch.close();
        safetySession.close();
        endDownReports();
    }

    void abort() {
        watch.abort();
        safetySession.abort();
        downReports.values().forEach(KeptConnection::abort);
    }

    /** For logs: this daemon's two figures. */
    String figures() {
        return "longest cut-to-fence " + fs.longestCutToFence().toMillis() + " ms, shortest cut-to-promotion "
                + fs.shortestCutToPromotion().toMillis() + " ms (fencing=" + fs.mode().name().toLowerCase(java.util.Locale.ROOT)
                + ", primary_isolation_timeout " + fs.isolationTimeout().toMillis() + " ms)";
    }
}
