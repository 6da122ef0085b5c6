package io.retina.platform.cluster;

import io.retina.platform.jobs.Job;
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

  /**
   * A job reached a final state; {@code job} is the job as committed when the announcer has it (a
   * success), so that a waiting request can answer without reading it again, else null.
   */
  public record JobFinished(UUID jobId, String status, Job job) implements CborSerializable {}

  /** Spawns this node's handle on the topic. */
  public static ActorRef<Topic.Command<JobFinished>> topic(ActorSystem<?> system) {
    return system.systemActorOf(
        Topic.create(JobFinished.class, TOPIC),
        "job-events-topic",
        org.apache.pekko.actor.typed.Props.empty());
  }
}
