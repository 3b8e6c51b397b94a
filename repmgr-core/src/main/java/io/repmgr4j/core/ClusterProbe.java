package io.repmgr4j.core;

import io.repmgr4j.ClusterStatus;
import io.repmgr4j.ConnInfo;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.NodeState;
import io.repmgr4j.NodeStatus;
import io.repmgr4j.NodeType;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.UpstreamState;
import io.repmgr4j.sql.ServerProbe;
import io.repmgr4j.sql.WalReceiverStatus;
import io.repmgr4j.sql.ReplicationClient;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code cluster show}: probes every registered node at the same time, each bounded by
 * one shared deadline, so several unreachable nodes cost one timeout rather than one
 * each; then compares what it found with the records. Thread-safe.
 */
final class ClusterProbe {
    private final ClusterContext ctx;

    ClusterProbe(ClusterContext ctx) {
        this.ctx = ctx;
    }

    /** What one node answered. */
    record Probe(boolean reachable, Boolean inRecovery, OptionalLong timeline,
                 Optional<WalReceiverStatus> walReceiver, List<String> streamingClients, String error) {
        static Probe unreachable(String error) {
            return new Probe(false, null, OptionalLong.empty(), Optional.empty(), List.of(), error);
        }
    }

    ClusterStatus show(Duration timeout) {
        OffsetDateTime started = OffsetDateTime.now();
        long t0 = System.nanoTime();
        long deadline = t0 + timeout.toNanos();
        List<NodeRecord> nodes = ctx.readNodes();
        Map<Integer, Future<Probe>> futures = new HashMap<>();
        for (NodeRecord n : nodes) {
            futures.put(n.nodeId(), ctx.probePool().submit(() -> probe(n.conninfo(), deadline)));
        }
        Map<Integer, Probe> probes = new HashMap<>();
        for (NodeRecord n : nodes) {
            Future<Probe> f = futures.get(n.nodeId());
            long left = Math.max(0, deadline - System.nanoTime());
            try {
                probes.put(n.nodeId(), f.get(left, TimeUnit.NANOSECONDS));
            } catch (TimeoutException e) {
                f.cancel(true);
                probes.put(n.nodeId(), Probe.unreachable("no answer within " + timeout.toMillis() + " ms"));
            } catch (ExecutionException e) {
                probes.put(n.nodeId(), Probe.unreachable(String.valueOf(e.getCause().getMessage())));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ReplicationException(io.repmgr4j.ErrorCode.INTERNAL, "interrupted while probing nodes");
            }
        }
        Optional<PrimaryResolution.Outcome> two = PrimaryResolution.resolve(ctx, nodes.stream()
                .filter(n -> probes.get(n.nodeId()).reachable() && Boolean.FALSE.equals(probes.get(n.nodeId()).inRecovery())
                        && n.type() != NodeType.WITNESS).toList(), deadline);
        if (two.isPresent() && two.get().nodes().stream().allMatch(n -> probes.containsKey(n.nodeId()))) {
            nodes = two.get().nodes(); // the legitimate primary's records: the stale one's copy missed the failover
        }
        Map<Integer, NodeRecord> byId = new HashMap<>();
        nodes.forEach(n -> byId.put(n.nodeId(), n));
        List<NodeStatus> statuses = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        two.ifPresent(t -> problems.add(t.warning()));
        for (NodeRecord n : nodes) {
            NodeStatus st = assess(n, probes.get(n.nodeId()), byId, probes, problems);
            if (two.isPresent() && two.get().legitimateId() == n.nodeId()) {
                st = io.repmgr4j.ImmutableNodeStatus.copyOf(st).withState(NodeState.PRIMARY_RUNNING);
            } else if (two.isPresent() && two.get().staleIds().contains(n.nodeId())) {
                st = io.repmgr4j.ImmutableNodeStatus.copyOf(st).withState(NodeState.RUNNING_AS_PRIMARY);
            }
            statuses.add(st);
        }
        return ClusterStatus.builder()
                .nodes(statuses)
                .problems(problems)
                .probedAt(started)
                .probeDuration(Duration.ofNanos(System.nanoTime() - t0))
                .build();
    }

    private Probe probe(ConnInfo node, long deadline) {
        long leftMs = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
        try (Connection c = ctx.connect(node, Duration.ofMillis(leftMs))) {
            boolean recovery = ServerProbe.isInRecovery(c);
            OptionalLong tli = OptionalLong.of(ServerProbe.timeline(c));
            Optional<WalReceiverStatus> wr = recovery ? ServerProbe.walReceiver(c) : Optional.empty();
            List<String> clients = ServerProbe.replicationClients(c).stream()
                    .filter(r -> r.state().map("streaming"::equals).orElse(false))
                    .map(ReplicationClient::applicationName)
                    .toList();
            return new Probe(true, recovery, tli, wr, clients, null);
        } catch (ReplicationException e) {
            return Probe.unreachable(e.getMessage() + e.detail().map(d -> ": " + d).orElse(""));
        } catch (SQLException e) {
            return Probe.unreachable(node.maskIn(e.getMessage()));
        }
    }

    private static NodeStatus assess(NodeRecord n, Probe p, Map<Integer, NodeRecord> byId, Map<Integer, Probe> probes,
                                     List<String> problems) {
        NodeState state;
        if (!p.reachable()) {
            state = n.active() ? NodeState.UNREACHABLE : NodeState.FAILED;
            problems.add("unable to connect to " + n.describe());
            if (n.type() == NodeType.PRIMARY && n.active()) {
                problems.add(n.describe() + " is registered as an active primary but is unreachable");
            }
        } else if (p.inRecovery() == null) {
            state = NodeState.UNKNOWN;
        } else if (!n.active() && !p.inRecovery() && n.type() != NodeType.WITNESS) {
            // typically a failed primary started again after a failover: two writable primaries
            state = NodeState.RUNNING_AS_PRIMARY;
            problems.add(n.describe() + " is registered as inactive (failed) but running as primary");
        } else if (!n.active()) {
            state = NodeState.RUNNING_BUT_INACTIVE;
            problems.add(n.describe() + " is registered as inactive but is running");
        } else if (n.type() == NodeType.PRIMARY || n.type() == NodeType.WITNESS) {
            state = p.inRecovery() ? NodeState.RUNNING_AS_STANDBY : NodeState.PRIMARY_RUNNING;
            if (p.inRecovery()) {
                problems.add(n.describe() + " is registered as " + n.type().sqlName() + " but running as standby");
            }
        } else {
            state = p.inRecovery() ? NodeState.STANDBY_RUNNING : NodeState.RUNNING_AS_PRIMARY;
            if (!p.inRecovery()) {
                problems.add(n.describe() + " is registered as standby but running as primary");
            }
        }

        UpstreamState upstreamState = UpstreamState.NONE;
        Optional<String> upstreamName = Optional.empty();
        if (n.upstreamNodeId().isPresent()) {
            NodeRecord up = byId.get(n.upstreamNodeId().getAsInt());
            upstreamName = Optional.ofNullable(up).map(NodeRecord::nodeName);
            Probe upProbe = up == null ? null : probes.get(up.nodeId());
            if (up == null) {
                upstreamState = UpstreamState.UNKNOWN;
            } else if (!p.reachable()) {
                upstreamState = UpstreamState.UNKNOWN;
            } else if (upProbe == null || !upProbe.reachable()) {
                upstreamState = UpstreamState.UNKNOWN;
                problems.add("unable to connect to " + n.describe() + "'s upstream " + up.describe());
                problems.add("unable to determine if " + n.describe() + " is attached to its upstream " + up.describe());
            } else if (n.type() == NodeType.WITNESS // a witness does not stream: reaching its upstream is all it does
                    || p.walReceiver().map(wr -> Attachment.matches(wr, up.conninfo())).orElse(false) || upProbe.streamingClients().contains(n.nodeName())) {
                upstreamState = UpstreamState.ATTACHED;
            } else {
                upstreamState = UpstreamState.NOT_ATTACHED;
                problems.add(n.describe() + " is not attached to its upstream " + up.describe());
            }
        }

        return NodeStatus.builder()
                .nodeId(n.nodeId())
                .nodeName(n.nodeName())
                .role(n.type())
                .state(state)
                .active(n.active())
                .upstreamNodeId(n.upstreamNodeId())
                .upstreamNodeName(upstreamName)
                .upstreamState(upstreamState)
                .location(n.location())
                .priority(n.priority())
                .timeline(p.timeline())
                .conninfo(n.conninfo())
                .inRecovery(Optional.ofNullable(p.inRecovery()))
                .connectionError(Optional.ofNullable(p.error()).map(n.conninfo()::maskIn))
                .build();
    }
}
