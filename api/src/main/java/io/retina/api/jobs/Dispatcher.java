package io.retina.api.jobs;

import io.retina.platform.cluster.ModelRunnerProtocol.QueuePosition;
import java.util.UUID;
import java.util.concurrent.CompletionStage;

/**
 * How the API tier talks to the model runners: hints about new jobs, and questions about queued
 * ones.
 */
public interface Dispatcher {
  /** Tells the runner of {@code runnerId} ({@code name@version}) that a job waits; may be lost. */
  void submitted(String runnerId, UUID jobId, UUID tenantId, int weight);

  /**
   * Has the runner of {@code runnerId} load its version now rather than at its first job; may be
   * lost, in which case the first job loads it.
   */
  void prepare(String runnerId, String why);

  /** Asks the runner where a queued job stands; fails if the runner does not answer in time. */
  CompletionStage<QueuePosition> position(String runnerId, UUID jobId);
}
