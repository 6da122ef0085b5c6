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
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.pubsub.Topic;

/**
 * Lets requests wait for jobs to change ({@code Prefer: wait}) without holding a thread: a waiter
 * is a future completed when the job-events topic announces the job (a start, progress, the
 * finish), or when its timeout passes, whichever is first. What is announced also goes to the
 * node's {@link JobSnapshots}. Announcements can be lost, so callers read the store again when they
 * have heard nothing of the job for a while. A job announced shortly before its waiter arrives (a
 * fast job, a waiter that first read the store) wakes it at once: the last {@link #REMEMBERED}
 * announcements are kept. Thread-safe.
 */
public final class JobWaiters {
  /**
   * Announcements kept for waiters that come after them: a few seconds of a busy cluster's jobs, a
   * few hundred kilobytes of heap.
   */
  static final int REMEMBERED = 10_000;

  private final ActorRef<Command> actor;
  private final ActorSystem<?> system;
  private final JobSnapshots snapshots = new JobSnapshots();

  public JobWaiters(ActorSystem<?> system, ActorRef<Topic.Command<JobEvents.JobEvent>> topic) {
    this.system = system;
    this.actor =
        system.systemActorOf(
            create(topic, snapshots), "job-waiters", org.apache.pekko.actor.typed.Props.empty());
  }

  /** What this node knows of recent jobs, kept up to date by the announcements. */
  public JobSnapshots snapshots() {
    return snapshots;
  }

  /**
   * Completes when the job is announced (started, further on, finished), with the job as committed
   * when the announcement carries it, or empty after {@code timeout}, whichever comes first.
   */
  public CompletionStage<Optional<Job>> wake(UUID jobId, Duration timeout) {
    return watch(jobId, timeout, false);
  }

  /**
   * As {@link #wake}, but only its finish wakes it: for a waited submission, which answers nothing
   * new before then.
   */
  public CompletionStage<Optional<Job>> wakeWhenFinished(UUID jobId, Duration timeout) {
    return watch(jobId, timeout, true);
  }

  private CompletionStage<Optional<Job>> watch(UUID jobId, Duration timeout, boolean finishOnly) {
    CompletableFuture<Optional<Job>> future = new CompletableFuture<>();
    actor.tell(new Watch(jobId, new Waiter(future, finishOnly)));
    Cancellable timer =
        system
            .scheduler()
            .scheduleOnce(
                timeout, () -> future.complete(Optional.empty()), system.executionContext());
    future.whenComplete(
        (v, e) -> {
          timer.cancel();
          if (!woken(v)) {
            actor.tell(new Forget(jobId, future));
          }
        });
    return future;
  }

  /**
   * Whether the waiter was completed by an announcement, which already took it out of the waiting
   * ones: only a waiter that timed out needs forgetting.
   */
  private static boolean woken(Optional<Job> value) {
    return value != null && value.isPresent();
  }

  private record Waiter(CompletableFuture<Optional<Job>> future, boolean finishOnly) {}

  interface Command {}

  private record Watch(UUID jobId, Waiter waiter) implements Command {}

  private record Forget(UUID jobId, CompletableFuture<Optional<Job>> future) implements Command {}

  private record Announced(JobEvents.JobEvent event) implements Command {}

  private static Behavior<Command> create(
      ActorRef<Topic.Command<JobEvents.JobEvent>> topic, JobSnapshots snapshots) {
    return Behaviors.setup(
        ctx -> {
          topic.tell(Topic.subscribe(ctx.messageAdapter(JobEvents.JobEvent.class, Announced::new)));
          Map<UUID, List<Waiter>> waiting = new HashMap<>();
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
                      w.waiter().future().complete(Optional.empty()); // read it from the store
                    } else {
                      waiting.computeIfAbsent(w.jobId(), id -> new ArrayList<>()).add(w.waiter());
                    }
                    return Behaviors.same();
                  })
              .onMessage(
                  Forget.class,
                  f -> {
                    var list = waiting.get(f.jobId());
                    if (list != null
                        && list.removeIf(w -> w.future() == f.future())
                        && list.isEmpty()) {
                      waiting.remove(f.jobId());
                    }
                    return Behaviors.same();
                  })
              .onMessage(
                  Announced.class,
                  a -> {
                    Job job;
                    if (a.event() instanceof JobEvents.JobFinished f) {
                      finished.add(f.jobId());
                      job = f.job();
                    } else {
                      job = ((JobEvents.JobChanged) a.event()).job();
                    }
                    if (job != null) {
                      snapshots.announced(job);
                    } else {
                      snapshots.forget(a.event().jobId()); // finished, but how: ask the store
                    }
                    boolean finish = a.event() instanceof JobEvents.JobFinished;
                    var list = waiting.get(a.event().jobId());
                    if (list != null) {
                      Optional<Job> announced = Optional.ofNullable(job);
                      list.removeIf(
                          w -> {
                            if (!finish && w.finishOnly()) {
                              return false;
                            }
                            w.future().complete(announced);
                            return true;
                          });
                      if (list.isEmpty()) {
                        waiting.remove(a.event().jobId());
                      }
                    }
                    return Behaviors.same();
                  })
              .build();
        });
  }
}
