package io.repmgr4j.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.repmgr4j.DaemonOptions;
import io.repmgr4j.FailoverDaemon;
import io.repmgr4j.FailoverMode;
import io.repmgr4j.HttpEndpoint;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.core.ReplicationClusters;
import io.repmgr4j.plan.OperationReport;
import io.repmgr4j.testkit.HaProxy;
import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/**
 * The metrics of two real daemons (pg1 primary, pg2 standby): gauges on the Prometheus
 * text of each daemon's {@code /metrics}, and on an application's own registry; a
 * switchover counted and timed; events counted once when they arrive both through a
 * daemon and through the cluster handle.
 */
class RepmgrMetricsTest {
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private static NodeConfig config(int id, PgServer s) {
        return NodeConfig.builder().nodeId(id).nodeName(s.name()).conninfo(s.conninfo())
                .dataDirectory(s.dataDirectory().toString()).pgBindir(s.bindir().toString()).priority(100)
                .failover(FailoverMode.AUTOMATIC).monitorIntervalSecs(1).reconnectAttempts(2).reconnectInterval(1)
                .promoteCheckTimeout(30).standbyReconnectTimeout(30).build();
    }

    @Test
    void gaugesCountersAndTimersOnPrometheusAndOnAnApplicationRegistry() {
        List<FailoverDaemon> daemons = new ArrayList<>();
        PrometheusMetricsText prometheus = PrometheusMetricsText.create();
        RepmgrMetrics metrics = RepmgrMetrics.on(prometheus.registry());
        SimpleMeterRegistry appRegistry = new SimpleMeterRegistry();
        RepmgrMetrics appMetrics = RepmgrMetrics.on(appRegistry);
        try (PgReplicaSet set = PgReplicaSet.start(2, b -> b.setting("wal_retrieve_retry_interval", "200ms"));
             ReplicationCluster cluster = ReplicationClusters.builder().seed(set.primary().conninfo())
                     .eventListener(metrics).build()) {
            NodeConfig c1 = config(1, set.server("pg1"));
            NodeConfig c2 = config(2, set.server("pg2"));
            cluster.registerPrimary(c1).execute();
            cluster.registerStandby(c2).waitUntilAttached(Duration.ofSeconds(30)).execute();
            int port1 = HaProxy.freePort();
            int port2 = HaProxy.freePort();
            for (NodeConfig c : List.of(c1, c2)) {
                DaemonOptions o = DaemonOptions.builder().monitorInterval(Duration.ofMillis(300))
                        .reconnectInterval(Duration.ofMillis(300)).metrics(prometheus)
                        .http(HttpEndpoint.builder().port(c == c1 ? port1 : port2).build()).build();
                FailoverDaemon d = cluster.daemon(c, o);
                metrics.bind(d);
                appMetrics.bind(d);
                daemons.add(d.start());
            }
            assertThatThrownBy(() -> metrics.bind(daemons.get(0))).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("bound already");

            await("pg1 to be the legitimate primary in the metrics", () ->
                    scrape(port1).contains("repmgr_node_primary{node_id=\"1\",node_name=\"pg1\"} 1.0"));
            await("pg2's lag to be known", () -> scrape(port2).matches(
                    "(?s).*repmgr_replication_lag_bytes\\{node_id=\"2\",node_name=\"pg2\"} [0-9.E]+\n.*"));
            String text = scrape(port2);
            assertThat(text).contains(
                    "repmgr_node_role{node_id=\"1\",node_name=\"pg1\",role=\"primary\"} 1.0",
                    "repmgr_node_role{node_id=\"2\",node_name=\"pg2\",role=\"standby\"} 1.0",
                    "repmgr_node_role{node_id=\"2\",node_name=\"pg2\",role=\"primary\"} 0.0",
                    "repmgr_node_up{node_id=\"2\",node_name=\"pg2\"} 1.0",
                    "repmgr_node_timeline{node_id=\"1\",node_name=\"pg1\"} 1.0",
                    "repmgr_daemon_running{node_id=\"2\",node_name=\"pg2\"} 1.0",
                    "repmgr_daemon_paused{node_id=\"1\",node_name=\"pg1\"} 0.0",
                    "repmgr_replication_lag_bytes{node_id=\"1\",node_name=\"pg1\"} NaN",
                    "repmgr_events_total{event=\"repmgrd_start\",successful=\"true\"} 2.0",
                    "repmgr_switchovers_total 0.0");

            OperationReport report = metrics.record(appMetrics.record(cluster.switchover(c2).execute()));
            assertThat(report.successful()).isTrue();
            await("pg2 to be the legitimate primary in the metrics", () ->
                    scrape(port2).contains("repmgr_node_primary{node_id=\"2\",node_name=\"pg2\"} 1.0"));
            text = scrape(port1);
            assertThat(text).contains("repmgr_switchovers_total 1.0",
                    "repmgr_events_total{event=\"standby_switchover\",successful=\"true\"} 1.0",
                    "repmgr_operation_seconds_count{operation=\"" + report.operation() + "\",outcome=\"success\"} 1",
                    "repmgr_node_timeline{node_id=\"2\",node_name=\"pg2\"} 2.0",
                    "repmgr_node_primary{node_id=\"1\",node_name=\"pg1\"} 0.0");

            assertThat(appRegistry.get("repmgr.node.primary").tag("node_name", "pg2").gauge().value()).isEqualTo(1.0);
            assertThat(appRegistry.get("repmgr.operation").tag("outcome", "success").timer().count()).isEqualTo(1);
            assertThat(appRegistry.get("repmgr.events").tag("event", "repmgrd_start").counter().count()).isEqualTo(2.0);

            assertThat(metrics.unbind(daemons.get(0))).isTrue();
            assertThat(metrics.unbind(daemons.get(0))).isFalse();
            assertThat(scrape(port2)).doesNotContain("node_name=\"pg1\"}").contains("node_name=\"pg2\"}");
        } finally {
            daemons.forEach(FailoverDaemon::close);
        }
    }

    private String scrape(int port) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain");
            return r.body();
        } catch (IOException e) {
            throw new AssertionError(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static void await(String what, BooleanSupplier c) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!c.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for: " + what);
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }
}
