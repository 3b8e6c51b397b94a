package io.repmgr4j.core.http;

import io.repmgr4j.ClusterStatus;
import io.repmgr4j.DaemonMode;
import io.repmgr4j.DaemonState;
import io.repmgr4j.DaemonStatus;
import io.repmgr4j.FailoverMode;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.NodeHealth;
import io.repmgr4j.NodeStatus;
import io.repmgr4j.spi.MetricsText;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * The answers of the health endpoints, decided from a {@link HealthSource} (no I/O except
 * for {@code /cluster}): which paths exist, which query parameters each takes, and the
 * status code and JSON body of each. The rules follow Patroni's documented REST API:
 * <ul>
 * <li>{@code /}, {@code /primary}, {@code /read-write}, {@code /leader}: 200 only on the
 *     legitimate primary: the server answers, is not in recovery, the metadata on it names
 *     this node the primary, and the daemon runs and its last check of the other nodes,
 *     made since the server last came up writable, found no other writable primary, and
 *     it has not fenced the server (mode {@code FENCED}, where the fencing feature is present);</li>
 * <li>{@code /replica}: 200 on a standby whose WAL receiver streams, with optional
 *     {@code lag} (bytes or a size such as {@code 16MB}) and {@code tag_<key>=<value>}
 *     filters ({@code tag_location}, {@code tag_priority}, {@code tag_failover},
 *     {@code tag_nofailover});</li>
 * <li>{@code /read-only}: like {@code /replica}, or the primary;</li>
 * <li>{@code /health}: the server answers; {@code /liveness}: the daemon's loop runs;
 *     {@code /readiness}: the primary, or a streaming standby within {@code lag};</li>
 * <li>{@code /patroni} (the node's status, always 200), {@code /cluster} (cluster show),
 *     {@code /metrics} (404 when no metrics are configured).</li>
 * </ul>
 * Stateless; thread-safe.
 */
final class HealthChecks {

    /** An answer: status code, content type and body. */
    record Answer(int status, String contentType, String body) {
        static Answer json(int status, Object value) {
            return new Answer(status, "application/json", Json.write(value));
        }

        static Answer error(int status, String message) {
            Map<String, Object> m = Json.object();
            m.put("error", message);
            return json(status, m);
        }
    }

    static final List<String> PATHS = List.of("/", "/primary", "/read-write", "/leader", "/replica", "/read-only",
            "/health", "/liveness", "/readiness", "/patroni", "/cluster", "/metrics");

    private static final Set<String> TAGS = Set.of("tag_location", "tag_priority", "tag_failover", "tag_nofailover");

    private final HealthSource source;

    HealthChecks(HealthSource source) {
        this.source = source;
    }

    /** The answer for {@code path} with {@code query} (decoded, one value per key). */
    Answer answer(String path, Map<String, String> query) {
        String p = path.length() > 1 && path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
        switch (p) {
            case "/", "/primary", "/read-write", "/leader" -> {
                allowOnly(query, Set.of());
                return node(primary() ? 200 : 503);
            }
            case "/replica" -> {
                Filter f = filter(query);
                return node(replica(f) ? 200 : 503);
            }
            case "/read-only" -> {
                Filter f = filter(query);
                return node(primary() || replica(f) ? 200 : 503);
            }
            case "/readiness" -> {
                Filter f = filter(query);
                return node(primary() || replica(f) ? 200 : 503);
            }
            case "/health" -> {
                allowOnly(query, Set.of());
                return node(fresh().map(NodeHealth::running).orElse(false) ? 200 : 503);
            }
            case "/liveness" -> {
                allowOnly(query, Set.of());
                boolean alive = source.status().state() == DaemonState.RUNNING && source.alive();
                return node(alive ? 200 : 503);
            }
            case "/patroni" -> {
                allowOnly(query, Set.of());
                return node(200);
            }
            case "/cluster" -> {
                allowOnly(query, Set.of());
                return Answer.json(200, cluster(source.cluster(Duration.ofSeconds(5))));
            }
            case "/metrics" -> {
                allowOnly(query, Set.of());
                Optional<MetricsText> m = source.metrics();
                if (m.isEmpty()) {
                    return Answer.error(404, "metrics are not enabled on this daemon: add module repmgr-metrics and give its"
                            + " MetricsText to DaemonOptions.metrics(...)");
                }
                return new Answer(200, m.get().contentType(), m.get().scrape());
            }
            default -> {
                return Answer.error(404, "no endpoint " + path + "; endpoints: " + String.join(", ", PATHS));
            }
        }
    }

    /** A bad request: the answer is 400 with this message. */
    static final class BadRequest extends RuntimeException {
        BadRequest(String message) {
            super(message, null, false, false);
        }
    }

    private record Filter(OptionalLong maxLag, Map<String, String> tags) {
    }

    private static void allowOnly(Map<String, String> query, Set<String> allowed) {
        for (String k : query.keySet()) {
            if (!allowed.contains(k)) {
                throw new BadRequest("unknown query parameter \"" + k + "\"" + (allowed.isEmpty()
                        ? "; this endpoint takes none" : "; this endpoint takes " + String.join(", ", allowed)));
            }
        }
    }

    private static Filter filter(Map<String, String> query) {
        OptionalLong lag = OptionalLong.empty();
        Map<String, String> tags = new java.util.TreeMap<>();
        for (Map.Entry<String, String> e : query.entrySet()) {
            if (e.getKey().equals("lag")) {
                try {
                    lag = OptionalLong.of(ByteSize.parse(e.getValue()));
                } catch (IllegalArgumentException x) {
                    throw new BadRequest("invalid lag: " + x.getMessage());
                }
            } else if (TAGS.contains(e.getKey())) {
                tags.put(e.getKey().substring(4), e.getValue());
            } else {
                throw new BadRequest("unknown query parameter \"" + e.getKey() + "\"; this endpoint takes lag, "
                        + String.join(", ", new java.util.TreeSet<>(TAGS)));
            }
        }
        return new Filter(lag, tags);
    }

    /** The last look at the server, unless it is too old to trust. */
    private Optional<NodeHealth> fresh() {
        Optional<NodeHealth> h = source.health();
        Instant limit = Instant.now().minus(source.staleAfter());
        return h.filter(x -> x.observedAt().isAfter(limit));
    }

    private boolean primary() {
        DaemonStatus st = source.status();
        if (st.state() != DaemonState.RUNNING || st.mode() == DaemonMode.SPLIT_BRAIN || fenced(st)
                || !source.primaryConfirmed()) {
            return false;
        }
        return fresh().map(h -> h.legitimatePrimary(source.node().nodeId())).orElse(false);
    }

    /** The daemon fenced its server (DaemonMode FENCED of the fencing feature, looked up by name so this compiles without it). */
    static boolean fenced(DaemonStatus st) {
        return st.mode().name().equals("FENCED");
    }

    private boolean replica(Filter f) {
        Optional<NodeHealth> h = fresh();
        if (h.isEmpty() || !h.get().running() || !h.get().inRecovery() || !h.get().streaming()) {
            return false;
        }
        if (f.maxLag().isPresent()) {
            OptionalLong lag = h.get().lagBytes();
            if (lag.isEmpty() || lag.getAsLong() > f.maxLag().getAsLong()) {
                return false;
            }
        }
        NodeConfig n = source.node();
        for (Map.Entry<String, String> t : f.tags().entrySet()) {
            String v = t.getValue();
            boolean ok = switch (t.getKey()) {
                case "location" -> n.location().equals(v);
                case "priority" -> String.valueOf(n.priority()).equals(v);
                case "failover" -> n.failover().name().equalsIgnoreCase(v);
                case "nofailover" -> bool(v, t.getKey()) == (n.failover() == FailoverMode.MANUAL || n.priority() == 0);
                default -> false;
            };
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    private static boolean bool(String v, String key) {
        return switch (v.toLowerCase(Locale.ROOT)) {
            case "true", "on", "yes", "1" -> true;
            case "false", "off", "no", "0" -> false;
            default -> throw new BadRequest("tag_" + key + " takes true or false, not \"" + v + "\"");
        };
    }

    private Answer node(int status) {
        DaemonStatus st = source.status();
        Optional<NodeHealth> h = fresh();
        Map<String, Object> m = Json.object();
        m.put("state", h.map(x -> x.running() ? "running" : "stopped").orElse("unknown"));
        m.put("role", h.filter(NodeHealth::running).map(x -> x.inRecovery() ? "replica" : "primary").orElse("unknown"));
        m.put("node_id", st.nodeId());
        m.put("node_name", st.nodeName());
        m.put("legitimate_primary", h.map(x -> x.legitimatePrimary(st.nodeId())).orElse(false)
                && st.mode() != DaemonMode.SPLIT_BRAIN && !fenced(st) && source.primaryConfirmed());
        m.put("fenced", fenced(st));
        m.put("metadata_primary_id", h.map(NodeHealth::metadataPrimaryId).orElse(java.util.OptionalInt.empty()));
        m.put("timeline", h.map(NodeHealth::timeline).orElse(OptionalLong.empty()));
        m.put("streaming", h.map(NodeHealth::streaming).orElse(false));
        m.put("lag_bytes", h.map(NodeHealth::lagBytes).orElse(OptionalLong.empty()));
        m.put("lag_seconds", h.map(NodeHealth::lagSeconds).orElse(java.util.OptionalDouble.empty()));
        m.put("daemon_state", st.state().name().toLowerCase(Locale.ROOT));
        m.put("daemon_mode", st.mode().name().toLowerCase(Locale.ROOT));
        m.put("paused", st.paused());
        m.put("upstream_node_id", st.upstreamNodeId());
        m.put("voting_term", st.votingTerm());
        m.put("observed_at", h.map(x -> x.observedAt().toString()));
        return Answer.json(status, m);
    }

    private static Map<String, Object> cluster(ClusterStatus cs) {
        Map<String, Object> m = Json.object();
        List<Object> members = new ArrayList<>();
        for (NodeStatus n : cs.nodes()) {
            Map<String, Object> x = Json.object();
            x.put("node_id", n.nodeId());
            x.put("name", n.nodeName());
            x.put("role", n.role().name().toLowerCase(Locale.ROOT));
            x.put("state", n.state().name().toLowerCase(Locale.ROOT));
            x.put("active", n.active());
            x.put("host", n.conninfo().host());
            x.put("port", n.conninfo().port());
            x.put("upstream_node_id", n.upstreamNodeId());
            x.put("upstream_node_name", n.upstreamNodeName());
            x.put("upstream_state", n.upstreamState().name().toLowerCase(Locale.ROOT));
            x.put("location", n.location());
            x.put("priority", n.priority());
            x.put("timeline", n.timeline());
            x.put("in_recovery", n.inRecovery());
            members.add(x);
        }
        m.put("members", members);
        m.put("problems", cs.problems());
        m.put("probed_at", cs.probedAt().toString());
        return m;
    }
}
