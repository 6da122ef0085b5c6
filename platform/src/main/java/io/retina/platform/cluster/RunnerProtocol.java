package io.retina.platform.cluster;

import java.util.UUID;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;

/**
 * What the rest of the cluster may say to a model version's runner: one sharded entity per version
 * (entity id {@link RunnerId}), hosted on worker nodes, which keeps the version's one fair queue
 * and feeds it to the version's replicas. Messages are hints: sharding delivers at most once, and
 * the store stays the truth. Send them through {@link RunnerClient}.
 */
public final class RunnerProtocol {
  public static final String WORKER_ROLE = "worker";

  public static final EntityTypeKey<Command> ENTITY_KEY =
      EntityTypeKey.create(Command.class, "ModelRunner");

  private RunnerProtocol() {}

  /** A message to a version's runner. */
  public interface Command extends CborSerializable {}

  /**
   * A job for the version was stored and waits to be claimed. The tenant and its plan's weight
   * place the job in the version's fair queue.
   */
  public record JobSubmitted(UUID jobId, UUID tenantId, int weight) implements Command {}

  /**
   * Asks the runner to be ready (its minimum of replicas placed and loaded) before the first job.
   * Sent when a version is uploaded or promoted; {@code why} is for the log.
   */
  public record Prepare(String why) implements Command {}

  /** The version's replica settings changed in the store: read them again now. */
  public record SettingsChanged() implements Command {}

  /** Asks where a queued job stands in the version's fair order. */
  public record GetQueuePosition(UUID jobId, ActorRef<QueuePosition> replyTo) implements Command {}

  /**
   * A queued job's place: {@code position} jobs will start before it (-1 when the runner does not
   * hold it), and it should start in about {@code estimatedStartMillis}, from the replicas'
   * measured service times.
   */
  public record QueuePosition(int position, long estimatedStartMillis)
      implements CborSerializable {}
}
