package io.retina.platform.cluster;

import io.retina.platform.jobs.Job;
import java.util.UUID;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.pubsub.Topic;

/**
 * The cluster-wide topic on which workers announce what happens to jobs (a start, progress, the
 * finish), so that API nodes answer requests waiting on them ({@code Prefer: wait}) and polls of an
 * unchanged job without reading the store. Like every message, an announcement may be lost; API
 * nodes read the store again when they have heard nothing of a job for a while.
 */
public final class JobEvents {
  public static final String TOPIC = "retina-job-events";

  private JobEvents() {}

  /** What the topic carries. */
  public sealed interface JobEvent extends CborSerializable permits JobChanged, JobFinished {
    UUID jobId();
  }

  /** A job started or got further: {@code job} is the job as committed. */
  public record JobChanged(UUID jobId, Job job) implements JobEvent {}

  /**
   * A job reached a final state; {@code job} is the job as committed when the announcer has it (a
   * success), so that a waiting request can answer without reading it again, else null.
   */
  public record JobFinished(UUID jobId, String status, Job job) implements JobEvent {}

  /** Spawns this node's handle on the topic. */
  public static ActorRef<Topic.Command<JobEvent>> topic(ActorSystem<?> system) {
    return system.systemActorOf(
        Topic.create(JobEvent.class, TOPIC),
        "job-events-topic",
        org.apache.pekko.actor.typed.Props.empty());
  }
}
