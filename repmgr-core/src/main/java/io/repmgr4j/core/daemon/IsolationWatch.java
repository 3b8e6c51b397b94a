package io.repmgr4j.core.daemon;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.NodeType;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The primary's own view of whether it still reaches a quorum of its cluster: a thread
 * of the daemon ({@code repmgr4j-daemon-<id>-isolation}) that every probe interval asks
 * each other voter (the active standbys and the witness) for {@code SELECT 1}, each probe
 * on the daemon's probe threads and bounded by the check timeout, and reads the local
 * {@code pg_stat_replication.reply_time} of each walsender. A voter counts as seen at
 * the moment its probe started (it answered later than that), or, when its walsender's
 * {@code reply_time} changed since the previous read, at the previous read (the reply
 * arrived after it). A row that is merely present, or a reply time that stays the same,
 * counts for nothing. Times are this host's monotonic clock only.
 *
 * <p>The quorum is a majority of the voters (this node, the active standbys and the
 * witness). {@link #lastQuorumNanos()} is the latest moment at which enough voters were
 * seen; when {@code primary_isolation_timeout} has passed since then, {@code onIsolated}
 * runs on this thread, once until a quorum is seen again. Decisions are taken every
 * {@link FenceSettings#TICK}, never delayed by a probe that hangs.
 *
 * <p>Thread-safe: {@link #setActive} and the readers may be called from any thread.
 */
final class IsolationWatch implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(IsolationWatch.class);

    private final NodeConfig self;
    private final FenceSettings fs;
    private final ClusterAccess access;
    private final ExecutorService pool;
    private final Supplier<List<NodeRecord>> nodes;
    private final Consumer<String> onIsolated;
    private final Thread thread;
    private final Map<Integer, Long> lastSeen = new ConcurrentHashMap<>();
    private final Map<Integer, KeptConnection> links = new ConcurrentHashMap<>();
    private final Map<Integer, AtomicBoolean> inFlight = new ConcurrentHashMap<>();
    private final Map<String, String> replyTimes = new HashMap<>();
    private final KeptConnection local;
    private volatile boolean closed;
    private volatile boolean active;
    private volatile boolean probing;
    private volatile long activeSince;
    private volatile long lastQuorum;
    private volatile boolean fired;
    private long firedAt;
    private long previousRead;

    IsolationWatch(NodeConfig self, FenceSettings fs, ClusterAccess access, ExecutorService pool,
                   Supplier<List<NodeRecord>> nodes, Consumer<String> onIsolated) {
        this.self = self;
        this.fs = fs;
        this.access = access;
        this.pool = pool;
        this.nodes = nodes;
        this.onIsolated = onIsolated;
        Duration t = fs.checkTimeout();
        this.local = new KeptConnection(() -> access.connect(named(self.conninfo()), t, t));
        this.thread = new Thread(this::loop, "repmgr4j-daemon-" + self.nodeId() + "-isolation");
        this.thread.setDaemon(true);
    }

    private ConnInfo named(ConnInfo c) {
        return c.with("application_name", "repmgr4j-daemon-" + self.nodeId() + "-isolation");
    }

    void start() {
        thread.start();
    }

    /**
     * Turns the decision on (this node runs as primary) or off. Turning it on counts as a
     * quorum seen now: a node that just became primary was elected by one.
     */
    void setActive(boolean on) {
        if (on && !active) {
            long now = System.nanoTime();
            activeSince = now;
            lastQuorum = now;
            fired = false;
        }
        active = on;
    }

    /** Keeps probing while not deciding (a fenced node looking for its quorum again). */
    void setProbing(boolean on) {
        probing = on;
    }

    boolean active() {
        return active;
    }

    /** The latest moment (System.nanoTime) at which a quorum was seen. */
    long lastQuorumNanos() {
        return lastQuorum;
    }

    /** Whether a quorum was seen within the last probe round (probe interval + check timeout). */
    boolean quorumNow() {
        long round = fs.probeInterval().plus(fs.checkTimeout()).toNanos();
        long now = System.nanoTime();
        return now - quorum(now, false) <= round;
    }

    /** The voters: the active primary, standby and witness records (this node included). */
    List<NodeRecord> voters() {
        List<NodeRecord> out = new ArrayList<>();
        for (NodeRecord n : nodes.get()) {
            if (n.active() && (n.type() == NodeType.PRIMARY || n.type() == NodeType.STANDBY || n.type() == NodeType.WITNESS)) {
                out.add(n);
            }
        }
        if (out.stream().noneMatch(n -> n.nodeId() == self.nodeId())) {
            out.add(NodeRecord.from(self, NodeType.PRIMARY, java.util.OptionalInt.empty()));
        }
        return out;
    }

    /** How many voters make a majority. */
    static int majority(int voters) {
        return voters / 2 + 1;
    }

    /** Textual summary for logs and events: which voters were seen how long ago. */
    String describe() {
        long now = System.nanoTime();
        StringBuilder sb = new StringBuilder();
        List<NodeRecord> v = voters();
        sb.append("quorum ").append(majority(v.size())).append(" of ").append(v.size()).append(" voters;");
        for (NodeRecord n : v) {
            if (n.nodeId() == self.nodeId()) {
                continue;
            }
            Long seen = lastSeen.get(n.nodeId());
            sb.append(" \"").append(n.nodeName()).append("\" ")
                    .append(seen == null ? "never seen" : "seen " + (now - seen) / 1_000_000 + " ms ago").append(';');
        }
        return sb.substring(0, sb.length() - 1);
    }

    /** The latest moment at which a majority of voters had been seen (this node always is). */
    private long quorum(long now) {
        return quorum(now, true);
    }

    private long quorum(long now, boolean countActivation) {
        List<NodeRecord> v = voters();
        int needOthers = majority(v.size()) - 1;
        if (needOthers <= 0) {
            return now;
        }
        List<Long> seen = new ArrayList<>();
        for (NodeRecord n : v) {
            if (n.nodeId() != self.nodeId()) {
                Long t = lastSeen.get(n.nodeId());
                if (t != null) {
                    seen.add(t);
                }
            }
        }
        seen.sort((a, b) -> Long.compare(b, a)); // newest first
        long q = seen.size() >= needOthers ? seen.get(needOthers - 1) : Long.MIN_VALUE;
        return countActivation ? Math.max(q, activeSince) : q;
    }

    private void loop() {
        long nextRound = System.nanoTime();
        while (!closed) {
            long now = System.nanoTime();
            if (now - nextRound >= 0 && (active || probing)) {
                nextRound = now + fs.probeInterval().toNanos();
                try {
                    round(now);
                } catch (RuntimeException e) {
                    LOG.debug("[{}] isolation probe round failed: {}", self.nodeName(), e.toString());
                }
            }
            if (active) {
                long q = quorum(System.nanoTime());
                if (q > lastQuorum) {
                    lastQuorum = q;
                }
                boolean isolated = System.nanoTime() - lastQuorum >= fs.isolationTimeout().toNanos();
                if (!isolated) {
                    fired = false;
                } else if (!fired || System.nanoTime() - firedAt >= fs.isolationTimeout().toNanos()) {
                    fired = true; // again after another timeout while still isolated: the handler is idempotent
                    firedAt = System.nanoTime();
                    String reason = "no quorum seen for " + (System.nanoTime() - lastQuorum) / 1_000_000
                            + " ms (primary_isolation_timeout " + fs.isolationTimeout().toMillis() + " ms): " + describe();
                    try {
                        onIsolated.accept(reason);
                    } catch (RuntimeException e) {
                        LOG.warn("[{}] isolation handler failed: {}", self.nodeName(), e.toString());
                    }
                }
            }
            try {
                Thread.sleep(FenceSettings.TICK.toMillis());
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void round(long started) {
        List<NodeRecord> v = voters();
        for (NodeRecord n : v) {
            if (n.nodeId() == self.nodeId()) {
                continue;
            }
            AtomicBoolean busy = inFlight.computeIfAbsent(n.nodeId(), id -> new AtomicBoolean());
            if (!busy.compareAndSet(false, true)) {
                continue; // the previous probe still waits for its answer
            }
            try {
                pool.execute(() -> {
                    try {
                        long t0 = System.nanoTime();
                        if (ask(n)) {
                            lastSeen.merge(n.nodeId(), t0, Math::max);
                        }
                    } finally {
                        busy.set(false);
                    }
                });
            } catch (RejectedExecutionException e) {
                busy.set(false);
                return;
            }
        }
        readReplies(v, started);
    }

    private boolean ask(NodeRecord n) {
        KeptConnection link = links.computeIfAbsent(n.nodeId(), id -> new KeptConnection(
                () -> access.connect(named(n.conninfo()), fs.checkTimeout(), fs.checkTimeout())));
        try (Statement st = link.get().createStatement()) {
            st.setQueryTimeout((int) Math.max(1, fs.checkTimeout().toSeconds()));
            st.execute("SELECT 1");
            return true;
        } catch (SQLException | RuntimeException e) {
            link.reset();
            return false;
        }
    }

    /** Walsenders whose reply_time changed since the previous read count as seen at that read. */
    private void readReplies(List<NodeRecord> v, long now) {
        Map<String, String> current = new HashMap<>();
        try (Statement st = local.get().createStatement();
             ResultSet rs = st.executeQuery("SELECT application_name, reply_time::text FROM pg_catalog.pg_stat_replication"
                     + " WHERE reply_time IS NOT NULL")) {
            while (rs.next()) {
                current.put(rs.getString(1), rs.getString(2));
            }
        } catch (SQLException | RuntimeException e) {
            local.reset();
            return;
        }
        long before = previousRead;
        previousRead = now;
        for (NodeRecord n : v) {
            String was = replyTimes.get(n.nodeName());
            String is = current.get(n.nodeName());
            if (before != 0 && is != null && was != null && !is.equals(was)) {
                lastSeen.merge(n.nodeId(), before, Math::max);
            }
        }
        replyTimes.clear();
        replyTimes.putAll(current);
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        links.values().forEach(KeptConnection::close);
        local.close();
    }

    void abort() {
        links.values().forEach(KeptConnection::abort);
        local.abort();
    }
}
