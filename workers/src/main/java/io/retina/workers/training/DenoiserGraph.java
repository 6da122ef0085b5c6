package io.retina.workers.training;

import java.util.LinkedHashMap;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;

/**
 * The denoiser being trained, as a TensorFlow graph: {@link ConvAutoencoder} over a batch of noisy
 * patches, the mean squared error against the clean ones, and Adam ({@link OrderedAdam}) minimizing
 * it. Holds every variable of the graph, which {@link #state} reads and {@link #restore} writes
 * back, so that training can pause and go on exactly. Not thread-safe.
 */
final class DenoiserGraph implements AutoCloseable {

  private final Graph graph = new Graph();
  private final Session session;
  private final Placeholder<TFloat32> noisy;
  private final Placeholder<TFloat32> clean;
  private final Operand<TFloat32> denoised;
  private final Operand<TFloat32> loss;
  private final Op minimize;
  private final Map<String, Variable<TFloat32>> parameters = new LinkedHashMap<>();
  private final GraphVariables variables;

  /** A network starting from {@code initial} (by {@link ConvAutoencoder#parameters} name). */
  DenoiserGraph(Map<String, float[]> initial, float learningRate) {
    Ops tf = Ops.create(graph);
    Ops init = tf.withInitScope();
    noisy =
        tf.withName("noisy")
            .placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, -1, -1, 3)));
    clean =
        tf.withName("clean")
            .placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, -1, -1, 3)));
    for (String name : ConvAutoencoder.parameters()) {
      Shape shape = Shape.of(ConvAutoencoder.shape(name));
      parameters.put(
          name,
          init.withName(name)
              .variable(init.constant(shape, DataBuffers.of(initial.get(name), true, false))));
    }
    denoised = ConvAutoencoder.denoise(tf, noisy, parameters);
    loss =
        tf.withName("loss")
            .math
            .mean(tf.math.squaredDifference(denoised, clean), tf.constant(new int[] {0, 1, 2, 3}));
    minimize = new OrderedAdam(graph, learningRate).minimize(loss);
    variables = new GraphVariables(graph, tf);
    session = new Session(graph);
    session.initialize();
  }

  /**
   * One optimizer step on a batch of {@code n} square patches of side {@code side} (HWC, patch
   * after patch); returns the batch's loss before the step.
   */
  double step(float[] noisyPatches, float[] cleanPatches, int n, int side) {
    try (TFloat32 x = patches(noisyPatches, n, side);
        TFloat32 y = patches(cleanPatches, n, side);
        Result r =
            session.runner().feed(noisy, x).feed(clean, y).fetch(loss).addTarget(minimize).run()) {
      return ((TFloat32) r.get(0)).getFloat();
    }
  }

  /** The network's output for {@code n} patches, as {@link #step} takes them. */
  float[] denoise(float[] noisyPatches, int n, int side) {
    try (TFloat32 x = patches(noisyPatches, n, side);
        Result r = session.runner().feed(noisy, x).fetch(denoised).run()) {
      return GraphVariables.floats((TFloat32) r.get(0));
    }
  }

  /** The network's parameters as they stand, by {@link ConvAutoencoder#parameters} name. */
  Map<String, float[]> parameters() {
    Session.Runner runner = session.runner();
    parameters.values().forEach(runner::fetch);
    Map<String, float[]> out = new LinkedHashMap<>();
    try (Result r = runner.run()) {
      int i = 0;
      for (String name : parameters.keySet()) {
        out.put(name, GraphVariables.floats((TFloat32) r.get(i++)));
      }
    }
    return out;
  }

  /** Every variable's value by name, Adam's included: what {@link #restore} needs to go on. */
  Map<String, float[]> state() {
    return variables.read(session);
  }

  /**
   * Sets every variable to the values {@link #state} gave, from a graph built alike.
   *
   * @throws IllegalArgumentException if the state is not of such a graph
   */
  void restore(Map<String, float[]> state) {
    variables.write(session, state);
  }

  private static TFloat32 patches(float[] values, int n, int side) {
    return TFloat32.tensorOf(Shape.of(n, side, side, 3), DataBuffers.of(values, true, false));
  }

  @Override
  public void close() {
    session.close();
    graph.close();
  }
}
