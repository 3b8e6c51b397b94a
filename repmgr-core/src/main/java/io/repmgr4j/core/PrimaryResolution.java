package io.repmgr4j.core;

import io.repmgr4j.NodeRecord;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.sql.JdbcMetadataStore;
import io.repmgr4j.sql.ServerProbe;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * When {@code cluster show} finds two or more writable primaries, decides which one is
 * legitimate the way the daemons do: the highest voting term in its own copy of the
 * metadata, then the newest timeline, then the one the metadata names as primary. Its
 * node records are then the ones shown (the stale primary's copy of the metadata has not
 * seen the failover). Thread-safe.
 */
final class PrimaryResolution {

    /** The outcome: the legitimate primary, the stale ones, its node records and the warning line. */
    record Outcome(int legitimateId, List<Integer> staleIds, List<NodeRecord> nodes, String warning) {
    }

    private record Seen(NodeRecord node, int term, int timeline, List<NodeRecord> records) {
    }

    private PrimaryResolution() {
    }

    /** Empty unless at least two of {@code writable} answered with their term and timeline. */
    static Optional<Outcome> resolve(ClusterContext ctx, List<NodeRecord> writable, long deadlineNanos) {
        if (writable.size() < 2) {
            return Optional.empty();
        }
        Map<Integer, Future<Optional<Seen>>> futures = new HashMap<>();
        for (NodeRecord n : writable) {
            futures.put(n.nodeId(), ctx.probePool().submit(() -> read(ctx, n, deadlineNanos)));
        }
        List<Seen> seen = new ArrayList<>();
        for (NodeRecord n : writable) {
            try {
                futures.get(n.nodeId()).get(Math.max(1, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS)
                        .ifPresent(seen::add);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Optional.empty();
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                futures.get(n.nodeId()).cancel(true);
            }
        }
        if (seen.size() < 2) {
            return Optional.empty();
        }
        seen.sort(Comparator.comparingInt(Seen::term).thenComparingInt(Seen::timeline)
                .thenComparing(x -> x.records().stream().anyMatch(r -> r.nodeId() == x.node().nodeId()
                        && r.type() == io.repmgr4j.NodeType.PRIMARY && r.active()))
                .reversed());
        Seen legit = seen.get(0);
        List<Integer> stale = seen.subList(1, seen.size()).stream().map(x -> x.node().nodeId()).toList();
        StringBuilder w = new StringBuilder("two writable primaries were seen: ");
        for (int i = 0; i < seen.size(); i++) {
            Seen x = seen.get(i);
            w.append(i == 0 ? "" : ", ").append(x.node().describe()).append(" (voting term ").append(x.term())
                    .append(", timeline ").append(x.timeline()).append(')');
        }
        w.append("; ").append(legit.node().describe()).append(" is the legitimate primary");
        return Optional.of(new Outcome(legit.node().nodeId(), stale, legit.records(), w.toString()));
    }

    private static Optional<Seen> read(ClusterContext ctx, NodeRecord n, long deadlineNanos) {
        long left = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime()));
        try (Connection c = ctx.connect(n.conninfo(), Duration.ofMillis(left))) {
            if (ServerProbe.isInRecovery(c)) {
                return Optional.empty();
            }
            JdbcMetadataStore store = JdbcMetadataStore.of(() -> nonClosing(c));
            return Optional.of(new Seen(n, store.votingTerm(), ServerProbe.timeline(c), store.nodes()));
        } catch (SQLException | ReplicationException e) {
            return Optional.empty();
        }
    }

    private static Connection nonClosing(Connection real) {
        return (Connection) java.lang.reflect.Proxy.newProxyInstance(Connection.class.getClassLoader(),
                new Class<?>[] {Connection.class}, (proxy, method, args) -> {
                    if (method.getName().equals("close") && (args == null || args.length == 0)) {
                        return null;
                    }
                    try {
                        return method.invoke(real, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }
}
