package io.retina.workers.training;

import java.util.List;
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
 * The softmax head being trained, as a TensorFlow graph: {@code logits = features x weights +
 * bias}, a class-weighted softmax cross-entropy, and Adam minimizing it. Holds every variable of
 * the graph (the head's and Adam's moments and step counters), which {@link #state} reads and
 * {@link #restore} writes back, so that training can pause and go on exactly. Not thread-safe.
 */
final class HeadGraph implements AutoCloseable {

  /** Loss and probabilities of a batch, as the head stood before the batch's step. */
  record Evaluation(double loss, float[] probabilities) {}

  private final int dimension;
  private final int classes;
  private final Graph graph = new Graph();
  private final Session session;
  private final Placeholder<TFloat32> features;
  private final Placeholder<TFloat32> labels;
  private final Placeholder<TFloat32> exampleWeights;
  private final Variable<TFloat32> weights;
  private final Variable<TFloat32> bias;
  private final Operand<TFloat32> loss;
  private final Operand<TFloat32> probabilities;
  private final Op minimize;

  /** Every variable by op name, with the feed and assignment that restore it. */
  private final GraphVariables variables;

  /** A head of zeros for {@code classes} classes over {@code dimension} features. */
  HeadGraph(int dimension, int classes, float learningRate) {
    this.dimension = dimension;
    this.classes = classes;
    Ops tf = Ops.create(graph);
    Ops init = tf.withInitScope();
    features =
        tf.withName("features")
            .placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, dimension)));
    labels =
        tf.withName("labels").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, classes)));
    exampleWeights =
        tf.withName("example_weights").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1)));
    // zeros: the loss is convex in a single softmax layer, so no random start is needed, and
    // none keeps runs with one seed identical for free
    weights =
        init.withName("weights")
            .variable(init.fill(init.constant(new long[] {dimension, classes}), init.constant(0f)));
    bias =
        init.withName("bias")
            .variable(init.fill(init.constant(new long[] {classes}), init.constant(0f)));
    Operand<TFloat32> logits = tf.math.add(tf.linalg.matMul(features, weights), bias);
    Operand<TFloat32> perExample = tf.nn.softmaxCrossEntropyWithLogits(logits, labels).loss();
    // the weighted mean: each class counts as much as the others whatever its number of images
    loss =
        tf.withName("loss")
            .math
            .div(
                tf.sum(tf.math.mul(perExample, exampleWeights), tf.constant(0)),
                tf.sum(exampleWeights, tf.constant(0)));
    probabilities = tf.withName("probabilities").nn.softmax(logits);
    minimize = new OrderedAdam(graph, learningRate).minimize(loss);
    variables = new GraphVariables(graph, tf);
    session = new Session(graph);
    session.initialize();
  }

  /** One optimizer step on a batch; returns the batch's loss before the step. */
  double step(float[][] batchFeatures, int[] batchLabels, float[] classWeights) {
    try (Batch b = new Batch(batchFeatures, batchLabels, classWeights);
        Result r =
            session
                .runner()
                .feed(features, b.features)
                .feed(labels, b.labels)
                .feed(exampleWeights, b.weights)
                .fetch(loss)
                .addTarget(minimize)
                .run()) {
      return ((TFloat32) r.get(0)).getFloat();
    }
  }

  /** The loss and the probabilities ({@code [n][classes]}, row-major) of examples. */
  Evaluation evaluate(float[][] batchFeatures, int[] batchLabels, float[] classWeights) {
    try (Batch b = new Batch(batchFeatures, batchLabels, classWeights);
        Result r =
            session
                .runner()
                .feed(features, b.features)
                .feed(labels, b.labels)
                .feed(exampleWeights, b.weights)
                .fetch(loss)
                .fetch(probabilities)
                .run()) {
      return new Evaluation(
          ((TFloat32) r.get(0)).getFloat(), GraphVariables.floats((TFloat32) r.get(1)));
    }
  }

  /** The head's weights ({@code [dimension][classes]}, row-major) and bias, as they stand. */
  ClassifierHead head(List<String> classNames) {
    try (Result r = session.runner().fetch(weights).fetch(bias).run()) {
      return new ClassifierHead(
          classNames,
          GraphVariables.floats((TFloat32) r.get(0)),
          GraphVariables.floats((TFloat32) r.get(1)));
    }
  }

  /** Every variable's value by name: what {@link #restore} needs to go on from here. */
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

  /** A batch's tensors: features, one-hot labels and each example's class weight. */
  private final class Batch implements AutoCloseable {
    final TFloat32 features;
    final TFloat32 labels;
    final TFloat32 weights;

    Batch(float[][] rows, int[] classOf, float[] classWeights) {
      int n = rows.length;
      float[] flat = new float[n * dimension];
      float[] oneHot = new float[n * classes];
      float[] w = new float[n];
      for (int i = 0; i < n; i++) {
        System.arraycopy(rows[i], 0, flat, i * dimension, dimension);
        oneHot[i * classes + classOf[i]] = 1f;
        w[i] = classWeights[classOf[i]];
      }
      features = TFloat32.tensorOf(Shape.of(n, dimension), DataBuffers.of(flat, true, false));
      labels = TFloat32.tensorOf(Shape.of(n, classes), DataBuffers.of(oneHot, true, false));
      weights = TFloat32.tensorOf(Shape.of(n), DataBuffers.of(w, true, false));
    }

    @Override
    public void close() {
      features.close();
      labels.close();
      weights.close();
    }
  }

  @Override
  public void close() {
    session.close();
    graph.close();
  }
}
