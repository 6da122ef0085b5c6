package io.retina.workers.runners;

import io.retina.platform.cluster.JobEvents;
import io.retina.platform.cluster.RunnerLoads;
import io.retina.platform.cluster.Scaling;
import io.retina.platform.cluster.ScalingStore;
import io.retina.platform.jobs.JobLeases;
import io.retina.platform.tracing.Tracing;
import io.retina.workers.models.ModelLoader;
import java.time.Duration;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.pubsub.Topic;

/**
 * What a worker node's runners and replicas share: the job leases, the scaling store, the loader,
 * the blocking executor that runs TensorFlow and JDBC, the lease terms, the scaling terms, how many
 * model runs a replica makes at once ({@code parallelism}) and how many more jobs it prepares and
 * finishes beside them ({@code pipeline}), the node's device ("cpu" or "gpu"), and its tracing.
 * Immutable.
 */
public record WorkerContext(
    JobLeases leases,
    ModelLoader loader,
    ScalingStore scaling,
    Scaling defaultScaling,
    Autoscaler.Settings autoscaling,
    Duration lease,
    int parallelism,
    int pipeline,
    boolean batching,
    Executor blocking,
    String nodeName,
    String device,
    ActorRef<Topic.Command<JobEvents.JobEvent>> jobEvents,
    ActorRef<Topic.Command<RunnerLoads.Load>> loads,
    ActorRef<Residency.Command> residency,
    WorkerMetrics metrics,
    Tracing tracing) {

  public WorkerContext {
    if (parallelism < 1 || pipeline < 0) {
      throw new IllegalArgumentException(
          "retina.workers.parallelism must be at least 1 and retina.workers.pipeline at least 0, not "
              + parallelism
              + " and "
              + pipeline);
    }
  }
}
