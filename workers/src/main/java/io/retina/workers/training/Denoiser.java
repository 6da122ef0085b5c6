package io.retina.workers.training;

import java.util.LinkedHashMap;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/**
 * A trained denoiser ready to run: the network of {@link DenoiserTrainer}, with its weights as
 * constants in a graph of its own. Fully convolutional, so it takes any size whose sides are
 * multiples of {@link #FACTOR}; each output pixel depends only on input pixels within {@link
 * #REACH} of it, so a large image can run in overlapping windows and give the same answer.
 * Thread-safe: runs share the session, which is.
 */
public final class Denoiser implements AutoCloseable {

  /** What an input's sides must be multiples of. */
  public static final int FACTOR = ConvAutoencoder.FACTOR;

  /** How far, in pixels, the network looks around each pixel. */
  public static final int REACH = ConvAutoencoder.REACH;

  private final Graph graph = new Graph();
  private final Session session;
  private final Placeholder<TFloat32> input;
  private final Operand<TFloat32> output;

  /** Builds the network with {@code weights}. */
  public Denoiser(DenoiserWeights weights) {
    Ops tf = Ops.create(graph);
    input =
        tf.withName("noisy").placeholder(TFloat32.class, Placeholder.shape(Shape.of(1, -1, -1, 3)));
    Map<String, Operand<TFloat32>> constants = new LinkedHashMap<>();
    for (String name : ConvAutoencoder.parameters()) {
      constants.put(
          name,
          tf.withName(name)
              .constant(
                  Shape.of(ConvAutoencoder.shape(name)),
                  DataBuffers.of(weights.parameters().get(name), true, false)));
    }
    output = ConvAutoencoder.denoise(tf, input, constants);
    session = new Session(graph);
  }

  /**
   * The denoised {@code rgb} (HWC, {@code width} x {@code height}, values in [0, 1]), unclipped.
   *
   * @throws IllegalArgumentException if a side is not a multiple of {@link #FACTOR}
   */
  public float[] denoise(float[] rgb, int width, int height) {
    if (width % FACTOR != 0 || height % FACTOR != 0 || rgb.length != width * height * 3) {
      throw new IllegalArgumentException(
          width + "x" + height + " RGB must have sides that are multiples of " + FACTOR);
    }
    try (TFloat32 x =
            TFloat32.tensorOf(Shape.of(1, height, width, 3), DataBuffers.of(rgb, true, false));
        Result r = session.runner().feed(input, x).fetch(output).run()) {
      return GraphVariables.floats((TFloat32) r.get(0));
    }
  }

  @Override
  public void close() {
    session.close();
    graph.close();
  }
}
