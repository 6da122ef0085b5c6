package io.retina.platform.cluster;

import java.util.UUID;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.pubsub.Topic;

/**
 * The cluster-wide topic on which workers announce finished jobs, so that API nodes can answer
 * requests waiting on them ({@code Prefer: wait}). Like every message, an announcement may be lost;
 * waiters re-read the store.
 */
public final class JobEvents {
  public static final String TOPIC = "retina-job-events";

  private JobEvents() {}

  /** A job reached a final state. */
  public record JobFinished(UUID jobId, String status) implements CborSerializable {}

  /** Spawns this node's handle on the topic. */
  public static ActorRef<Topic.Command<JobFinished>> topic(ActorSystem<?> system) {
    return system.systemActorOf(
        Topic.create(JobFinished.class, TOPIC),
        "job-events-topic",
        org.apache.pekko.actor.typed.Props.empty());
  }
}
