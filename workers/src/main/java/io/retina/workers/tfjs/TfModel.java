package io.retina.workers.tfjs;

import io.retina.workers.budget.ModelSlots;
import io.retina.workers.budget.WorkBudget;
import io.retina.workers.budget.WorkStoppedException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphOptions;
import org.tensorflow.proto.RewriterConfig;
import org.tensorflow.proto.RunOptions;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * A runnable model: its graph, one session over it, and its signature. Thread-safe: {@link #run}
 * may be called concurrently (TensorFlow sessions are); {@link #close} waits for runs in flight and
 * later runs fail with {@link IllegalStateException}. Every run observes the {@link WorkBudget}
 * bound to its thread: none starts once the budget is spent, and a run in flight when the job is
 * canceled or out of time is left to finish on its own while the caller gets {@link
 * WorkStoppedException} at once.
 */
public final class TfModel implements AutoCloseable {

  private final Graph graph;
  private final Session session;
  private final AutoCloseable owner;
  private final ModelSignature signature;
  private final ReadWriteLock lifecycle = new ReentrantReadWriteLock();
  private boolean closed;

  /** An imported graph with a new session over it. Takes ownership of {@code graph}. */
  TfModel(Graph graph, ModelSignature signature) {
    Session s = new Session(graph, sessionConfig());
    this.graph = graph;
    this.signature = signature;
    this.session = s;
    this.owner =
        () -> {
          s.close();
          graph.close();
        };
  }

  /** A loaded SavedModel. Takes ownership of {@code bundle}. */
  TfModel(SavedModelBundle bundle, ModelSignature signature) {
    this.graph = bundle.graph();
    this.session = bundle.session();
    this.signature = signature;
    this.owner = bundle;
  }

  Graph graph() {
    return graph;
  }

  Session session() {
    return session;
  }

  /**
   * The options every Retina session runs with. Grappler's remapper fuses ops into oneDNN kernels
   * that give different numbers (the selfie mask moved by up to 0.09) with no error, so it is off.
   */
  static ConfigProto sessionConfig() {
    RewriterConfig rewrites =
        RewriterConfig.newBuilder()
            .setRemapping(
                Boolean.getBoolean("retina.tf.remapping")
                    ? RewriterConfig.Toggle.ON
                    : RewriterConfig.Toggle.OFF)
            .build();
    return ConfigProto.newBuilder()
        .setIntraOpParallelismThreads(Integer.getInteger("retina.tf.intra-op-threads", 0))
        .setInterOpParallelismThreads(Integer.getInteger("retina.tf.inter-op-threads", 0))
        .setGraphOptions(GraphOptions.newBuilder().setRewriteOptions(rewrites))
        .setAllowSoftPlacement(true) // a GPU build may lack a kernel: fall back to CPU for it
        .build();
  }

  public ModelSignature signature() {
    return signature;
  }

  /**
   * Runs a single-input model on one float tensor and returns its first output. The input is
   * checked against the signature first, so a shape the graph can't take never reaches the runtime.
   */
  public FloatTensor run(FloatTensor input) throws FeedRejectedException {
    return withinBudget(() -> runNow(input));
  }

  /**
   * Runs a single-input model on one float tensor as far as the graph's tensor {@code tensorName}
   * ({@code "op:index"}, say a classifier's pooled features before its head) and returns that
   * tensor, which must be float. The input is checked against the signature, like {@link #run}.
   *
   * @throws IllegalArgumentException if the graph has no such tensor
   */
  public FloatTensor runTo(FloatTensor input, String tensorName) throws FeedRejectedException {
    return withinBudget(() -> runNow(input, new TensorSpec(tensorName, DataType.DT_FLOAT, null)));
  }

  private FloatTensor runNow(FloatTensor input) throws FeedRejectedException {
    return runNow(input, signature.output());
  }

  private FloatTensor runNow(FloatTensor input, TensorSpec out) throws FeedRejectedException {
    TensorSpec in = signature.input();
    in.checkFeed(DataType.DT_FLOAT, input.shape());
    lifecycle.readLock().lock();
    try {
      if (closed) {
        throw new IllegalStateException("model is closed");
      }
      graph.outputOrThrow(out.name()); // a name the graph lacks fails here, not in the runtime
      try (TFloat32 feed =
              TFloat32.tensorOf(
                  Shape.of(input.shape()), DataBuffers.of(input.data(), true, false));
          Result result =
              runWithinBudget(
                  session
                      .runner()
                      .feed(in.opName(), in.index(), feed)
                      .fetch(out.opName(), out.index()))) {
        Tensor fetched = result.get(0);
        if (!(fetched instanceof TFloat32 floats)) {
          throw new IllegalStateException(out.name() + " is " + fetched.dataType() + ", not float");
        }
        float[] data = new float[Math.toIntExact(floats.size())];
        floats.copyTo(DataBuffers.of(data, false, false));
        return new FloatTensor(floats.shape().asArray(), data);
      }
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  /**
   * Runs a single-input model on one tensor and returns every output the signature declares, keyed
   * by tensor name in the signature's order, as floats (int32 outputs are widened). The input is
   * fed in the dtype the signature declares: float32 as it is, int32 truncated toward zero (what
   * TF.js's {@code tf.cast} does). It is checked against the signature first, like {@link #run}.
   */
  public Map<String, FloatTensor> runAll(FloatTensor input) throws FeedRejectedException {
    return withinBudget(() -> runAllNow(input));
  }

  private Map<String, FloatTensor> runAllNow(FloatTensor input) throws FeedRejectedException {
    TensorSpec in = signature.input();
    if (in.dtype() != DataType.DT_FLOAT && in.dtype() != DataType.DT_INT32) {
      throw new FeedRejectedException(in.name() + " takes " + in.dtype() + ", not float or int32");
    }
    in.checkFeed(in.dtype(), input.shape());
    lifecycle.readLock().lock();
    try {
      if (closed) {
        throw new IllegalStateException("model is closed");
      }
      try (Tensor feed = feedOf(in.dtype(), input)) {
        Session.Runner runner = session.runner().feed(in.opName(), in.index(), feed);
        for (TensorSpec out : signature.outputs()) {
          runner.fetch(out.opName(), out.index());
        }
        try (Result result = runWithinBudget(runner)) {
          Map<String, FloatTensor> outputs = new LinkedHashMap<>();
          for (int i = 0; i < signature.outputs().size(); i++) {
            outputs.put(signature.outputs().get(i).name(), floats(result.get(i)));
          }
          return outputs;
        }
      }
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  /** One run of the model, from feeding to copying out its outputs. */
  @FunctionalInterface
  private interface Run<T> {
    T call() throws FeedRejectedException;
  }

  /**
   * Runs of jobs with a budget. A run whose job is canceled or runs out of time is left here to
   * finish (TensorFlow can't stop a step midway, see below) while the job's worker moves on; the
   * run holds the model open and owns its tensors until it ends, so no memory is freed under it.
   * Daemon threads, made as needed: at most the replica's model slots ({@link ModelSlots}) plus the
   * runs left behind, each of which ends within one model run.
   */
  private static final ExecutorService RUNS =
      Executors.newCachedThreadPool(
          r -> {
            Thread t = new Thread(r, "retina-model-run");
            t.setDaemon(true);
            return t;
          });

  /** How often a caller waiting for a run looks at its budget. */
  private static final long WAIT_SLICE_MS = 50;

  /**
   * Runs {@code run} within the calling thread's work budget: not at all once it is spent, and
   * otherwise on a helper thread while the caller watches the budget, so that a cancel or the
   * deadline frees the caller within {@link #WAIT_SLICE_MS} plus the budget's poll, however long
   * the run. Without a budget (warm-up, tests), runs inline.
   */
  private static <T> T withinBudget(Run<T> run) throws FeedRejectedException {
    WorkBudget budget = WorkBudget.current();
    if (budget == WorkBudget.UNBOUNDED) {
      try (ModelSlots.Slot slot = ModelSlots.takeBound(budget)) {
        return run.call();
      }
    }
    budget.check();
    // the slot goes with the run: a run left behind by its job holds it until it ends
    ModelSlots.Slot slot = ModelSlots.takeBound(budget);
    Future<T> running;
    try {
      running =
          RUNS.submit(
              () -> {
                try (slot;
                    WorkBudget.Binding bound = budget.bind()) {
                  return run.call();
                }
              });
    } catch (RuntimeException e) {
      slot.close();
      throw e;
    }
    while (true) {
      try {
        return running.get(WAIT_SLICE_MS, TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        budget.check(); // a spent budget leaves the run behind
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while the model ran", e);
      } catch (ExecutionException e) {
        Throwable cause = e.getCause();
        if (cause instanceof FeedRejectedException rejected) {
          throw rejected;
        }
        if (cause instanceof RuntimeException runtime) {
          throw runtime;
        }
        if (cause instanceof Error error) {
          throw error;
        }
        throw new IllegalStateException(cause);
      }
    }
  }

  /**
   * Runs unless the thread's work budget is spent, with the time left to its deadline as the run's
   * timeout. Measured with TensorFlow Java 1.1.0 on CPU, the timeout does not shorten a step: the
   * kernels of a single-device graph run to the end and only then is DEADLINE_EXCEEDED reported. So
   * it only makes such a run fail as the deadline; what frees the worker is {@link #withinBudget}.
   */
  private static Result runWithinBudget(Session.Runner runner) {
    WorkBudget budget = WorkBudget.current();
    budget.check();
    budget
        .millisLeft()
        .ifPresent(ms -> runner.setOptions(RunOptions.newBuilder().setTimeoutInMs(ms).build()));
    try {
      return runner.run();
    } catch (RuntimeException e) {
      budget.check(); // a run that timed out at the deadline fails as the deadline, not as an error
      throw e;
    }
  }

  private static Tensor feedOf(DataType dtype, FloatTensor input) {
    Shape shape = Shape.of(input.shape());
    if (dtype == DataType.DT_INT32) {
      float[] f = input.data();
      int[] ints = new int[f.length];
      for (int i = 0; i < f.length; i++) {
        ints[i] = (int) f[i];
      }
      return TInt32.tensorOf(shape, DataBuffers.of(ints, true, false));
    }
    return TFloat32.tensorOf(shape, DataBuffers.of(input.data(), true, false));
  }

  private static FloatTensor floats(Tensor fetched) {
    long[] shape = fetched.shape().asArray();
    float[] data = new float[Math.toIntExact(fetched.shape().size())];
    if (fetched instanceof TFloat32 f) {
      f.copyTo(DataBuffers.of(data, false, false));
    } else if (fetched instanceof TInt32 n) {
      int[] ints = new int[data.length];
      n.copyTo(DataBuffers.of(ints, false, false));
      for (int i = 0; i < ints.length; i++) {
        data[i] = ints[i];
      }
    } else {
      throw new IllegalStateException("output is " + fetched.dataType() + ", not float or int32");
    }
    return new FloatTensor(shape, data);
  }

  /**
   * Runs a model with several inputs (a recurrent model's states, say) and returns the requested
   * outputs in the order asked. Every input of the signature must be fed, each is checked against
   * its spec first, and only the signature's outputs may be fetched.
   */
  public java.util.List<FloatTensor> run(
      java.util.Map<TensorSpec, FloatTensor> feeds, java.util.List<TensorSpec> fetches)
      throws FeedRejectedException {
    return withinBudget(() -> runNow(feeds, fetches));
  }

  private java.util.List<FloatTensor> runNow(
      java.util.Map<TensorSpec, FloatTensor> feeds, java.util.List<TensorSpec> fetches)
      throws FeedRejectedException {
    for (TensorSpec in : signature.inputs()) {
      FloatTensor feed = feeds.get(in);
      if (feed == null) {
        throw new FeedRejectedException(in.name() + " is not fed");
      }
      in.checkFeed(DataType.DT_FLOAT, feed.shape());
    }
    if (feeds.size() != signature.inputs().size()) {
      throw new FeedRejectedException("only the signature's inputs may be fed");
    }
    if (fetches.isEmpty() || !signature.outputs().containsAll(fetches)) {
      throw new IllegalArgumentException("fetches must be outputs of the signature: " + fetches);
    }
    for (TensorSpec out : fetches) {
      if (out.dtype() != DataType.DT_FLOAT) {
        throw new IllegalArgumentException(out.name() + " is not float");
      }
    }
    java.util.Map<String, FloatTensor> byName = new java.util.LinkedHashMap<>();
    feeds.forEach((spec, tensor) -> byName.put(spec.name(), tensor));
    return runTensorsNow(byName, fetches.stream().map(TensorSpec::name).toList());
  }

  /**
   * Grows the graph, as {@link ClassScoreGradient} does, while no run is in flight: the session
   * takes in the new ops on its next run. Fails with {@link IllegalStateException} once closed.
   */
  <T> T extendGraph(java.util.function.Function<Graph, T> extension) {
    lifecycle.writeLock().lock();
    try {
      if (closed) {
        throw new IllegalStateException("model is closed");
      }
      return extension.apply(graph);
    } finally {
      lifecycle.writeLock().unlock();
    }
  }

  /**
   * Runs with feeds and fetches named by graph tensor ({@code op:index}), which may lie inside the
   * graph: for the ops Retina adds itself, such as a {@link ClassScoreGradient}'s. Every feed and
   * fetch must be float; the signature's input, when fed, is checked against it first.
   */
  java.util.List<FloatTensor> runTensors(
      java.util.Map<String, FloatTensor> feeds, java.util.List<String> fetches)
      throws FeedRejectedException {
    return withinBudget(() -> runTensorsNow(feeds, fetches));
  }

  private java.util.List<FloatTensor> runTensorsNow(
      java.util.Map<String, FloatTensor> feeds, java.util.List<String> fetches)
      throws FeedRejectedException {
    for (TensorSpec in : signature.inputs()) {
      FloatTensor feed = feeds.get(in.name());
      if (feed != null) {
        in.checkFeed(DataType.DT_FLOAT, feed.shape());
      }
    }
    lifecycle.readLock().lock();
    java.util.List<TFloat32> tensors = new java.util.ArrayList<>();
    try {
      if (closed) {
        throw new IllegalStateException("model is closed");
      }
      Session.Runner runner = session.runner();
      for (java.util.Map.Entry<String, FloatTensor> e : feeds.entrySet()) {
        FloatTensor f = e.getValue();
        TFloat32 t = TFloat32.tensorOf(Shape.of(f.shape()), DataBuffers.of(f.data(), true, false));
        tensors.add(t);
        runner.feed(e.getKey(), t);
      }
      fetches.forEach(runner::fetch);
      try (Result result = runWithinBudget(runner)) {
        java.util.List<FloatTensor> outputs = new java.util.ArrayList<>();
        for (int i = 0; i < fetches.size(); i++) {
          outputs.add(floats(result.get(i)));
        }
        return outputs;
      }
    } finally {
      tensors.forEach(TFloat32::close);
      lifecycle.readLock().unlock();
    }
  }

  @Override
  public void close() {
    lifecycle.writeLock().lock();
    try {
      if (!closed) {
        closed = true;
        owner.close();
      }
    } catch (Exception e) {
      throw new IllegalStateException("closing the model failed", e);
    } finally {
      lifecycle.writeLock().unlock();
    }
  }
}
