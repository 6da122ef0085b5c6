package io.retina.api.jobs;

import io.retina.platform.cluster.JobEvents;
import io.retina.platform.jobs.Job;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.pubsub.Topic;

/**
 * Lets requests wait for jobs to finish ({@code Prefer: wait}) without holding a thread: a waiter
 * is a future completed when the job-events topic announces the job, or when its timeout passes,
 * whichever is first. Announcements can be lost, so callers re-read the store after every wake-up.
 * A job announced shortly before its waiter arrives (a fast job, a waiter that first read the
 * store) wakes it at once: the last {@link #REMEMBERED} announcements are kept. Thread-safe.
 */
public final class JobWaiters {
  /**
   * Announcements kept for waiters that come after them: a few seconds of a busy cluster's jobs, a
   * few hundred kilobytes of heap.
   */
  static final int REMEMBERED = 10_000;

  private final ActorRef<Command> actor;
  private final ActorSystem<?> system;

  public JobWaiters(ActorSystem<?> system, ActorRef<Topic.Command<JobEvents.JobFinished>> topic) {
    this.system = system;
    this.actor =
        system.systemActorOf(
            create(topic), "job-waiters", org.apache.pekko.actor.typed.Props.empty());
  }

  /**
   * Completes when the job is announced as finished, with the job as committed when the
   * announcement carries it, or empty after {@code timeout}, whichever comes first.
   */
  public CompletionStage<Optional<Job>> wake(UUID jobId, Duration timeout) {
    CompletableFuture<Optional<Job>> future = new CompletableFuture<>();
    actor.tell(new Watch(jobId, future));
    system
        .scheduler()
        .scheduleOnce(timeout, () -> future.complete(Optional.empty()), system.executionContext());
    future.whenComplete((v, e) -> actor.tell(new Forget(jobId, future)));
    return future;
  }

  interface Command {}

  private record Watch(UUID jobId, CompletableFuture<Optional<Job>> future) implements Command {}

  private record Forget(UUID jobId, CompletableFuture<Optional<Job>> future) implements Command {}

  private record Finished(JobEvents.JobFinished event) implements Command {}

  private static Behavior<Command> create(ActorRef<Topic.Command<JobEvents.JobFinished>> topic) {
    return Behaviors.setup(
        ctx -> {
          topic.tell(
              Topic.subscribe(ctx.messageAdapter(JobEvents.JobFinished.class, Finished::new)));
          Map<UUID, List<CompletableFuture<Optional<Job>>>> waiting = new HashMap<>();
          Set<UUID> finished =
              java.util.Collections.newSetFromMap(
                  new java.util.LinkedHashMap<>() {
                    @Override
                    protected boolean removeEldestEntry(Map.Entry<UUID, Boolean> eldest) {
                      return size() > REMEMBERED;
                    }
                  });
          return Behaviors.receive(Command.class)
              .onMessage(
                  Watch.class,
                  w -> {
                    if (finished.contains(w.jobId())) {
                      w.future().complete(Optional.empty()); // read it from the store
                    } else {
                      waiting.computeIfAbsent(w.jobId(), id -> new ArrayList<>()).add(w.future());
                    }
                    return Behaviors.same();
                  })
              .onMessage(
                  Forget.class,
                  f -> {
                    var list = waiting.get(f.jobId());
                    if (list != null && list.remove(f.future()) && list.isEmpty()) {
                      waiting.remove(f.jobId());
                    }
                    return Behaviors.same();
                  })
              .onMessage(
                  Finished.class,
                  f -> {
                    finished.add(f.event().jobId());
                    var list = waiting.remove(f.event().jobId());
                    if (list != null) {
                      Optional<Job> job = Optional.ofNullable(f.event().job());
                      list.forEach(future -> future.complete(job));
                    }
                    return Behaviors.same();
                  })
              .build();
        });
  }
}
