package io.retina.workers.runners;

import io.retina.platform.metrics.Counter;
import io.retina.platform.metrics.Histogram;
import io.retina.platform.metrics.MetricsRegistry;

/**
 * The worker role's metrics: jobs finished by model and outcome, and how long inference and jobs
 * took.
 */
public final class WorkerMetrics {
  final Counter finished;
  final Histogram inference;
  final Histogram jobLatency;
  final Counter modelLoads;
  final Histogram batchSize;
  final Counter scalingDecisions;
  final Histogram stage;

  public WorkerMetrics(MetricsRegistry registry) {
    finished =
        registry.counter(
            "retina_jobs_finished_total",
            "Jobs that reached a final state on this node.",
            "model",
            "status");
    inference =
        registry.histogram(
            "retina_inference_seconds",
            "Time spent decoding, running the model and encoding the result, per job.",
            MetricsRegistry.LATENCY_SECONDS_BUCKETS,
            "model");
    jobLatency =
        registry.histogram(
            "retina_job_latency_seconds",
            "Time from a job's submission to its success.",
            MetricsRegistry.LATENCY_SECONDS_BUCKETS,
            "model");
    batchSize =
        registry.histogram(
            "retina_batch_size",
            "Jobs run through the model together, per run.",
            new double[] {1, 2, 4, 8, 16, 32, 64},
            "model");
    modelLoads =
        registry.counter(
            "retina_model_loads_total", "Model version loads by outcome.", "model", "outcome");
    stage =
        registry.histogram(
            "retina_job_stage_seconds",
            "Time a job spends in each stage on its worker: claim (the store, with the input),"
                + " run (decode, model, encode) and commit (the store, with the ledger row).",
            MetricsRegistry.LATENCY_SECONDS_BUCKETS,
            "model",
            "stage");
    scalingDecisions =
        registry.counter(
            "retina_scaling_decisions_total",
            "Replicas placed (up) or drained (down) by the runners hosted on this node.",
            "model",
            "direction");
  }
}
