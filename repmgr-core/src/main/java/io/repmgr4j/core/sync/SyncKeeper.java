package io.repmgr4j.core.sync;

import io.repmgr4j.NodeConfig;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.SyncEvents;
import io.repmgr4j.SyncMode;
import io.repmgr4j.SynchronousRecord;
import io.repmgr4j.sql.ReplicationClient;
import io.repmgr4j.sql.SyncStateTable;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The primary daemon's side of synchronous replication: each monitoring cycle it computes
 * the target ({@link SyncTarget}) from the registered nodes and the standbys streaming now,
 * and when the primary does not run with it, moves there ({@link SyncApplier}). It times how
 * long no sync candidate has been connected, for the degrade timeout. The settings are the
 * record's (written by {@code apply()}), else this node's configuration's; with neither,
 * it does nothing. Used by the daemon's monitoring thread only; not thread-safe.
 */
public final class SyncKeeper {
    private static final Logger LOG = LoggerFactory.getLogger(SyncKeeper.class);

    /** An event to record. */
    public record Notice(String event, boolean successful, String details) {
    }

    private final NodeConfig self;
    private final Duration budget;
    private Instant noneSince;
    private String lastProblem;

    /** @param budget the longest each wait of a change may take */
    public SyncKeeper(NodeConfig self, Duration budget) {
        this.self = self;
        this.budget = budget;
    }

    /**
     * At daemon start on the primary: refuses this node's own synchronous settings when
     * they cannot work with the registered nodes and no record overrides them.
     *
     * @throws ReplicationException {@code BAD_CONFIG}, before the daemon runs
     */
    public void validateAtStart(Connection local, List<NodeRecord> nodes) {
        SyncSettings mine = SyncSettings.of(self);
        if (mine.mode() == SyncMode.OFF) {
            return;
        }
        boolean present = SyncStateTable.present(local);
        if (present && SyncStateTable.read(local).isPresent()) {
            return; // apply() wrote the cluster's settings: they win
        }
        SyncTarget.validate(nodes, self.nodeId(), mine, present ? SyncStateTable.candidates(local) : Map.of());
    }

    /** Forgets the degrade timer (this node just became primary, say). */
    public void reset() {
        noneSince = null;
    }

    /** One cycle on the primary behind {@code local}; returns the events to record. */
    public List<Notice> cycle(Connection local, List<NodeRecord> nodes, List<ReplicationClient> clients) {
        List<Notice> out = new ArrayList<>();
        try {
            Optional<SynchronousRecord> rec = SyncStateTable.present(local) ? SyncStateTable.read(local) : Optional.empty();
            SyncSettings s = rec.map(SyncSettings::of).orElseGet(() -> SyncSettings.of(self));
            if (s.mode() == SyncMode.OFF && rec.map(r -> r.kind() == SynchronousRecord.Kind.OFF).orElse(true)) {
                return out;
            }
            Map<Integer, Boolean> flags = SyncStateTable.present(local) ? SyncStateTable.candidates(local) : Map.of();
            Set<String> streaming = clients.stream().filter(c -> c.state().map("streaming"::equals).orElse(false))
                    .map(ReplicationClient::applicationName).collect(Collectors.toSet());
            List<NodeRecord> candidates = SyncTarget.candidates(nodes, self.nodeId(), flags);
            boolean any = candidates.stream().anyMatch(n -> streaming.contains(n.nodeName()));
            Instant now = Instant.now();
            if (any) {
                noneSince = null;
            } else if (noneSince == null) {
                noneSince = now;
            }
            boolean expired = !s.strict() && noneSince != null
                    && Duration.between(noneSince, now).compareTo(s.degradeTimeout()) >= 0;
            SyncTarget.Target t = SyncTarget.compute(nodes, self.nodeId(), s, flags, streaming, expired);
            String current = SyncApplier.currentNames(local);
            if (SyncApplier.upToDate(current, rec, s, t)) {
                lastProblem = null;
                return out;
            }
            SynchronousRecord.Kind before = rec.map(SynchronousRecord::kind).orElse(SynchronousRecord.Kind.OFF);
            SyncApplier.Result r = SyncApplier.apply(local, self.nodeId(), nodes, s, t, budget);
            LOG.info("[{}] synchronous replication: {} ({})", self.nodeName(), String.join("; ", r.steps()), t.reason());
            if (t.kind() == SynchronousRecord.Kind.DEGRADED && before != SynchronousRecord.Kind.DEGRADED) {
                out.add(new Notice(SyncEvents.SYNCHRONOUS_DEGRADED, true, "synchronous_standby_names '" + current
                        + "' cleared: " + t.reason()));
            } else if (before == SynchronousRecord.Kind.DEGRADED && r.record().guarding()) {
                out.add(new Notice(SyncEvents.SYNCHRONOUS_RESTORED, true, "synchronous_standby_names set to '"
                        + t.standbyNames() + "': " + t.reason()));
            } else if (r.changed() && r.complete()) {
                out.add(new Notice(SyncEvents.SYNCHRONOUS_CHANGED, true, "synchronous_standby_names '" + current + "' -> '"
                        + t.standbyNames() + "': " + t.reason()));
            }
            lastProblem = null;
        } catch (ReplicationException e) {
            String p = e.getMessage() + e.detail().map(d -> ": " + d).orElse("");
            if (!p.equals(lastProblem)) {
                LOG.warn("[{}] could not keep synchronous_standby_names right: {}", self.nodeName(), p);
            }
            lastProblem = p;
        }
        return out;
    }
}
