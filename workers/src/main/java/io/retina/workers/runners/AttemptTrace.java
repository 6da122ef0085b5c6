package io.retina.workers.runners;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Context;
import io.retina.platform.jobs.JobLeases.Claim;
import io.retina.platform.tracing.Tracing;
import io.retina.workers.tasks.Stages;
import java.time.Instant;

/**
 * The spans one attempt at a job leaves, on the worker that runs it, in the trace its submission
 * began (the {@code traceparent} stored with the job), as children of the submission's request
 * span:
 *
 * <ul>
 *   <li>{@code queue.wait}, on the first attempt: from when the job was stored to when this worker
 *       went to claim it;
 *   <li>{@code job.attempt}, from the claim to the commit, with children {@code store.claim}, the
 *       task's stages ({@code decode}, {@code model.run}, {@code encode}: {@link Stages}) or, in a
 *       batch, one {@code model.run} for the batch, and {@code store.commit}.
 * </ul>
 *
 * An untraced job, or any job on a node with tracing off, records nothing: {@link #NONE}. Confined
 * to the thread that executes the attempt.
 */
final class AttemptTrace {
  static final AttemptTrace NONE = new AttemptTrace(null, Context.root());

  private final Span attempt;
  private final Context context;

  private AttemptTrace(Span attempt, Context context) {
    this.attempt = attempt;
    this.context = context;
  }

  /**
   * The trace of an attempt that went to claim its job at {@code claiming} and had it at {@code
   * claimed}: its queue wait and claim are recorded now, after the fact, since the trace was only
   * known once the claim had read the job.
   */
  static AttemptTrace claimed(
      Tracing tracing, Claim claim, Instant claiming, Instant claimed, String runner, String node) {
    if (!tracing.enabled() || claim.traceparent() == null) {
      return NONE;
    }
    Context submitted = tracing.extract(claim.traceparent(), null);
    if (!Span.fromContext(submitted).getSpanContext().isValid()) {
      return NONE;
    }
    var tracer = tracing.tracer();
    if (claim.attempt() == 1) {
      // the job's creation is by the store's clock, the claim by this node's: a skew between them
      // must not make the wait end before it starts
      Instant stored = claim.job().createdAt();
      tracer
          .spanBuilder("queue.wait")
          .setParent(submitted)
          .setStartTimestamp(stored.isBefore(claiming) ? stored : claiming)
          .setAttribute("retina.job.id", claim.job().id().toString())
          .startSpan()
          .end(claiming);
    }
    Span attempt =
        tracer
            .spanBuilder("job.attempt")
            .setParent(submitted)
            .setStartTimestamp(claiming)
            .setAttribute("retina.job.id", claim.job().id().toString())
            .setAttribute("retina.job.attempt", claim.attempt())
            .setAttribute("retina.tenant.id", claim.job().tenantId().toString())
            .setAttribute("retina.model", runner)
            .setAttribute("retina.node", node)
            .startSpan();
    Context context = submitted.with(attempt);
    tracer
        .spanBuilder("store.claim")
        .setParent(context)
        .setStartTimestamp(claiming)
        .startSpan()
        .end(claimed);
    return new AttemptTrace(attempt, context);
  }

  /** The attempt span's context, to parent its other spans on; the root context when untraced. */
  Context context() {
    return context;
  }

  /** Records the stages of the task run on this thread until closed; null when untraced. */
  Stages stages(Tracing tracing) {
    return attempt == null ? null : Stages.bind(tracing.tracer(), context);
  }

  /** The attempt ended, {@code outcome} (succeeded, failed, stopped, fenced, ...). */
  void end(String outcome) {
    if (attempt != null) {
      attempt.setAttribute("retina.job.outcome", outcome);
      attempt.end();
    }
  }
}
