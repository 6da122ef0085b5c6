package io.retina.server;

import io.retina.api.jobs.Dispatcher;
import io.retina.platform.cluster.ModelRunnerProtocol;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * The API's dispatcher over cluster sharding: one runner entity per model version, wherever it
 * lives.
 */
final class ShardedDispatcher implements Dispatcher {
  /** A position is a nicety on a poll: better none than a slow poll. */
  private static final Duration POSITION_TIMEOUT = Duration.ofMillis(500);

  private final ClusterSharding sharding;

  ShardedDispatcher(ActorSystem<?> system) {
    this.sharding = ClusterSharding.get(system);
  }

  @Override
  public void submitted(String runnerId, UUID jobId, UUID tenantId, int weight) {
    sharding
        .entityRefFor(ModelRunnerProtocol.ENTITY_KEY, runnerId)
        .tell(new ModelRunnerProtocol.JobSubmitted(jobId, tenantId, weight));
  }

  @Override
  public void prepare(String runnerId, String why) {
    sharding
        .entityRefFor(ModelRunnerProtocol.ENTITY_KEY, runnerId)
        .tell(new ModelRunnerProtocol.Prepare(why));
  }

  @Override
  public CompletionStage<ModelRunnerProtocol.QueuePosition> position(String runnerId, UUID jobId) {
    return sharding
        .entityRefFor(ModelRunnerProtocol.ENTITY_KEY, runnerId)
        .ask(replyTo -> new ModelRunnerProtocol.GetQueuePosition(jobId, replyTo), POSITION_TIMEOUT);
  }
}
