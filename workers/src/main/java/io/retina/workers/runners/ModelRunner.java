package io.retina.workers.runners;

import io.retina.platform.cluster.JobEvents;
import io.retina.platform.cluster.ModelRunnerProtocol;
import io.retina.platform.cluster.ModelRunnerProtocol.Command;
import io.retina.platform.jobs.ContentDigest;
import io.retina.platform.jobs.JobLeases;
import io.retina.platform.jobs.JobLeases.Claim;
import io.retina.platform.models.ModelArchive;
import io.retina.platform.models.ModelLoads;
import io.retina.platform.models.ModelVersion;
import io.retina.workers.budget.WorkBudget;
import io.retina.workers.budget.WorkStoppedException;
import io.retina.workers.models.ArtifactStore;
import io.retina.workers.models.CanonicalModels;
import io.retina.workers.tasks.ImageTask;
import io.retina.workers.tasks.ImageTasks;
import io.retina.workers.tasks.InvalidInputException;
import io.retina.workers.tasks.TaskOutput;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sharded runner of one model version on this node (entity id {@code name@version}). It loads
 * the model once, keeps a queue of job ids it was told about, claims each from the store before
 * running it, runs at most {@code parallelism} at a time on the blocking executor, and commits each
 * outcome fenced by the attempt it claimed. Its queue is only a hint: the store holds every job,
 * and the sweeper re-sends what a lost runner dropped.
 */
public final class ModelRunner {
  private static final Logger log = LoggerFactory.getLogger(ModelRunner.class);

  /** The model finished loading, or failed to. */
  private record Loaded(ModelVersion version, ImageTask task, long bytes, Throwable error)
      implements Command {}

  /** This node's residency keeper asks the runner to unload its version if it is idle. */
  private record EvictRequested(Residency.Evict request) implements Command {}

  /** Jobs this runner started together have ended, however each ended, after {@code millis}. */
  private record BatchEnded(List<Outcome> outcomes, long millis) implements Command {}

  /** The batch delay of the oldest queued job is over: start what is queued. */
  private enum FlushBatch implements Command {
    INSTANCE
  }

  /** Time to renew the leases of the jobs running here. */
  private enum RenewLeases implements Command {
    INSTANCE
  }

  /** Sharding asks the runner to stop (passivation, rebalance, shutdown). */
  private enum Stop implements Command {
    INSTANCE
  }

  /** Starts the runners' sharding on a worker node. */
  public static void init(ActorSystem<?> system, WorkerContext worker) {
    ClusterSharding.get(system)
        .init(
            Entity.of(
                    ModelRunnerProtocol.ENTITY_KEY,
                    ctx -> create(ctx.getEntityId(), ctx.getShard(), worker))
                .withRole(ModelRunnerProtocol.WORKER_ROLE)
                .withStopMessage(Stop.INSTANCE));
  }

  public static Behavior<Command> create(
      String versionRef, ActorRef<ClusterSharding.ShardCommand> shard, WorkerContext worker) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers -> new ModelRunner(ctx, timers, versionRef, shard, worker).loading()));
  }

  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;

  /** When the oldest job now queued began to wait for a batch to fill (System.nanoTime). */
  private long queueWaitingSince;

  private final String versionRef;
  private final WorkerContext worker;
  private final FairQueue queue = new FairQueue();

  /** Recent job wall time, smoothed: the basis of start estimates. */
  private double averageJobMillis = 1000;

  /** Jobs started and not yet ended; owned by the actor. */
  private final Set<UUID> running = new HashSet<>();

  /** The claims of running jobs, written by the executor threads, read to renew their leases. */
  private final Map<UUID, Claim> held = new ConcurrentHashMap<>();

  private final ActorRef<ClusterSharding.ShardCommand> shard;
  private ModelVersion version;
  private ImageTask task;
  private String loadError;
  private boolean stopping;

  private ModelRunner(
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      String versionRef,
      ActorRef<ClusterSharding.ShardCommand> shard,
      WorkerContext worker) {
    this.ctx = ctx;
    this.shard = shard;
    this.timers = timers;
    this.versionRef = versionRef;
    this.worker = worker;
    Duration every = worker.lease().dividedBy(3);
    timers.startTimerWithFixedDelay(RenewLeases.INSTANCE, every);
    ctx.pipeToSelf(
        CompletableFuture.supplyAsync(this::load, worker.blocking()),
        (loaded, error) -> error != null ? new Loaded(null, null, 0, error) : loaded);
  }

  private Loaded load() {
    int at = versionRef.lastIndexOf('@');
    String name = versionRef.substring(0, at);
    int number = Integer.parseInt(versionRef.substring(at + 1));
    ModelVersion v =
        worker
            .models()
            .find(name, number)
            .orElseThrow(() -> new IllegalStateException("no model version " + versionRef));
    Map<String, String> options = new HashMap<>(v.artifact());
    options.remove("root");
    options.remove(ModelArchive.STORE_OPTION); // says where the artifact is; not a model file
    CanonicalModels canonical = new CanonicalModels(worker.modelCache());
    Loaded loaded;
    try {
      Path dir = new ArtifactStore(worker.models()).materialize(v, worker.modelCache());
      ImageTask t = ImageTasks.load(v.task(), dir, options, canonical);
      long warm = Warmup.run(t);
      log.info("{} warmed up in {} ms", versionRef, warm);
      loaded =
          new Loaded(
              v,
              t,
              Footprint.bytes(
                  canonical.loaded().stream().map(CanonicalModels.Loaded::form).toList()),
              null);
    } catch (Exception | OutOfMemoryError e) {
      loaded = new Loaded(v, null, 0, e);
    }
    report(v, loaded, canonical.loaded());
    return loaded;
  }

  /** Tells the registry how this node's load went; a store outage only costs the record. */
  private void report(ModelVersion v, Loaded loaded, List<CanonicalModels.Loaded> forms) {
    try {
      ModelLoads loads = worker.models().loads();
      if (loaded.error() == null) {
        Path root = worker.modelCache().toAbsolutePath();
        loads.loaded(
            v.modelName(),
            v.version(),
            worker.nodeName(),
            forms.stream()
                .map(
                    f ->
                        new ModelLoads.Form(
                            file(root, f.source()), f.sourceDigest(), f.canonicalDigest()))
                .toList());
      } else {
        loads.failed(v.modelName(), v.version(), worker.nodeName(), reason(loaded.error()));
      }
    } catch (RuntimeException e) {
      log.warn("could not record the load of {} in the registry: {}", versionRef, e.toString());
    }
  }

  /** A model file as the admin knows it: relative to its package or upload, not to this node. */
  private static String file(Path cache, Path source) {
    Path p = source.toAbsolutePath().normalize();
    if (!p.startsWith(cache)) {
      return p.getFileName().toString();
    }
    Path relative = cache.relativize(p);
    // <package>/<file>, or uploads/<digest>/<file>: drop the folder that names the artifact
    int skip = relative.getName(0).toString().equals("uploads") ? 2 : 1;
    return relative.getNameCount() > skip
        ? relative.subpath(skip, relative.getNameCount()).toString()
        : relative.toString();
  }

  /** The error and its causes' messages, which say more than the outermost alone. */
  private static String reason(Throwable error) {
    StringBuilder why = new StringBuilder();
    for (Throwable t = error; t != null && why.length() < 2000; t = t.getCause()) {
      String message = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
      if (why.indexOf(message) < 0) {
        why.append(why.length() == 0 ? "" : ": ").append(message);
      }
    }
    return why.toString();
  }

  private Behavior<Command> loading() {
    return Behaviors.receive(Command.class)
        .onMessage(ModelRunnerProtocol.JobSubmitted.class, this::onJobSubmitted)
        .onMessage(ModelRunnerProtocol.GetStatus.class, this::onGetStatus)
        .onMessage(ModelRunnerProtocol.Prepare.class, m -> Behaviors.same())
        .onMessage(ModelRunnerProtocol.GetQueuePosition.class, this::onGetQueuePosition)
        .onMessage(Loaded.class, this::onLoaded)
        .onMessage(EvictRequested.class, this::onEvictRequested)
        .onMessageEquals(RenewLeases.INSTANCE, () -> Behaviors.same())
        .onMessageEquals(Stop.INSTANCE, this::onStop)
        .onSignal(PostStop.class, s -> onPostStop())
        .build();
  }

  private Behavior<Command> onLoaded(Loaded loaded) {
    version = loaded.version();
    if (loaded.error() != null) {
      loadError = reason(loaded.error());
      log.error("{} failed to load on {}: {}", versionRef, worker.nodeName(), loadError);
      worker.metrics().modelLoads.inc(versionRef, "failed");
    } else {
      task = loaded.task();
      log.info("{} loaded on {}", versionRef, worker.nodeName());
      worker.metrics().modelLoads.inc(versionRef, "loaded");
      worker
          .residency()
          .tell(
              new Residency.Loaded(
                  versionRef,
                  loaded.bytes(),
                  ctx.messageAdapter(Residency.Evict.class, EvictRequested::new)));
    }
    if (stopping) {
      return Behaviors.stopped();
    }
    startMore();
    return ready();
  }

  private Behavior<Command> ready() {
    return Behaviors.receive(Command.class)
        .onMessage(ModelRunnerProtocol.JobSubmitted.class, this::onJobSubmitted)
        .onMessage(ModelRunnerProtocol.GetStatus.class, this::onGetStatus)
        .onMessage(ModelRunnerProtocol.Prepare.class, m -> Behaviors.same())
        .onMessage(ModelRunnerProtocol.GetQueuePosition.class, this::onGetQueuePosition)
        .onMessage(BatchEnded.class, this::onBatchEnded)
        .onMessage(EvictRequested.class, this::onEvictRequested)
        .onMessageEquals(FlushBatch.INSTANCE, this::onFlushBatch)
        .onMessageEquals(RenewLeases.INSTANCE, this::onRenewLeases)
        .onMessageEquals(Stop.INSTANCE, this::onStop)
        .onSignal(PostStop.class, s -> onPostStop())
        .build();
  }

  private Behavior<Command> onJobSubmitted(ModelRunnerProtocol.JobSubmitted m) {
    if (!stopping && !running.contains(m.jobId())) {
      if (queue.isEmpty()) {
        queueWaitingSince = System.nanoTime();
      }
      queue.add(m.jobId(), m.tenantId(), m.weight());
      if (task != null || loadError != null) {
        startMore();
      }
    }
    return Behaviors.same();
  }

  private Behavior<Command> onGetStatus(ModelRunnerProtocol.GetStatus m) {
    m.replyTo()
        .tell(
            new ModelRunnerProtocol.RunnerStatus(
                versionRef,
                task != null,
                loadError,
                queue.size(),
                running.size(),
                worker.nodeName()));
    return Behaviors.same();
  }

  private Behavior<Command> onGetQueuePosition(ModelRunnerProtocol.GetQueuePosition m) {
    int position = queue.position(m.jobId()).orElse(-1);
    long estimate =
        position < 0
            ? 0
            : Math.round((position / worker.parallelism() + 1) * averageJobMillis)
                + (task == null && loadError == null ? 2000 : 0);
    m.replyTo().tell(new ModelRunnerProtocol.QueuePosition(position, estimate));
    return Behaviors.same();
  }

  private void startMore() {
    while (!stopping && running.size() < worker.parallelism() && !queue.isEmpty()) {
      int max =
          worker.batching() && version != null && version.batchSafe() ? version.maxBatchSize() : 1;
      if (max > 1 && queue.size() < max && !batchDelayOver()) {
        long waited = (System.nanoTime() - queueWaitingSince) / 1_000_000;
        timers.startSingleTimer(
            FlushBatch.INSTANCE,
            Duration.ofMillis(Math.max(1, version.maxBatchDelayMs() - waited)));
        return;
      }
      List<UUID> batch = new ArrayList<>();
      while (batch.size() < max && !queue.isEmpty()) {
        batch.add(queue.poll().orElseThrow());
      }
      queueWaitingSince = System.nanoTime();
      running.addAll(batch);
      worker.residency().tell(new Residency.Used(versionRef));
      long started = System.nanoTime();
      ctx.pipeToSelf(
          CompletableFuture.supplyAsync(() -> execute(batch), worker.blocking()),
          (outcomes, error) -> {
            long millis = (System.nanoTime() - started) / 1_000_000;
            if (error != null) {
              log.error(
                  "jobs {} on {} broke unexpectedly; their leases will expire",
                  batch,
                  versionRef,
                  error);
              return new BatchEnded(
                  batch.stream().map(id -> new Outcome(id, null, "released")).toList(), millis);
            }
            return new BatchEnded(outcomes, millis);
          });
    }
  }

  /**
   * Unloads (passivates) when idle, so that another version can have the memory; declines when
   * busy.
   */
  private Behavior<Command> onEvictRequested(EvictRequested m) {
    boolean idle = running.isEmpty() && queue.isEmpty();
    m.request().replyTo().tell(new Residency.Idle(versionRef, idle));
    if (idle) {
      shard.tell(new ClusterSharding.Passivate<>(ctx.getSelf()));
    }
    return Behaviors.same();
  }

  private Behavior<Command> onFlushBatch() {
    queueWaitingSince = System.nanoTime() - Duration.ofMillis(version.maxBatchDelayMs()).toNanos();
    startMore();
    return Behaviors.same();
  }

  private boolean batchDelayOver() {
    return (System.nanoTime() - queueWaitingSince) / 1_000_000 >= version.maxBatchDelayMs();
  }

  /**
   * Claims, runs and commits a batch of jobs (often of one). Runs on the blocking executor, never
   * on the actor's thread. Each job is claimed and committed on its own, fenced by its own attempt.
   */
  private List<Outcome> execute(List<UUID> jobIds) {
    List<Outcome> outcomes = new ArrayList<>();
    List<Claim> claims = new ArrayList<>();
    for (UUID jobId : jobIds) {
      var claimed = worker.leases().claim(jobId, worker.nodeName(), worker.lease());
      if (claimed.isEmpty()) {
        outcomes.add(new Outcome(jobId, null, "not-claimed"));
      } else {
        claims.add(claimed.get());
        held.put(jobId, claimed.get());
      }
    }
    try {
      if (!claims.isEmpty()) {
        outcomes.addAll(run(claims));
      }
      return outcomes;
    } finally {
      claims.forEach(c -> held.remove(c.job().id()));
    }
  }

  private List<Outcome> run(List<Claim> claims) {
    if (task == null) {
      return claims.stream()
          .map(
              c -> {
                worker
                    .leases()
                    .fail(c, "model-unavailable", "the model could not be loaded: " + loadError);
                return finished(c, "failed");
              })
          .toList();
    }
    List<WorkBudget> budgets = claims.stream().map(this::budgetOf).toList();
    List<ImageTask.BatchItem> items = new ArrayList<>();
    for (Claim c : claims) {
      items.add(new ImageTask.BatchItem(c.input(), c.job().params()));
    }
    long start = System.nanoTime();
    List<ImageTask.BatchResult> results;
    try (WorkBudget.Binding bound = WorkBudget.ofAll(budgets).bind()) {
      results =
          claims.size() == 1 ? List.of(runOne(items.get(0), claims.get(0))) : task.runBatch(items);
    } catch (WorkStoppedException e) {
      List<Outcome> outcomes = new ArrayList<>();
      for (int i = 0; i < claims.size(); i++) {
        WorkStoppedException.Reason own = budgets.get(i).spent();
        outcomes.add(stopped(claims.get(i), own != null ? own : e.reason(), start));
      }
      return outcomes;
    } catch (RuntimeException | OutOfMemoryError e) {
      log.error("jobs of {} failed in the model", versionRef, e);
      return claims.stream()
          .map(
              c -> {
                worker.leases().fail(c, "internal-error", "the model failed on this input: " + e);
                return finished(c, "failed");
              })
          .toList();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    worker.metrics().batchSize.observe(claims.size(), versionRef);
    List<Outcome> outcomes = new ArrayList<>();
    for (int i = 0; i < claims.size(); i++) {
      worker.metrics().inference.observe(seconds / claims.size(), versionRef);
      WorkStoppedException.Reason spent = budgets.get(i).spent();
      outcomes.add(
          spent == null
              ? commit(claims.get(i), results.get(i))
              : stopped(claims.get(i), spent, start));
    }
    return outcomes;
  }

  private ImageTask.BatchResult runOne(ImageTask.BatchItem item, Claim claim) {
    try {
      return new ImageTask.BatchResult(
          task.run(item.encodedImage(), item.params(), progressOf(claim)), null);
    } catch (InvalidInputException e) {
      return new ImageTask.BatchResult(null, e);
    }
  }

  /**
   * How often a running job looks at the store between steps to learn that it was canceled: with
   * the decoder checking every row and tiles every model run, a cancel frees the worker within
   * about this plus one step.
   */
  private static final Duration CANCEL_POLL = Duration.ofMillis(250);

  /** The job's budget: its time left when claimed, and while this attempt still holds it. */
  private WorkBudget budgetOf(Claim claim) {
    return WorkBudget.of(claim.timeLeft(), () -> stillHeld(claim), CANCEL_POLL);
  }

  /** Whether the store still has the job running at this attempt; a store outage says yes. */
  private boolean stillHeld(Claim claim) {
    try {
      return worker.leases().stillHeld(claim.job().id(), claim.attempt());
    } catch (RuntimeException e) {
      log.warn(
          "could not check whether job {} is still wanted: {}", claim.job().id(), e.toString());
      return true;
    }
  }

  /**
   * Ends a job whose work stopped: past its deadline it fails {@code deadline-exceeded}, with no
   * ledger row; canceled (or otherwise no longer held) it was already ended by whoever moved the
   * fence, so nothing is written.
   */
  private Outcome stopped(Claim claim, WorkStoppedException.Reason why, long startedNanos) {
    long ms = (System.nanoTime() - startedNanos) / 1_000_000;
    log.info("job {} of {} stopped after {} ms: {}", claim.job().id(), versionRef, ms, why);
    if (why == WorkStoppedException.Reason.DEADLINE_EXCEEDED
        && worker.leases().fail(claim, "deadline-exceeded", JobLeases.DEADLINE_PASSED_RUNNING)) {
      return finished(claim, "failed");
    }
    worker.metrics().finished.inc(claim.job().modelRef(), "stopped");
    return new Outcome(claim.job().id(), claim, "stopped");
  }

  /** The least time between two progress writes of one job: a tenant polls about that often. */
  private static final long PROGRESS_EVERY_NANOS = Duration.ofMillis(500).toNanos();

  /**
   * Writes a job's progress to the store as its run reports it, at most every half second and never
   * its end (the commit says that). A failed write costs only that report.
   */
  private ImageTask.Progress progressOf(Claim claim) {
    long[] last = {System.nanoTime()};
    return (done, total) -> {
      long now = System.nanoTime();
      if (done >= total || now - last[0] < PROGRESS_EVERY_NANOS) {
        return;
      }
      last[0] = now;
      try {
        worker.leases().reportProgress(claim.job().id(), claim.attempt(), (double) done / total);
      } catch (RuntimeException e) {
        log.warn("could not record the progress of job {}: {}", claim.job().id(), e.toString());
      }
    };
  }

  /** Commits one job's result, fenced by its attempt. */
  private Outcome commit(Claim claim, ImageTask.BatchResult result) {
    if (result.refused() != null) {
      worker.leases().fail(claim, "invalid-input", result.refused().getMessage());
      return finished(claim, "failed");
    }
    TaskOutput out = result.output();
    boolean committed =
        worker
            .leases()
            .succeed(
                claim,
                out.mediaType(),
                out.body(),
                ContentDigest.sha256(out.body()),
                version.priceMicros(claim.job().pixels()));
    if (!committed) {
      return new Outcome(claim.job().id(), claim, "fenced");
    }
    worker
        .metrics()
        .jobLatency
        .observe(
            Duration.between(claim.job().createdAt(), java.time.Instant.now()).toMillis() / 1e3,
            versionRef);
    return finished(claim, "succeeded");
  }

  /** How one job's execution ended: the claim it held (if any) and its status. */
  private record Outcome(UUID jobId, Claim claim, String status) {}

  private Outcome finished(Claim claim, String status) {
    worker.metrics().finished.inc(claim.job().modelRef(), status);
    return new Outcome(claim.job().id(), claim, status);
  }

  private Behavior<Command> onBatchEnded(BatchEnded m) {
    long ran = m.outcomes().stream().filter(o -> o.claim() != null).count();
    if (ran > 0) {
      // an exponential moving average over roughly the last ten batches, per job
      averageJobMillis = 0.9 * averageJobMillis + 0.1 * ((double) m.millis() / ran);
    }
    for (Outcome o : m.outcomes()) {
      running.remove(o.jobId());
      if (o.status().equals("succeeded") || o.status().equals("failed")) {
        worker.jobEvents().tell(Topic.publish(new JobEvents.JobFinished(o.jobId(), o.status())));
      }
    }
    if (stopping && running.isEmpty()) {
      return Behaviors.stopped();
    }
    startMore();
    return Behaviors.same();
  }

  private Behavior<Command> onRenewLeases() {
    var claims = List.copyOf(held.values());
    if (!claims.isEmpty()) {
      CompletableFuture.runAsync(
          () ->
              claims.forEach(
                  c -> worker.leases().renewLease(c.job().id(), c.attempt(), worker.lease())),
          worker.blocking());
    }
    return Behaviors.same();
  }

  private Behavior<Command> onStop() {
    stopping = true;
    queue.clear();
    return running.isEmpty() ? Behaviors.stopped() : Behaviors.same();
  }

  private Behavior<Command> onPostStop() {
    if (task != null) {
      task.close();
      worker.residency().tell(new Residency.Unloaded(versionRef));
    }
    return Behaviors.same();
  }
}
