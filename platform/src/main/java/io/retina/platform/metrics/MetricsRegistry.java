package io.retina.platform.metrics;

import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.DoubleSupplier;

/**
 * A set of metrics exposed in the Prometheus text format, version 0.0.4, for a {@code /metrics}
 * route to return with {@link #CONTENT_TYPE}.
 *
 * <p>Thread-safe: metrics may be registered, updated and scraped from any thread. Each name can be
 * registered once. A scrape lists metrics by name and children by label values, so its output is
 * deterministic for a given state.
 */
public final class MetricsRegistry {

  public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  /**
   * Request-latency buckets in seconds: from 5 ms, the fastest cached reply, up to 60 s, the
   * longest synchronous inference we let a client wait for. {@link #histogram} copies the array; do
   * not modify it.
   */
  public static final double[] LATENCY_SECONDS_BUCKETS = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60
  };

  private final Map<String, Metric<?>> metrics = new ConcurrentSkipListMap<>();

  /** Registers a counter; label values are then passed to {@link Counter#inc} in this order. */
  public Counter counter(String name, String help, String... labelNames) {
    return register(new Counter(name, help, labelNames));
  }

  /** Registers a histogram; {@code +Inf} is added to {@code buckets} if not already last. */
  public Histogram histogram(String name, String help, double[] buckets, String... labelNames) {
    return register(new Histogram(name, help, buckets, labelNames));
  }

  /** Registers an unlabelled gauge whose value is read from {@code supplier} at each scrape. */
  public Gauge gauge(String name, String help, DoubleSupplier supplier) {
    return register(new Gauge(name, help, supplier));
  }

  /** Every metric in the text exposition format: HELP and TYPE lines, then samples. */
  public String scrape() {
    StringBuilder out = new StringBuilder(4096);
    for (Metric<?> metric : metrics.values()) {
      metric.writeTo(out);
    }
    return out.toString();
  }

  private <M extends Metric<?>> M register(M metric) {
    if (metrics.putIfAbsent(metric.name(), metric) != null) {
      throw new IllegalArgumentException("metric " + metric.name() + " is already registered");
    }
    return metric;
  }
}
