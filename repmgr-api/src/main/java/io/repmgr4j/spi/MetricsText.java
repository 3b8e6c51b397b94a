package io.repmgr4j.spi;

/**
 * A source of metrics as text, served by a daemon's HTTP endpoint at {@code /metrics}
 * (the {@code repmgr-metrics} module gives one over a Micrometer Prometheus registry).
 * Core depends on this interface only, never on a metrics library. Implementations must be
 * thread-safe and return within a few milliseconds.
 */
public interface MetricsText {

    /** The metrics now, in the format {@link #contentType()} names. */
    String scrape();

    /** The HTTP content type of {@link #scrape()}; default Prometheus text format 0.0.4. */
    default String contentType() {
        return "text/plain; version=0.0.4; charset=utf-8";
    }
}
