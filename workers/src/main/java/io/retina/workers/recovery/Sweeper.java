package io.retina.workers.recovery;

import io.retina.platform.cluster.RunnerClient;
import io.retina.platform.cluster.RunnerId;
import io.retina.platform.cluster.RunnerProtocol;
import io.retina.platform.jobs.JobLeases;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.SingletonActor;

/**
 * The cluster singleton that makes actor messages mere hints: every interval it fails jobs whose
 * attempts are used up or whose deadline has passed, and re-sends to their runners the jobs that
 * were never claimed (a lost dispatch) or whose lease expired (a dead worker). Idempotent: a runner
 * ignores a job it cannot claim.
 */
public final class Sweeper {

  /** What the sweeper handles. */
  public interface Command {}

  private enum Sweep implements Command {
    INSTANCE
  }

  private record Swept(List<JobLeases.Stray> strays, int failed, int expired, Throwable error)
      implements Command {}

  /**
   * How long after its deadline a running job is failed here. Its worker stops it within a second
   * of the deadline and fails it itself; this catches a worker that died or is stuck in one kernel.
   */
  static final Duration RUNNING_DEADLINE_GRACE = Duration.ofSeconds(5);

  /** Where the sweeper re-sends a job: its version's runner, through {@link RunnerClient}. */
  @FunctionalInterface
  public interface Resend {
    void submitted(RunnerId runner, java.util.UUID jobId, java.util.UUID tenantId, int weight);
  }

  /** The sweeper's terms, from {@code retina.workers.sweeper}. */
  public record Settings(Duration interval, Duration unclaimedAfter, int batch) {}

  /** Starts the singleton (on worker nodes) and returns nothing: it runs on its own. */
  public static void init(
      ActorSystem<?> system, JobLeases jobs, Settings settings, Executor blocking) {
    ClusterSingleton.get(system)
        .init(
            SingletonActor.of(
                    Behaviors.supervise(
                            create(jobs, settings, blocking, new RunnerClient(system)::submitted))
                        .onFailure(
                            SupervisorStrategy.restartWithBackoff(
                                Duration.ofSeconds(1), Duration.ofSeconds(30), 0.2)),
                    "job-sweeper")
                .withSettings(
                    org.apache.pekko.cluster.typed.ClusterSingletonSettings.create(system)
                        .withRole(RunnerProtocol.WORKER_ROLE)));
  }

  static Behavior<Command> create(
      JobLeases jobs, Settings settings, Executor blocking, Resend resend) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers -> {
                  timers.startTimerWithFixedDelay(Sweep.INSTANCE, settings.interval());
                  return idle(ctx, jobs, settings, blocking, resend);
                }));
  }

  private static Behavior<Command> idle(
      ActorContext<Command> ctx,
      JobLeases jobs,
      Settings settings,
      Executor blocking,
      Resend resend) {
    return Behaviors.receive(Command.class)
        .onMessageEquals(
            Sweep.INSTANCE,
            () -> {
              ctx.pipeToSelf(
                  CompletableFuture.supplyAsync(
                      () -> {
                        int failed = jobs.failExhausted();
                        int expired = jobs.failExpired(RUNNING_DEADLINE_GRACE);
                        return new Swept(
                            jobs.strays(settings.unclaimedAfter(), settings.batch()),
                            failed,
                            expired,
                            null);
                      },
                      blocking),
                  (swept, error) -> error != null ? new Swept(List.of(), 0, 0, error) : swept);
              return sweeping(ctx, jobs, settings, blocking, resend);
            })
        .onMessage(Swept.class, s -> Behaviors.same())
        .build();
  }

  private static Behavior<Command> sweeping(
      ActorContext<Command> ctx,
      JobLeases jobs,
      Settings settings,
      Executor blocking,
      Resend resend) {
    return Behaviors.receive(Command.class)
        .onMessageEquals(Sweep.INSTANCE, Behaviors::same)
        .onMessage(
            Swept.class,
            s -> {
              if (s.error() != null) {
                ctx.getLog().warn("sweep failed: {}", s.error().toString());
              } else {
                if (s.failed() > 0) {
                  ctx.getLog().warn("{} jobs failed after using up their attempts", s.failed());
                }
                if (s.expired() > 0) {
                  ctx.getLog().info("{} jobs failed past their deadline", s.expired());
                }
                for (JobLeases.Stray stray : s.strays()) {
                  resend.submitted(
                      new RunnerId(stray.modelName(), stray.modelVersion()),
                      stray.jobId(),
                      stray.tenantId(),
                      stray.weight());
                }
                if (!s.strays().isEmpty()) {
                  ctx.getLog()
                      .info("re-dispatched {} unclaimed or orphaned jobs", s.strays().size());
                }
              }
              return idle(ctx, jobs, settings, blocking, resend);
            })
        .build();
  }
}
