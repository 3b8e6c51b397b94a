/**
 * Optional Micrometer metrics for repmgr4j: {@link io.repmgr4j.metrics.RepmgrMetrics}
 * binds daemons' gauges, event counters and operation timers to any {@code MeterRegistry};
 * {@link io.repmgr4j.metrics.PrometheusMetricsText} serves a Prometheus registry at a
 * daemon's {@code /metrics}.
 */
package io.repmgr4j.metrics;
