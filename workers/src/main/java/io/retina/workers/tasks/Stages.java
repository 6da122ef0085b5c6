package io.retina.workers.tasks;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.ContextKey;
import io.opentelemetry.context.Scope;

/**
 * The stages of one traced task run as spans: {@code decode} (the input image), {@code model.run}
 * (everything between: pre-processing, the model, post-processing) and {@code encode} (the answer,
 * image or JSON). A task needs no tracing code of its own: {@link Inputs} and {@link Outputs} mark
 * where a stage begins, and each mark ends the stage before it. A run with no {@code Stages} bound
 * (untraced, or tracing off) pays one thread-local read per mark.
 *
 * <p>Confined to the thread that runs the task: work a task hands to other threads is counted in
 * the stage that was open when it did.
 */
public final class Stages implements AutoCloseable {
  private static final ContextKey<Stages> KEY = ContextKey.named("retina-task-stages");

  static final String DECODE = "decode";
  static final String MODEL_RUN = "model.run";
  static final String ENCODE = "encode";

  private final Tracer tracer;
  private final Context parent;
  private final Scope scope;
  private Span open;

  private Stages(Tracer tracer, Context parent) {
    this.tracer = tracer;
    this.parent = parent;
    this.scope = parent.with(KEY, this).makeCurrent();
  }

  /**
   * Records the stages of the task run on this thread until closed, as children of {@code parent}
   * (the job's attempt span).
   */
  public static Stages bind(Tracer tracer, Context parent) {
    return new Stages(tracer, parent);
  }

  /** Stage {@code name} begins on this thread, ending the one before, if a traced run is here. */
  static void begin(String name) {
    Stages stages = Context.current().get(KEY);
    if (stages != null) {
      stages.enter(name);
    }
  }

  private void enter(String name) {
    if (open != null) {
      open.end();
    }
    open = tracer.spanBuilder(name).setParent(parent).startSpan();
  }

  /** The run is over: its last stage ends and the thread's context is as before. */
  @Override
  public void close() {
    if (open != null) {
      open.end();
      open = null;
    }
    scope.close();
  }
}
