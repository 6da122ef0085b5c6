package io.retina.workers.training;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
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
 * A small convolutional classifier trained from scratch, as a TensorFlow graph: a 3x3 convolution
 * and ReLU, another, a 2x2 max-pool, a dense layer to the classes, softmax cross-entropy, and Adam
 * ({@link OrderedAdam}) minimizing it through TensorFlow's own gradients. Made for small
 * single-channel images, such as 8x8 digits: nothing is pretrained, so what it reaches says how
 * well TensorFlow Java trains a network on its own. The starting weights follow from the seed, so
 * two instances built alike start alike. Not thread-safe.
 */
final class SmallCnn implements AutoCloseable {

  /** Filters of the first convolution and of the second: enough for 8x8 digits, and fast. */
  private static final int FIRST_FILTERS = 16;

  private static final int SECOND_FILTERS = 32;

  private final int height;
  private final int width;
  private final int classes;
  private final Graph graph = new Graph();
  private final Session session;
  private final Placeholder<TFloat32> images;
  private final Placeholder<TFloat32> labels;
  private final Operand<TFloat32> loss;
  private final Operand<TFloat32> probabilities;
  private final Op minimize;

  /** A network for {@code height x width} images in [0, 1] and {@code classes} classes. */
  SmallCnn(int height, int width, int classes, float learningRate, long seed) {
    this.height = height;
    this.width = width;
    this.classes = classes;
    Random random = new Random(seed);
    Ops tf = Ops.create(graph);
    images =
        tf.withName("images")
            .placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, height, width, 1)));
    labels =
        tf.withName("labels").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, classes)));
    Operand<TFloat32> first = convolution(tf, "conv1", images, 1, FIRST_FILTERS, random);
    Operand<TFloat32> second =
        convolution(tf, "conv2", first, FIRST_FILTERS, SECOND_FILTERS, random);
    Operand<TFloat32> pooled =
        tf.nn.maxPool(
            second,
            tf.constant(new int[] {1, 2, 2, 1}),
            tf.constant(new int[] {1, 2, 2, 1}),
            "VALID");
    int flat = (height / 2) * (width / 2) * SECOND_FILTERS;
    Operand<TFloat32> logits =
        tf.math.add(
            tf.linalg.matMul(
                tf.reshape(pooled, tf.constant(new long[] {-1, flat})),
                weights(tf, "dense", Shape.of(flat, classes), flat, random)),
            zeros(tf, "dense_bias", classes));
    loss =
        tf.withName("loss")
            .math
            .mean(tf.nn.softmaxCrossEntropyWithLogits(logits, labels).loss(), tf.constant(0));
    probabilities = tf.withName("probabilities").nn.softmax(logits);
    minimize = new OrderedAdam(graph, learningRate).minimize(loss);
    session = new Session(graph);
    session.initialize();
  }

  /** A 3x3 convolution keeping the size ("SAME"), its bias, and ReLU. */
  private static Operand<TFloat32> convolution(
      Ops tf, String name, Operand<TFloat32> input, int in, int out, Random random) {
    Variable<TFloat32> filter = weights(tf, name, Shape.of(3, 3, in, out), 9 * in, random);
    return tf.nn.relu(
        tf.nn.biasAdd(
            tf.nn.conv2d(input, filter, List.of(1L, 1L, 1L, 1L), "SAME"),
            zeros(tf, name + "_bias", out)));
  }

  /**
   * Weights drawn from a normal of variance 2 / fan-in (He et al.), which keeps the size of the
   * signal through ReLU layers; from the seed's stream, so the same in every run.
   */
  private static Variable<TFloat32> weights(
      Ops tf, String name, Shape shape, int fanIn, Random random) {
    float[] values = new float[Math.toIntExact(shape.size())];
    double deviation = Math.sqrt(2.0 / fanIn);
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) (random.nextGaussian() * deviation);
    }
    Ops init = tf.withInitScope();
    return init.withName(name).variable(init.constant(shape, DataBuffers.of(values, true, false)));
  }

  private static Variable<TFloat32> zeros(Ops tf, String name, int size) {
    Ops init = tf.withInitScope();
    return init.withName(name).variable(init.constant(Shape.of(size), DataBuffers.ofFloats(size)));
  }

  /**
   * One pass over the training images in batches of {@code batchSize}, in an order shuffled by
   * {@code seed} and {@code epoch}; returns their mean loss, each batch's taken before its step.
   */
  double epoch(float[][] trainImages, int[] trainLabels, int batchSize, long seed, int epoch) {
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < trainImages.length; i++) {
      order.add(i);
    }
    Collections.shuffle(order, new Random(seed * 31 + epoch));
    double lossSum = 0;
    for (int from = 0; from < order.size(); from += batchSize) {
      List<Integer> batch = order.subList(from, Math.min(order.size(), from + batchSize));
      float[][] x = new float[batch.size()][];
      int[] y = new int[batch.size()];
      for (int i = 0; i < batch.size(); i++) {
        x[i] = trainImages[batch.get(i)];
        y[i] = trainLabels[batch.get(i)];
      }
      lossSum += step(x, y) * batch.size();
    }
    return lossSum / trainImages.length;
  }

  /**
   * One optimizer step on a batch of images ({@code height * width} values each, row-major);
   * returns the batch's mean loss before the step.
   */
  double step(float[][] batchImages, int[] batchLabels) {
    try (TFloat32 x = imagesTensor(batchImages);
        TFloat32 y = oneHot(batchLabels);
        Result r =
            session
                .runner()
                .feed(images, x)
                .feed(labels, y)
                .fetch(loss)
                .addTarget(minimize)
                .run()) {
      return ((TFloat32) r.get(0)).getFloat();
    }
  }

  /** The most probable class of each image. */
  int[] predict(float[][] batchImages) {
    try (TFloat32 x = imagesTensor(batchImages);
        Result r = session.runner().feed(images, x).fetch(probabilities).run()) {
      TFloat32 p = (TFloat32) r.get(0);
      int[] best = new int[batchImages.length];
      for (int i = 0; i < best.length; i++) {
        for (int c = 1; c < classes; c++) {
          best[i] = p.getFloat(i, c) > p.getFloat(i, best[i]) ? c : best[i];
        }
      }
      return best;
    }
  }

  private TFloat32 imagesTensor(float[][] rows) {
    int size = height * width;
    float[] flat = new float[rows.length * size];
    for (int i = 0; i < rows.length; i++) {
      System.arraycopy(rows[i], 0, flat, i * size, size);
    }
    return TFloat32.tensorOf(
        Shape.of(rows.length, height, width, 1), DataBuffers.of(flat, true, false));
  }

  private TFloat32 oneHot(int[] classOf) {
    float[] values = new float[classOf.length * classes];
    for (int i = 0; i < classOf.length; i++) {
      values[i * classes + classOf[i]] = 1f;
    }
    return TFloat32.tensorOf(
        Shape.of(classOf.length, classes), DataBuffers.of(values, true, false));
  }

  @Override
  public void close() {
    session.close();
    graph.close();
  }
}
