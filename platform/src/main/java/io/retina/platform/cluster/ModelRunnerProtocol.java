package io.retina.platform.cluster;

import java.util.UUID;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;

/**
 * What the API tier may say to the sharded model runners, one entity per model version (entity id
 * {@code name@version}), hosted only on nodes with the worker role. Messages are hints: sharding
 * delivers at most once, and the store stays the truth.
 */
public final class ModelRunnerProtocol {
  public static final String WORKER_ROLE = "worker";

  public static final EntityTypeKey<Command> ENTITY_KEY =
      EntityTypeKey.create(Command.class, "ModelRunner");

  private ModelRunnerProtocol() {}

  /** A message to a model runner. */
  public interface Command extends CborSerializable {}

  /**
   * Tells the runner a job for its version was stored and waits to be claimed. The tenant and its
   * plan's weight place the job in the runner's fair queue.
   */
  public record JobSubmitted(UUID jobId, UUID tenantId, int weight) implements Command {}

  /**
   * Asks the runner to be ready: a runner loads its version when it starts, so this only starts it.
   * Sent when a version is uploaded or promoted, so that the registry soon says whether it loads
   * and the first job after a promotion does not wait for the load. {@code why} is for the log.
   */
  public record Prepare(String why) implements Command {}

  /** Asks where a queued job stands in the runner's fair order. */
  public record GetQueuePosition(UUID jobId, ActorRef<QueuePosition> replyTo) implements Command {}

  /**
   * A queued job's place: {@code position} jobs will start before it (-1 when the runner does not
   * hold it), and it should start in about {@code estimatedStartMillis}, from the runner's recent
   * job times.
   */
  public record QueuePosition(int position, long estimatedStartMillis)
      implements CborSerializable {}

  /** Asks the runner how it is doing, for health and the admin view. */
  public record GetStatus(ActorRef<RunnerStatus> replyTo) implements Command {}

  /** A runner's state: loaded or not, why not, and how much it holds. */
  public record RunnerStatus(
      String version, boolean loaded, String loadError, int queued, int running, String node)
      implements CborSerializable {}

  /**
   * Starts sharding for the runners as a proxy, on a node without the worker role: it routes
   * messages to the worker nodes and never hosts an entity.
   */
  public static void initProxy(ActorSystem<?> system) {
    ClusterSharding.get(system)
        .init(Entity.of(ENTITY_KEY, ctx -> Behaviors.<Command>empty()).withRole(WORKER_ROLE));
  }
}
