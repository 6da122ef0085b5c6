package io.retina.platform.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;

/**
 * One node's meters, served at {@code /metrics} in Prometheus's text format: what the node's code
 * records in {@link #registry()}, and the JVM's own meters (memory, garbage collection, threads,
 * class loading, CPU, uptime, open files). Micrometer names a meter {@code a.b} as {@code a_b},
 * adds {@code _total} to counters and the base unit ({@code _seconds}, {@code _bytes}) to timers
 * and sized gauges.
 *
 * <p>Thread-safe: meters may be registered, updated and scraped from any thread. One per node, so
 * that nodes sharing a JVM (tests) count apart; close it when the node stops.
 */
public final class NodeMetrics implements AutoCloseable {

  /** Prometheus's text exposition format, version 0.0.4, as its scrapers ask for it. */
  public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  /**
   * Latency buckets: from 5 ms, the fastest cached reply, up to 60 s, the longest synchronous
   * inference a client is let wait for. Explicit buckets rather than Micrometer's percentile
   * histogram, which has about 70 per series: these few are enough for {@code histogram_quantile}
   * over the ranges that matter and keep a version's series cheap. Do not modify the array.
   */
  public static final Duration[] LATENCY_BUCKETS = {
    Duration.ofMillis(5),
    Duration.ofMillis(10),
    Duration.ofMillis(25),
    Duration.ofMillis(50),
    Duration.ofMillis(100),
    Duration.ofMillis(250),
    Duration.ofMillis(500),
    Duration.ofSeconds(1),
    Duration.ofMillis(2500),
    Duration.ofSeconds(5),
    Duration.ofSeconds(10),
    Duration.ofSeconds(30),
    Duration.ofSeconds(60)
  };

  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final JvmGcMetrics gc = new JvmGcMetrics();

  public NodeMetrics() {
    new JvmMemoryMetrics().bindTo(registry);
    gc.bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    new FileDescriptorMetrics().bindTo(registry);
  }

  /** Where the node's code registers and updates its meters. */
  public MeterRegistry registry() {
    return registry;
  }

  /** Every meter in the text exposition format ({@link #CONTENT_TYPE}): HELP, TYPE, samples. */
  public String scrape() {
    return registry.scrape();
  }

  /** Stops listening for garbage collections and closes the registry. */
  @Override
  public void close() {
    gc.close();
    registry.close();
  }
}
