package io.repmgr4j.metrics;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.repmgr4j.spi.MetricsText;
import java.util.Objects;

/**
 * A Micrometer Prometheus registry as a daemon's {@code /metrics}: give it to
 * {@code DaemonOptions.metrics(...)}, and bind {@link RepmgrMetrics} to
 * {@link #registry()}. Needs {@code io.micrometer:micrometer-registry-prometheus} on the
 * class path (an optional dependency of this module). Thread-safe.
 */
public final class PrometheusMetricsText implements MetricsText {
    private final PrometheusMeterRegistry registry;

    private PrometheusMetricsText(PrometheusMeterRegistry registry) {
        this.registry = registry;
    }

    /** A new Prometheus registry with Micrometer's default settings. */
    public static PrometheusMetricsText create() {
        return new PrometheusMetricsText(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    }

    /** Serves an existing Prometheus registry (the application's own, say). */
    public static PrometheusMetricsText of(PrometheusMeterRegistry registry) {
        return new PrometheusMetricsText(Objects.requireNonNull(registry, "registry"));
    }

    /** The registry served. */
    public PrometheusMeterRegistry registry() {
        return registry;
    }

    /** The Prometheus text format (0.0.4) of every meter on the registry. */
    @Override
    public String scrape() {
        return registry.scrape();
    }
}
