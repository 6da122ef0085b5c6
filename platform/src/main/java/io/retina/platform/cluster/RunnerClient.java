package io.retina.platform.cluster;

import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;

/**
 * The one way to reach a version's runner, wherever it lives: the API tells it about new jobs and
 * asks for queue positions, the sweeper re-sends lost jobs, the admin routes prepare versions.
 * Thread-safe. Every tell may be lost; the store is the truth.
 */
public final class RunnerClient {
  /** A position is a nicety on a poll: better none than a slow poll. */
  private static final Duration POSITION_TIMEOUT = Duration.ofMillis(500);

  private final ClusterSharding sharding;
  private final LocalEntities local;
  private final java.util.concurrent.Executor dispatcher;

  public RunnerClient(ActorSystem<?> system) {
    this.sharding = ClusterSharding.get(system);
    this.local = LocalEntities.get(system);
    this.dispatcher = system.executionContext();
  }

  /**
   * Starts sharding for the runners as a proxy, on a node without the worker role: it routes
   * messages to the worker nodes and never hosts a runner.
   */
  public static void initProxy(ActorSystem<?> system) {
    ClusterSharding.get(system)
        .init(
            Entity.of(RunnerProtocol.ENTITY_KEY, ctx -> Behaviors.<RunnerProtocol.Command>empty())
                .withRole(RunnerProtocol.WORKER_ROLE));
  }

  /** Tells the version's runner that a job waits. */
  public void submitted(RunnerId runner, UUID jobId, UUID tenantId, int weight) {
    tell(runner, new RunnerProtocol.JobSubmitted(jobId, tenantId, weight));
  }

  /** Has the runner place and load its replicas now rather than at its first job. */
  public void prepare(RunnerId runner, String why) {
    tell(runner, new RunnerProtocol.Prepare(why));
  }

  /** Has the runner read its replica settings again. */
  public void settingsChanged(RunnerId runner) {
    tell(runner, new RunnerProtocol.SettingsChanged());
  }

  /** Asks the runner where a queued job stands; fails if it does not answer in time. */
  public CompletionStage<RunnerProtocol.QueuePosition> position(RunnerId runner, UUID jobId) {
    return Stages.plain(
        sharding
            .entityRefFor(RunnerProtocol.ENTITY_KEY, runner.toString())
            .ask(replyTo -> new RunnerProtocol.GetQueuePosition(jobId, replyTo), POSITION_TIMEOUT),
        dispatcher);
  }

  /** Straight to the runner when it lives on this node, else through sharding. */
  private void tell(RunnerId runner, RunnerProtocol.Command message) {
    ActorRef<RunnerProtocol.Command> here =
        local.find(RunnerProtocol.ENTITY_KEY, runner.toString());
    if (here != null) {
      here.tell(message);
    } else {
      sharding.entityRefFor(RunnerProtocol.ENTITY_KEY, runner.toString()).tell(message);
    }
  }
}
