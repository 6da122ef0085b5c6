package io.retina.workers.runners;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Meter.MeterProvider;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.retina.platform.metrics.NodeMetrics;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The worker role's meters, per model version ({@code model="name@version"}): jobs finished by
 * outcome; the time jobs wait, spend in each stage and take in all; batch sizes; model loads and
 * their time; scaling decisions; and, from the runners this node hosts, each version's replicas and
 * queue. Thread-safe: recorded from actors and the blocking executor alike.
 */
public final class WorkerMetrics {

  /**
   * Load-time buckets: a small model from the local cache loads in a fraction of a second, a large
   * one fetched and checked first in minutes.
   */
  private static final Duration[] LOAD_BUCKETS = {
    Duration.ofMillis(100),
    Duration.ofMillis(250),
    Duration.ofMillis(500),
    Duration.ofSeconds(1),
    Duration.ofMillis(2500),
    Duration.ofSeconds(5),
    Duration.ofSeconds(10),
    Duration.ofSeconds(30),
    Duration.ofSeconds(60),
    Duration.ofSeconds(120),
    Duration.ofSeconds(300)
  };

  private final MeterRegistry registry;
  private final MeterProvider<Counter> finished;
  private final MeterProvider<Timer> queueWait;
  private final MeterProvider<Timer> stage;
  private final MeterProvider<Timer> inference;
  private final MeterProvider<Timer> jobLatency;
  private final MeterProvider<DistributionSummary> batchSize;
  private final MeterProvider<Counter> loads;
  private final MeterProvider<Timer> loadTime;
  private final MeterProvider<Counter> scalingDecisions;

  public WorkerMetrics(MeterRegistry registry) {
    this.registry = registry;
    finished =
        Counter.builder("retina.jobs.finished")
            .description("Jobs that reached a final state on this node.")
            .withRegistry(registry);
    queueWait =
        latency(
            "retina.job.queue.wait",
            "Time from a job's submission until a worker claimed it, first attempts only.");
    stage =
        latency(
            "retina.job.stage",
            "Time a job spends in each stage on its worker: claim (the store, with the input),"
                + " run (decode, model, encode) and commit (the store, with the ledger row).");
    inference =
        latency(
            "retina.inference",
            "Time spent decoding, running the model and encoding the result, per job.");
    jobLatency = latency("retina.job.latency", "Time from a job's submission to its success.");
    batchSize =
        DistributionSummary.builder("retina.batch.size")
            .description("Jobs run through the model together, per run.")
            .serviceLevelObjectives(1, 2, 4, 8, 16, 32, 64)
            .withRegistry(registry);
    loads =
        Counter.builder("retina.model.loads")
            .description("Model version loads by outcome.")
            .withRegistry(registry);
    loadTime =
        Timer.builder("retina.model.load")
            .description("Time a replica took to load its model version, successful loads only.")
            .serviceLevelObjectives(LOAD_BUCKETS)
            .withRegistry(registry);
    scalingDecisions =
        Counter.builder("retina.scaling.decisions")
            .description(
                "Replicas placed (up) or drained (down) by the runners hosted on this node.")
            .withRegistry(registry);
  }

  private MeterProvider<Timer> latency(String name, String description) {
    return Timer.builder(name)
        .description(description)
        .serviceLevelObjectives(NodeMetrics.LATENCY_BUCKETS)
        .withRegistry(registry);
  }

  /** A job ended {@code succeeded}, {@code failed} or {@code stopped}. */
  void finished(String model, String status) {
    finished.withTags("model", model, "status", status).increment();
  }

  /** A job was claimed for the first time, {@code waited} after it was submitted. */
  void queueWait(String model, Duration waited) {
    queueWait.withTags("model", model).record(waited);
  }

  /** A job spent {@code nanos} in {@code stage} (claim, commit) on this worker. */
  void stage(String model, String stage, long nanos) {
    this.stage.withTags("model", model, "stage", stage).record(nanos, TimeUnit.NANOSECONDS);
  }

  /** A batch of {@code jobs} ran through the model in {@code nanos}: its run stage and size. */
  void ran(String model, int jobs, long nanos) {
    stage(model, "run", nanos);
    batchSize.withTags("model", model).record(jobs);
    Timer perJob = inference.withTags("model", model);
    for (int i = 0; i < jobs; i++) {
      perJob.record(nanos / jobs, TimeUnit.NANOSECONDS);
    }
  }

  /** A job succeeded {@code latency} after it was submitted. */
  void succeeded(String model, Duration latency) {
    jobLatency.withTags("model", model).record(latency);
  }

  /** A replica loaded its version in {@code nanos}. */
  void loaded(String model, long nanos) {
    loads.withTags("model", model, "outcome", "loaded").increment();
    loadTime.withTags("model", model).record(nanos, TimeUnit.NANOSECONDS);
  }

  /** A replica failed to load its version. */
  void loadFailed(String model) {
    loads.withTags("model", model, "outcome", "failed").increment();
  }

  /** A runner placed ({@code up}) or drained ({@code down}) a replica. */
  void scaled(String model, String direction) {
    scalingDecisions.withTags("direction", direction, "model", model).increment();
  }

  /** The gauges of the runner of {@code model} while this node hosts it. */
  RunnerGauges runner(String model) {
    return new RunnerGauges(registry, model);
  }

  /**
   * A version's replicas and queued jobs as its runner counts them, exposed by the node hosting the
   * runner: {@code retina_model_replicas} and {@code retina_model_queued_jobs}. The runner sets
   * them; the scrape reads them from another thread. Closed when the runner stops here, so that a
   * moved runner is counted once.
   */
  static final class RunnerGauges implements AutoCloseable {
    private final MeterRegistry registry;
    private final AtomicInteger replicas = new AtomicInteger();
    private final AtomicInteger queued = new AtomicInteger();
    private final List<Meter> meters;

    private RunnerGauges(MeterRegistry registry, String model) {
      this.registry = registry;
      this.meters =
          List.of(
              Gauge.builder("retina.model.replicas", replicas::get)
                  .description("Replicas of the version serving now, on any node.")
                  .tag("model", model)
                  .register(registry),
              Gauge.builder("retina.model.queued.jobs", queued::get)
                  .description("Jobs of the version waiting in its runner's queue.")
                  .tag("model", model)
                  .register(registry));
    }

    void set(int replicas, int queued) {
      this.replicas.set(replicas);
      this.queued.set(queued);
    }

    @Override
    public void close() {
      meters.forEach(registry::remove);
    }
  }
}
