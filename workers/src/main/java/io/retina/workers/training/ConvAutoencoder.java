package io.retina.workers.training;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * The tenant denoiser's network, built alike for training and for serving: a small convolutional
 * autoencoder that predicts the noise in an RGB image (values in [0, 1], NHWC) and subtracts it.
 *
 * <pre>
 *   enc1  3x3 conv  3 -> 32, ReLU          full resolution
 *         2x2 average pool                 half
 *   enc2  3x3 conv 32 -> 64, ReLU          half
 *   mid   3x3 conv 64 -> 32, ReLU          half
 *         nearest-neighbour upsampling x2  full
 *   dec1  3x3 conv 32 -> 32, + enc1, ReLU  full (the skip keeps the detail pooling lost)
 *   out   3x3 conv 32 -> 3                 the noise; the answer is the input minus it
 * </pre>
 *
 * Every op has a C++ gradient in TensorFlow, so the training graph differentiates itself.
 * Convolution pads with zeros ("SAME"); an input's sides must be multiples of {@link #FACTOR}.
 * Stateless.
 */
final class ConvAutoencoder {

  /** What {@code denoiser.json} names the network by, with {@link #VERSION}. */
  static final String ARCHITECTURE = "conv-autoencoder";

  /** Raise when the layers below change; a file of another version is refused, not misread. */
  static final int VERSION = 1;

  /** The pooling's factor: what an input's sides must be multiples of. */
  static final int FACTOR = 2;

  /**
   * How far from a pixel, in pixels of the input, the network looks to denoise it; beyond that the
   * answer does not depend on the input. out and dec1 reach 2 at full resolution, the upsampling's
   * rounding 1 more, enc2 and mid 2 half-resolution pixels (4), and enc1 1.
   */
  static final int REACH = 8;

  /** One 3x3 convolution with a bias. */
  record Layer(String name, int in, int out) {
    long[] kernelShape() {
      return new long[] {3, 3, in, out};
    }
  }

  /**
   * 32 and 64 channels, narrowed back to 32 before upsampling: on two CPU cores a batch of sixteen
   * 48x48 patches steps in about a quarter of a second. Measured on five skimage photos: with 64
   * channels on through mid and dec1, an epoch took 3.5 s and 12 epochs gained 4 dB on a held-out
   * photo; as here, 2.2 s and 8 dB.
   */
  static final List<Layer> LAYERS =
      List.of(
          new Layer("enc1", 3, 32),
          new Layer("enc2", 32, 64),
          new Layer("mid", 64, 32),
          new Layer("dec1", 32, 32),
          new Layer("out", 32, 3));

  private ConvAutoencoder() {}

  /** The parameters' names, in the file's order: each layer's "kernel" then its "bias". */
  static List<String> parameters() {
    List<String> names = new ArrayList<>();
    for (Layer l : LAYERS) {
      names.add(kernel(l));
      names.add(bias(l));
    }
    return names;
  }

  /** The shape of parameter {@code name}: [3, 3, in, out] for a kernel, [out] for a bias. */
  static long[] shape(String name) {
    for (Layer l : LAYERS) {
      if (name.equals(kernel(l))) {
        return l.kernelShape();
      }
      if (name.equals(bias(l))) {
        return new long[] {l.out()};
      }
    }
    throw new IllegalArgumentException("no parameter " + name);
  }

  static int size(String name) {
    long n = 1;
    for (long d : shape(name)) {
      n *= d;
    }
    return Math.toIntExact(n);
  }

  static String kernel(Layer l) {
    return l.name() + "_kernel";
  }

  static String bias(Layer l) {
    return l.name() + "_bias";
  }

  /**
   * A start for training, drawn from {@code seed}: He-normal kernels (the spread that keeps a ReLU
   * network's activations from shrinking or growing layer by layer), the last one a tenth of that
   * so that the network starts near "no noise" and its output near its input; zero biases.
   */
  static Map<String, float[]> initial(long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    Map<String, float[]> p = new LinkedHashMap<>();
    for (Layer l : LAYERS) {
      double spread = l == LAYERS.get(LAYERS.size() - 1) ? 0 : Math.sqrt(2.0 / (9 * l.in()));
      float[] k = new float[size(kernel(l))];
      for (int i = 0; i < k.length; i++) {
        k[i] = (float) (random.nextGaussian() * spread);
      }
      p.put(kernel(l), k);
      p.put(bias(l), new float[l.out()]);
    }
    return p;
  }

  /**
   * The denoised images of {@code noisy} ([n, h, w, 3], sides multiples of {@link #FACTOR}), with
   * the parameters {@code p} holds by name, variables when training, constants when serving.
   */
  static Operand<TFloat32> denoise(
      Ops tf, Operand<TFloat32> noisy, Map<String, ? extends Operand<TFloat32>> p) {
    // centred on mid-grey, so that ReLUs see signs and not only brightness
    Operand<TFloat32> centred = tf.math.sub(noisy, tf.constant(0.5f));
    Operand<TFloat32> enc1 = tf.nn.relu(conv(tf, centred, p, LAYERS.get(0)));
    Operand<TFloat32> pooled =
        tf.nn.avgPool(
            enc1, List.of(1L, 2L, 2L, 1L), List.of(1L, (long) FACTOR, (long) FACTOR, 1L), "VALID");
    Operand<TFloat32> enc2 = tf.nn.relu(conv(tf, pooled, p, LAYERS.get(1)));
    Operand<TFloat32> mid = tf.nn.relu(conv(tf, enc2, p, LAYERS.get(2)));
    // the input's own height and width: taken from the input, on which no gradient flows
    Operand<org.tensorflow.types.TInt32> size =
        tf.stridedSlice(
            tf.shape(noisy),
            tf.constant(new int[] {1}),
            tf.constant(new int[] {3}),
            tf.constant(new int[] {1}));
    Operand<TFloat32> up = tf.image.resizeNearestNeighbor(mid, size);
    Operand<TFloat32> dec1 = tf.nn.relu(tf.math.add(conv(tf, up, p, LAYERS.get(3)), enc1));
    Operand<TFloat32> noise = conv(tf, dec1, p, LAYERS.get(4));
    return tf.withName("denoised").math.sub(noisy, noise);
  }

  private static Operand<TFloat32> conv(
      Ops tf, Operand<TFloat32> x, Map<String, ? extends Operand<TFloat32>> p, Layer l) {
    return tf.nn.biasAdd(
        tf.nn.conv2d(x, p.get(kernel(l)), List.of(1L, 1L, 1L, 1L), "SAME"), p.get(bias(l)));
  }
}
