package io.retina.workers.runners;

import io.opentelemetry.api.trace.Span;
import io.retina.platform.cluster.JobEvents;
import io.retina.platform.jobs.ContentDigest;
import io.retina.platform.jobs.Job;
import io.retina.platform.jobs.JobLeases;
import io.retina.platform.jobs.JobLeases.Claim;
import io.retina.platform.models.ModelVersion;
import io.retina.platform.tracing.Tracing;
import io.retina.workers.budget.ModelSlots;
import io.retina.workers.budget.WorkBudget;
import io.retina.workers.budget.WorkStoppedException;
import io.retina.workers.tasks.ImageTask;
import io.retina.workers.tasks.InvalidInputException;
import io.retina.workers.tasks.Stages;
import io.retina.workers.tasks.TaskOutput;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Executes jobs of one loaded version on this node: claims each from the store, runs the batch
 * through the model under the jobs' budgets (deadline, cancel), and commits each outcome fenced by
 * the attempt it claimed, so a duplicated execution can never commit or bill twice. Blocking: runs
 * on the blocking executor. Thread-safe: a replica runs several batches at once.
 */
final class JobExecution {
  private static final Logger log = LoggerFactory.getLogger(JobExecution.class);

  /**
   * How often a running job looks at the store between steps to learn that it was canceled: with
   * the decoder checking every row and tiles every model run, a cancel frees the worker within
   * about this plus one step.
   */
  private static final Duration CANCEL_POLL = Duration.ofMillis(250);

  /** The least time between two progress writes of one job: a tenant polls about that often. */
  private static final long PROGRESS_EVERY_NANOS = Duration.ofMillis(500).toNanos();

  /**
   * How one job's execution ended: the claim it held (if any), its status, and for a success the
   * job as committed.
   */
  record Outcome(UUID jobId, Claim claim, String status, Job committed) {
    Outcome(UUID jobId, Claim claim, String status) {
      this(jobId, claim, status, null);
    }

    boolean ran() {
      return claim != null;
    }

    boolean finished() {
      return status.equals("succeeded") || status.equals("failed");
    }
  }

  private final WorkerContext worker;
  private final String runner;
  private final ModelVersion version;
  private final ImageTask task;
  private final String loadError;

  /** The claims of running jobs, written by the executing threads, read to renew their leases. */
  private final Map<UUID, Claim> held = new ConcurrentHashMap<>();

  /**
   * An execution for a loaded version ({@code task} set) or one that failed to load ({@code
   * loadError} set), whose jobs fail {@code model-unavailable} with the reason.
   */
  JobExecution(
      WorkerContext worker, String runner, ModelVersion version, ImageTask task, String loadError) {
    this.worker = worker;
    this.runner = runner;
    this.version = version;
    this.task = task;
    this.loadError = loadError;
  }

  private JobLeases jobs() {
    return worker.leases();
  }

  /** Claims, runs and commits a batch of jobs (often of one), each fenced by its own attempt. */
  List<Outcome> execute(List<UUID> jobIds) {
    // what this thread logs is about these jobs: structured logs (RETINA_LOG_FORMAT=json) carry it
    MDC.put("model", runner);
    if (jobIds.size() == 1) {
      MDC.put("job", jobIds.get(0).toString());
    }
    try {
      List<Outcome> outcomes = claimAndRun(jobIds);
      // from this thread, as soon as they are committed: a waiting request is answered without
      // waiting for the replica to hear that the batch ended
      for (Outcome o : outcomes) {
        if (o.finished()) {
          worker
              .jobEvents()
              .tell(Topic.publish(new JobEvents.JobFinished(o.jobId(), o.status(), o.committed())));
        }
      }
      return outcomes;
    } finally {
      MDC.clear();
    }
  }

  private List<Outcome> claimAndRun(List<UUID> jobIds) {
    List<Outcome> outcomes = new ArrayList<>();
    List<Claim> claims = new ArrayList<>();
    List<AttemptTrace> traces = new ArrayList<>();
    for (UUID jobId : jobIds) {
      Instant claiming = worker.tracing().enabled() ? Instant.now() : null;
      long t0 = System.nanoTime();
      var claimed = jobs().claim(jobId, worker.nodeName(), worker.lease());
      worker.metrics().stage(runner, "claim", System.nanoTime() - t0);
      if (claimed.isEmpty()) {
        outcomes.add(new Outcome(jobId, null, "not-claimed"));
      } else {
        if (claimed.get().attempt() == 1) {
          Instant submitted = claimed.get().job().createdAt();
          worker.metrics().queueWait(runner, Duration.between(submitted, Instant.now()));
        }
        AttemptTrace trace =
            claiming == null
                ? AttemptTrace.NONE
                : AttemptTrace.claimed(
                    worker.tracing(),
                    claimed.get(),
                    claiming,
                    Instant.now(),
                    runner,
                    worker.nodeName());
        claims.add(claimed.get());
        traces.add(trace);
        held.put(jobId, claimed.get());
        if (jobIds.size() == 1) {
          MDC.put("tenant", claimed.get().job().tenantId().toString());
          // cleared with the rest of the MDC when the batch ends
          Tracing.logged(trace.context());
        }
        announce(claimed.get().job());
      }
    }
    List<Outcome> ran = List.of();
    try {
      if (!claims.isEmpty()) {
        ran = run(claims, traces);
        outcomes.addAll(ran);
      }
      return outcomes;
    } finally {
      claims.forEach(c -> held.remove(c.job().id()));
      endTraces(claims, traces, ran);
    }
  }

  /** Ends each attempt's trace with its outcome; one that broke unexpectedly ends as "broken". */
  private void endTraces(List<Claim> claims, List<AttemptTrace> traces, List<Outcome> ran) {
    if (!worker.tracing().enabled()) {
      return;
    }
    for (int i = 0; i < claims.size(); i++) {
      UUID id = claims.get(i).job().id();
      String status =
          ran.stream()
              .filter(o -> o.jobId().equals(id))
              .map(Outcome::status)
              .findFirst()
              .orElse("broken");
      traces.get(i).end(status);
    }
  }

  /** Renews the leases of the jobs running now; a failed renewal is retried at the next. */
  void renewLeases() {
    for (Claim c : List.copyOf(held.values())) {
      try {
        jobs().renewLease(c.job().id(), c.attempt(), worker.lease());
      } catch (RuntimeException e) {
        log.warn("could not renew the lease of job {}: {}", c.job().id(), e.toString());
      }
    }
  }

  private List<Outcome> run(List<Claim> claims, List<AttemptTrace> traces) {
    if (task == null) {
      List<Outcome> outcomes = new ArrayList<>();
      for (int i = 0; i < claims.size(); i++) {
        Claim c = claims.get(i);
        inCommit(
            traces.get(i),
            () ->
                jobs().fail(c, "model-unavailable", "the model could not be loaded: " + loadError));
        outcomes.add(finished(c, "failed"));
      }
      return outcomes;
    }
    List<WorkBudget> budgets = claims.stream().map(this::budgetOf).toList();
    List<ImageTask.BatchItem> items = new ArrayList<>();
    for (Claim c : claims) {
      items.add(new ImageTask.BatchItem(c.input(), c.job().params()));
    }
    long start = System.nanoTime();
    long waitedBefore = ModelSlots.waitedNanos();
    List<ImageTask.BatchResult> results;
    try (WorkBudget.Binding bound = WorkBudget.ofAll(budgets).bind()) {
      results =
          claims.size() == 1
              ? List.of(runOne(items.get(0), claims.get(0), traces.get(0)))
              : runBatch(items, traces);
    } catch (WorkStoppedException e) {
      List<Outcome> outcomes = new ArrayList<>();
      for (int i = 0; i < claims.size(); i++) {
        WorkStoppedException.Reason own = budgets.get(i).spent();
        outcomes.add(stopped(claims.get(i), traces.get(i), own != null ? own : e.reason(), start));
      }
      return outcomes;
    } catch (RuntimeException | OutOfMemoryError e) {
      log.error("jobs of {} failed in the model", runner, e);
      List<Outcome> outcomes = new ArrayList<>();
      for (int i = 0; i < claims.size(); i++) {
        Claim c = claims.get(i);
        inCommit(
            traces.get(i),
            () -> jobs().fail(c, "internal-error", "the model failed on this input: " + e));
        outcomes.add(finished(c, "failed"));
      }
      return outcomes;
    }
    // the wait for a model slot is its own stage: "run" stays the work, as without a pipeline
    long slotWait = ModelSlots.waitedNanos() - waitedBefore;
    worker.metrics().stage(runner, "slot-wait", slotWait);
    worker.metrics().ran(runner, claims.size(), System.nanoTime() - start - slotWait);
    List<Outcome> outcomes = new ArrayList<>();
    for (int i = 0; i < claims.size(); i++) {
      WorkStoppedException.Reason spent = budgets.get(i).spent();
      outcomes.add(
          spent == null
              ? commit(claims.get(i), traces.get(i), results.get(i))
              : stopped(claims.get(i), traces.get(i), spent, start));
    }
    return outcomes;
  }

  /** Runs one job, its stages recorded in its trace. */
  private ImageTask.BatchResult runOne(ImageTask.BatchItem item, Claim claim, AttemptTrace trace) {
    try (Stages stages = trace.stages(worker.tracing())) {
      return new ImageTask.BatchResult(
          task.run(item.encodedImage(), item.params(), progressOf(claim)), null);
    } catch (InvalidInputException e) {
      return new ImageTask.BatchResult(null, e);
    }
  }

  /**
   * Runs jobs together; each job's trace gets one {@code model.run} for the whole batch, its stages
   * being shared with the others'.
   */
  private List<ImageTask.BatchResult> runBatch(
      List<ImageTask.BatchItem> items, List<AttemptTrace> traces) {
    List<Span> spans = new ArrayList<>();
    for (AttemptTrace trace : traces) {
      if (trace != AttemptTrace.NONE) {
        spans.add(
            worker
                .tracing()
                .tracer()
                .spanBuilder("model.run")
                .setParent(trace.context())
                .setAttribute("retina.batch.size", items.size())
                .startSpan());
      }
    }
    try {
      return task.runBatch(items);
    } finally {
      spans.forEach(Span::end);
    }
  }

  /** The job's budget: its time left when claimed, and while this attempt still holds it. */
  private WorkBudget budgetOf(Claim claim) {
    return WorkBudget.of(claim.timeLeft(), () -> stillHeld(claim), CANCEL_POLL);
  }

  /** Whether the store still has the job running at this attempt; a store outage says yes. */
  private boolean stillHeld(Claim claim) {
    try {
      return jobs().stillHeld(claim.job().id(), claim.attempt());
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
  private Outcome stopped(
      Claim claim, AttemptTrace trace, WorkStoppedException.Reason why, long startedNanos) {
    long ms = (System.nanoTime() - startedNanos) / 1_000_000;
    log.info("job {} of {} stopped after {} ms: {}", claim.job().id(), runner, ms, why);
    if (why == WorkStoppedException.Reason.DEADLINE_EXCEEDED
        && inCommit(
            trace,
            () -> jobs().fail(claim, "deadline-exceeded", JobLeases.DEADLINE_PASSED_RUNNING))) {
      return finished(claim, "failed");
    }
    worker.metrics().finished(claim.job().modelRef(), "stopped");
    return new Outcome(claim.job().id(), claim, "stopped");
  }

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
        double fraction = (double) done / total;
        if (jobs().reportProgress(claim.job().id(), claim.attempt(), fraction)) {
          announce(claim.job().withProgress(fraction));
        }
      } catch (RuntimeException e) {
        log.warn("could not record the progress of job {}: {}", claim.job().id(), e.toString());
      }
    };
  }

  /** Tells the API nodes that a job started or got further, as committed. */
  private void announce(Job job) {
    worker.jobEvents().tell(Topic.publish(new JobEvents.JobChanged(job.id(), job)));
  }

  /** Commits one job's result, fenced by its attempt. */
  private Outcome commit(Claim claim, AttemptTrace trace, ImageTask.BatchResult result) {
    if (result.refused() != null) {
      inCommit(trace, () -> jobs().fail(claim, "invalid-input", result.refused().getMessage()));
      return finished(claim, "failed");
    }
    TaskOutput out = result.output();
    long t0 = System.nanoTime();
    Optional<Job> committed =
        inCommit(
            trace,
            () ->
                jobs()
                    .succeed(
                        claim,
                        out.mediaType(),
                        out.body(),
                        ContentDigest.sha256(out.body()),
                        version.priceMicros(claim.job().pixels())));
    worker.metrics().stage(runner, "commit", System.nanoTime() - t0);
    if (committed.isEmpty()) {
      return new Outcome(claim.job().id(), claim, "fenced");
    }
    worker.metrics().succeeded(runner, Duration.between(claim.job().createdAt(), Instant.now()));
    worker.metrics().finished(claim.job().modelRef(), "succeeded");
    return new Outcome(claim.job().id(), claim, "succeeded", committed.get());
  }

  /** A write that ends the attempt, as its trace's {@code store.commit}. */
  private <T> T inCommit(AttemptTrace trace, java.util.function.Supplier<T> write) {
    return worker.tracing().inSpan("store.commit", trace.context(), write);
  }

  private Outcome finished(Claim claim, String status) {
    worker.metrics().finished(claim.job().modelRef(), status);
    return new Outcome(claim.job().id(), claim, status);
  }
}
