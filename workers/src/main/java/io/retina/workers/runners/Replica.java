package io.retina.workers.runners;

import io.retina.platform.cluster.RunnerId;
import io.retina.platform.cluster.RunnerProtocol;
import io.retina.platform.models.ModelVersion;
import io.retina.workers.budget.ModelSlots;
import io.retina.workers.models.ModelLoader;
import io.retina.workers.tasks.ImageTask;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.RecipientRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One replica of a model version on this node: it loads the version once, takes the jobs its
 * version's runner hands it (never more than it can start), runs at most {@code parallelism}
 * batches at a time through its model and {@code pipeline} more through the stages around it
 * (claim, decode, encode, commit; {@link ModelSlots}) with {@link JobExecution}, and reports to the
 * runner every second and after every batch what it holds and how fast it goes. After a batch it
 * tells the runner that handed it the work, straight; every second it reaches its runner through
 * sharding, so a runner that moved to another node hears from it within a second. Told to drain, it
 * hands back what it has not started, finishes what it has, and stops. Spawned by this node's
 * {@link ReplicaHost}.
 */
public final class Replica {
  private static final Logger log = LoggerFactory.getLogger(Replica.class);

  /** A message to a replica. */
  public interface Command extends io.retina.platform.cluster.CborSerializable {}

  /** The runner hands the replica jobs to claim and run. */
  public record Work(List<UUID> jobIds, ActorRef<RunnerProtocol.Command> runner)
      implements Command {}

  /** The runner (or this node's shutdown) asks the replica to finish its work and stop. */
  public record Drain(String reason) implements Command {}

  private record Loaded(ModelLoader.Loaded loaded) implements Command {}

  private record EvictRequested(Residency.Evict request) implements Command {}

  private record BatchEnded(List<JobExecution.Outcome> outcomes, long millis) implements Command {}

  private record RunnerGone(ActorRef<RunnerProtocol.Command> runner) implements Command {}

  /** What a batch's thread brings back: its outcomes and how long it waited for a model slot. */
  private record Ran(List<JobExecution.Outcome> outcomes, long slotWaitNanos) {}

  private enum FlushBatch implements Command {
    INSTANCE
  }

  private enum Tick implements Command {
    INSTANCE
  }

  private enum RenewLeases implements Command {
    INSTANCE
  }

  /** How often a replica tells its runner how it is, besides after every batch. */
  static final Duration REPORT_EVERY = Duration.ofSeconds(1);

  public static Behavior<Command> create(
      RunnerId id, RecipientRef<RunnerProtocol.Command> runner, WorkerContext worker) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(timers -> new Replica(ctx, timers, id, runner, worker).start()));
  }

  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final RunnerId id;

  /** The runner through sharding, wherever it lives. */
  private final RecipientRef<RunnerProtocol.Command> runner;

  private final WorkerContext worker;

  /** The runner that last handed this replica work, while it lives; null before any. */
  private ActorRef<RunnerProtocol.Command> handing;

  private long reports;

  private final ArrayDeque<UUID> waiting = new ArrayDeque<>();
  private final Set<UUID> running = new HashSet<>();
  private int batchesRunning;
  private long received;
  private long waitingSince;
  private long loadStarted;

  private ModelVersion version;
  private JobExecution execution;
  private ModelSlots slots;
  private ModelLoader.Loaded loaded;
  private String state = ModelRunner.LOADING;
  private String drainReason;

  /** Recent wall time of one job on one slot, smoothed: the runner's basis for waits. */
  private double averageJobMillis = -1;

  private Replica(
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      RunnerId id,
      RecipientRef<RunnerProtocol.Command> runner,
      WorkerContext worker) {
    this.ctx = ctx;
    this.timers = timers;
    this.id = id;
    this.runner = runner;
    this.worker = worker;
  }

  private Behavior<Command> start() {
    timers.startTimerWithFixedDelay(Tick.INSTANCE, REPORT_EVERY);
    timers.startTimerWithFixedDelay(RenewLeases.INSTANCE, worker.lease().dividedBy(3));
    ModelLoader loader = worker.loader();
    loadStarted = System.nanoTime();
    ctx.pipeToSelf(
        CompletableFuture.supplyAsync(() -> loader.load(id), worker.blocking()),
        (l, error) ->
            new Loaded(
                error != null
                    ? new ModelLoader.Loaded(null, null, 0, ModelLoader.reason(error))
                    : l));
    report();
    return Behaviors.receive(Command.class)
        .onMessage(Work.class, this::onWork)
        .onMessage(Drain.class, this::onDrain)
        .onMessage(Loaded.class, this::onLoaded)
        .onMessage(EvictRequested.class, this::onEvictRequested)
        .onMessage(BatchEnded.class, this::onBatchEnded)
        .onMessage(RunnerGone.class, this::onRunnerGone)
        .onMessageEquals(FlushBatch.INSTANCE, this::onFlushBatch)
        .onMessageEquals(Tick.INSTANCE, this::onTick)
        .onMessageEquals(RenewLeases.INSTANCE, this::onRenewLeases)
        .onSignal(PostStop.class, s -> onPostStop())
        .build();
  }

  private Behavior<Command> onLoaded(Loaded m) {
    loaded = m.loaded();
    version = loaded.version();
    execution = new JobExecution(worker, id.toString(), version, loaded.task(), loaded.error());
    slots = new ModelSlots(worker.parallelism());
    if (loaded.ok()) {
      log.info("{} loaded on {}", id, worker.nodeName());
      worker.metrics().loaded(id.toString(), System.nanoTime() - loadStarted);
      worker
          .residency()
          .tell(
              new Residency.Loaded(
                  id.toString(),
                  loaded.bytes(),
                  ctx.messageAdapter(Residency.Evict.class, EvictRequested::new)));
      state = ModelRunner.READY;
    } else {
      log.error("{} failed to load on {}: {}", id, worker.nodeName(), loaded.error());
      worker.metrics().loadFailed(id.toString());
      state = ModelRunner.FAILED;
    }
    if (drainReason != null) {
      state = ModelRunner.DRAINING;
      return leaveIfDone();
    }
    startMore();
    report();
    return Behaviors.same();
  }

  private Behavior<Command> onWork(Work m) {
    received += m.jobIds().size();
    // a runner of a build before the field (a rolling update) sends none: report through sharding
    if (m.runner() != null && !m.runner().equals(handing)) {
      if (handing != null) {
        ctx.unwatch(handing);
      }
      handing = m.runner();
      ctx.watchWith(handing, new RunnerGone(handing));
    }
    if (drainReason != null) {
      toRunner().tell(new ModelRunner.JobsReturned(ctx.getSelf(), m.jobIds()));
      return Behaviors.same();
    }
    for (UUID job : m.jobIds()) {
      if (!running.contains(job) && !waiting.contains(job)) {
        if (waiting.isEmpty()) {
          waitingSince = System.nanoTime();
        }
        waiting.add(job);
      }
    }
    startMore();
    return Behaviors.same();
  }

  /** Jobs of one batch: the version's batch size where batching applies, else one. */
  private int batchSize() {
    return worker.batching() && version != null && version.batchSafe() ? version.maxBatchSize() : 1;
  }

  private void startMore() {
    if (execution == null) {
      return;
    }
    while (batchesRunning < inFlight() && !waiting.isEmpty()) {
      int max = batchSize();
      long waited = (System.nanoTime() - waitingSince) / 1_000_000;
      if (max > 1 && waiting.size() < max && waited < version.maxBatchDelayMs()) {
        timers.startSingleTimer(
            FlushBatch.INSTANCE,
            Duration.ofMillis(Math.max(1, version.maxBatchDelayMs() - waited)));
        return;
      }
      List<UUID> batch = new ArrayList<>();
      while (batch.size() < max && !waiting.isEmpty()) {
        batch.add(waiting.poll());
      }
      waitingSince = System.nanoTime();
      running.addAll(batch);
      batchesRunning++;
      worker.residency().tell(new Residency.Used(id.toString()));
      long started = System.nanoTime();
      JobExecution exec = execution;
      ModelSlots modelSlots = slots;
      ctx.pipeToSelf(
          CompletableFuture.supplyAsync(
              () -> {
                try (var bound = modelSlots.bind()) {
                  ModelSlots.startCounting();
                  return new Ran(exec.execute(batch), ModelSlots.waitedNanos());
                }
              },
              worker.blocking()),
          (ran, error) -> {
            // the time it held a place in the pipeline without the model: the service time excludes
            // the wait for a slot, which the queue's length already accounts for
            long nanos = System.nanoTime() - started - (ran == null ? 0 : ran.slotWaitNanos());
            long millis = Math.max(0, nanos / 1_000_000);
            if (error != null) {
              log.error(
                  "jobs {} of {} broke unexpectedly; their leases will expire", batch, id, error);
              return new BatchEnded(
                  batch.stream().map(j -> new JobExecution.Outcome(j, null, "released")).toList(),
                  millis);
            }
            return new BatchEnded(ran.outcomes(), millis);
          });
    }
  }

  /**
   * Batches this replica holds at once: those in its model and those in the stages around it. A
   * replica that batches has no pipeline: its batches at once already overlap one's decoding with
   * another's model run, and each batch more would take that many jobs out of the fair queue ahead
   * of other tenants' (SchedulingTest). Nor does one whose task has not run a model (resize): there
   * is nothing to overlap, only more jobs contending for the cores at once.
   */
  private int inFlight() {
    boolean pipelined = batchSize() == 1 && slots != null && slots.used();
    return worker.parallelism() + (pipelined ? worker.pipeline() : 0);
  }

  private Behavior<Command> onFlushBatch() {
    waitingSince = System.nanoTime() - Duration.ofMillis(version.maxBatchDelayMs()).toNanos();
    startMore();
    return Behaviors.same();
  }

  private Behavior<Command> onBatchEnded(BatchEnded m) {
    batchesRunning--;
    long ran = m.outcomes().stream().filter(JobExecution.Outcome::ran).count();
    if (ran > 0) {
      double perJob = (double) m.millis() / ran;
      // an exponential moving average over roughly the last ten batches, per job
      averageJobMillis = averageJobMillis < 0 ? perJob : 0.9 * averageJobMillis + 0.1 * perJob;
    }
    // the finished ones were announced by the execution as it committed them
    for (JobExecution.Outcome o : m.outcomes()) {
      running.remove(o.jobId());
    }
    if (drainReason != null) {
      return leaveIfDone();
    }
    startMore();
    report();
    return Behaviors.same();
  }

  private Behavior<Command> onDrain(Drain m) {
    if (drainReason == null) {
      drainReason = m.reason();
      log.info("{} on {} drains: {}", id, worker.nodeName(), m.reason());
      if (!waiting.isEmpty()) {
        toRunner().tell(new ModelRunner.JobsReturned(ctx.getSelf(), List.copyOf(waiting)));
        waiting.clear();
      }
      if (execution != null) {
        state = ModelRunner.DRAINING;
      }
    }
    return execution == null ? Behaviors.same() : leaveIfDone();
  }

  /** Stops once nothing runs, telling the runner it left. */
  private Behavior<Command> leaveIfDone() {
    if (!running.isEmpty()) {
      report();
      return Behaviors.same();
    }
    toRunner().tell(new ModelRunner.ReplicaLeft(ctx.getSelf(), worker.nodeName(), drainReason));
    return Behaviors.stopped();
  }

  /** Unloads when idle, so that another version can have the memory; declines when busy. */
  private Behavior<Command> onEvictRequested(EvictRequested m) {
    boolean idle = running.isEmpty() && waiting.isEmpty() && drainReason == null;
    m.request().replyTo().tell(new Residency.Idle(id.toString(), idle));
    if (!idle) {
      return Behaviors.same();
    }
    drainReason = ModelRunner.YIELDED_MEMORY;
    return leaveIfDone();
  }

  private Behavior<Command> onTick() {
    report(runner);
    return Behaviors.same();
  }

  private Behavior<Command> onRunnerGone(RunnerGone m) {
    if (m.runner().equals(handing)) {
      handing = null;
    }
    return Behaviors.same();
  }

  /** The runner that handed this replica work, straight, or through sharding if none lives. */
  private RecipientRef<RunnerProtocol.Command> toRunner() {
    return handing != null ? handing : runner;
  }

  private Behavior<Command> onRenewLeases() {
    if (execution != null && !running.isEmpty()) {
      JobExecution exec = execution;
      CompletableFuture.runAsync(exec::renewLeases, worker.blocking());
    }
    return Behaviors.same();
  }

  /** Tells the runner what this replica holds and how much more it can take. */
  private void report() {
    report(toRunner());
  }

  private void report(RecipientRef<RunnerProtocol.Command> to) {
    int capacity = drainReason != null || execution == null ? 0 : inFlight() * batchSize();
    List<UUID> holding = new ArrayList<>(running);
    holding.addAll(waiting);
    to.tell(
        new ModelRunner.ReplicaReport(
            ctx.getSelf(),
            ++reports,
            worker.nodeName(),
            state,
            capacity,
            received,
            holding,
            averageJobMillis < 0 ? -1 : Math.round(averageJobMillis / worker.parallelism()),
            loaded == null ? 0 : loaded.bytes(),
            loaded == null ? null : loaded.error()));
  }

  private Behavior<Command> onPostStop() {
    if (loaded != null && loaded.ok()) {
      ImageTask task = loaded.task();
      task.close();
      worker.residency().tell(new Residency.Unloaded(id.toString()));
    }
    return Behaviors.same();
  }
}
