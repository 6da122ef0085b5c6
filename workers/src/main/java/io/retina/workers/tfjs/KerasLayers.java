package io.retina.workers.tfjs;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.image.ResizeBilinear;
import org.tensorflow.op.image.ResizeNearestNeighbor;
import org.tensorflow.op.math.Mean;
import org.tensorflow.op.nn.Conv2d;
import org.tensorflow.op.nn.DepthwiseConv2dNative;
import org.tensorflow.op.nn.LeakyRelu;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * Builds the TensorFlow ops of one Keras layer (channels-last, float32) from its config and the
 * model's weights. Not thread-safe: one instance builds one graph, from one thread.
 */
final class KerasLayers {

  private final Map<String, Weight> weights;

  KerasLayers(Map<String, Weight> weights) {
    this.weights = weights;
  }

  /** The output of layer {@code name} of class {@code type} applied to {@code in}. */
  Operand<TFloat32> apply(
      Ops tf, String type, String name, JsonObject c, List<Operand<TFloat32>> in)
      throws IOException {
    Operand<TFloat32> x = in.get(0);
    return switch (type) {
      case "Conv2D" -> conv2d(tf, name, c, x);
      case "DepthwiseConv2D" -> depthwiseConv2d(tf, name, c, x);
      case "Dense" -> dense(tf, name, c, x);
      case "BatchNormalization" -> batchNorm(tf, name, c, x);
      case "Activation" -> activation(tf, c.get("activation"), x);
      case "ReLU" -> relu(tf, c, x);
      case "LeakyReLU" ->
          tf.nn.leakyRelu(x, LeakyRelu.alpha(number(c, 0.3f, "alpha", "negative_slope")));
      case "PReLU" -> prelu(tf, x, weight(tf, name, "alpha"));
      case "Softmax" -> tf.nn.softmax(x);
      case "Add" -> fold(in, tf.math::add);
      case "Subtract" -> tf.math.sub(x, in.get(1));
      case "Multiply" -> fold(in, tf.math::mul);
      case "Maximum" -> fold(in, tf.math::maximum);
      case "Minimum" -> fold(in, tf.math::minimum);
      case "Average" -> tf.math.mul(fold(in, tf.math::add), tf.constant(1f / in.size()));
      case "Concatenate" ->
          tf.concat(in, tf.constant(c.has("axis") ? c.get("axis").getAsInt() : -1));
      case "UpSampling2D" -> upSampling(tf, c, x);
      case "ZeroPadding2D" -> zeroPadding(tf, c, x);
      case "MaxPooling2D" ->
          tf.nn.maxPool(x, window(tf, pair(c, "pool_size")), window(tf, strides(c)), padding(c));
      case "AveragePooling2D" ->
          tf.nn.avgPool(x, nhwc(pair(c, "pool_size")), nhwc(strides(c)), padding(c));
      case "GlobalAveragePooling2D" ->
          tf.math.mean(
              x,
              tf.constant(new int[] {1, 2}),
              Mean.keepDims(c.has("keepdims") && c.get("keepdims").getAsBoolean()));
      case "Flatten" -> flatten(tf, name, x);
      case "Reshape" -> reshape(tf, c, x);
      // UpscalerJS's custom layers in its RRDN ESRGANs: a residual scaled by beta (0.2), and
      // tf.depthToSpace in NHWC, which is TensorFlow's DepthToSpace (DCR order)
      case "MultiplyBeta" -> tf.math.mul(x, tf.constant(number(c, 0.2f, "beta")));
      case "PixelShuffle2x", "PixelShuffle3x", "PixelShuffle4x", "PixelShuffle8x" ->
          tf.nn.depthToSpace(x, c.get("scale").getAsLong());
      case "Dropout",
          "SpatialDropout2D",
          "GaussianNoise",
          "GaussianDropout",
          "ActivityRegularization" ->
          x;
      default -> throw new IOException("layer " + name + ": unsupported layer type " + type);
    };
  }

  private Operand<TFloat32> conv2d(Ops tf, String name, JsonObject c, Operand<TFloat32> x)
      throws IOException {
    channelsLast(name, c);
    if (c.has("groups") && c.get("groups").getAsInt() != 1) {
      throw new IOException("layer " + name + ": grouped convolution is not supported");
    }
    Operand<TFloat32> y =
        tf.nn.conv2d(
            x,
            weight(tf, name, "kernel"),
            nhwc(strides(c)),
            padding(c),
            Conv2d.dilations(nhwc(pair(c, "dilation_rate"))));
    return activation(tf, c.get("activation"), bias(tf, name, c, y));
  }

  private Operand<TFloat32> depthwiseConv2d(Ops tf, String name, JsonObject c, Operand<TFloat32> x)
      throws IOException {
    channelsLast(name, c);
    Operand<TFloat32> y =
        tf.nn.depthwiseConv2dNative(
            x,
            weight(tf, name, "depthwise_kernel"),
            nhwc(strides(c)),
            padding(c),
            DepthwiseConv2dNative.dilations(nhwc(pair(c, "dilation_rate"))));
    return activation(tf, c.get("activation"), bias(tf, name, c, y));
  }

  private Operand<TFloat32> dense(Ops tf, String name, JsonObject c, Operand<TFloat32> x)
      throws IOException {
    if (x.shape().numDimensions() > 2) {
      throw new IOException(
          "layer "
              + name
              + ": Dense on a rank "
              + x.shape().numDimensions()
              + " input is not supported");
    }
    Operand<TFloat32> y = tf.linalg.matMul(x, weight(tf, name, "kernel"));
    return activation(tf, c.get("activation"), bias(tf, name, c, y));
  }

  /** Inference-mode batch norm, folded into one scale and one offset per channel. */
  private Operand<TFloat32> batchNorm(Ops tf, String name, JsonObject c, Operand<TFloat32> x)
      throws IOException {
    JsonElement axis = c.get("axis");
    int a = axis.isJsonArray() ? axis.getAsJsonArray().get(0).getAsInt() : axis.getAsInt();
    if (a != -1 && a != x.shape().numDimensions() - 1) {
      throw new IOException("layer " + name + ": batch norm over axis " + a + " is not supported");
    }
    float epsilon = number(c, 1e-3f, "epsilon");
    Weight mean = find(name, "moving_mean");
    Weight variance = find(name, "moving_variance");
    boolean scale = !c.has("scale") || c.get("scale").getAsBoolean();
    boolean center = !c.has("center") || c.get("center").getAsBoolean();
    int n = mean.floats().length;
    float[] gamma = scale ? find(name, "gamma").floats() : null;
    float[] beta = center ? find(name, "beta").floats() : null;
    float[] mul = new float[n];
    float[] add = new float[n];
    for (int i = 0; i < n; i++) {
      mul[i] = (float) ((gamma == null ? 1 : gamma[i]) / Math.sqrt(variance.floats()[i] + epsilon));
      add[i] = (beta == null ? 0 : beta[i]) - mean.floats()[i] * mul[i];
    }
    return tf.math.add(
        tf.math.mul(x, constant(tf, new long[] {n}, mul)), constant(tf, new long[] {n}, add));
  }

  private Operand<TFloat32> relu(Ops tf, JsonObject c, Operand<TFloat32> x) throws IOException {
    float slope = number(c, 0f, "negative_slope");
    if (number(c, 0f, "threshold") != 0f) {
      throw new IOException("ReLU with a threshold is not supported");
    }
    Operand<TFloat32> y = slope == 0f ? tf.nn.relu(x) : tf.nn.leakyRelu(x, LeakyRelu.alpha(slope));
    if (!c.has("max_value") || c.get("max_value").isJsonNull()) {
      return y;
    }
    float max = c.get("max_value").getAsFloat();
    return max == 6f && slope == 0f ? tf.nn.relu6(x) : tf.math.minimum(y, tf.constant(max));
  }

  private static Operand<TFloat32> prelu(Ops tf, Operand<TFloat32> x, Operand<TFloat32> alpha) {
    Operand<TFloat32> pos = tf.nn.relu(x);
    return tf.math.add(pos, tf.math.mul(alpha, tf.math.sub(x, pos)));
  }

  /** Keras's activation functions, by the name a layer config gives. */
  static Operand<TFloat32> activation(Ops tf, JsonElement activation, Operand<TFloat32> x)
      throws IOException {
    String name =
        activation == null || activation.isJsonNull() ? "linear" : activation.getAsString();
    return switch (name) {
      case "linear" -> x;
      case "relu" -> tf.nn.relu(x);
      case "relu6" -> tf.nn.relu6(x);
      case "sigmoid" -> tf.math.sigmoid(x);
      case "tanh" -> tf.math.tanh(x);
      case "softmax" -> tf.nn.softmax(x);
      case "elu" -> tf.nn.elu(x);
      case "softplus" -> tf.math.softplus(x);
      case "swish", "silu" -> tf.math.mul(x, tf.math.sigmoid(x));
      case "hard_sigmoid" ->
          tf.clipByValue(
              tf.math.add(tf.math.mul(x, tf.constant(0.2f)), tf.constant(0.5f)),
              tf.constant(0f),
              tf.constant(1f));
      default -> throw new IOException("unsupported activation " + name);
    };
  }

  private Operand<TFloat32> upSampling(Ops tf, JsonObject c, Operand<TFloat32> x)
      throws IOException {
    long[] size = pair(c, "size");
    Operand<TInt32> hw =
        tf.stridedSlice(
            tf.shape(x),
            tf.constant(new int[] {1}),
            tf.constant(new int[] {3}),
            tf.constant(new int[] {1}));
    Operand<TInt32> target = tf.math.mul(hw, tf.constant(new int[] {(int) size[0], (int) size[1]}));
    String interpolation =
        c.has("interpolation") ? c.get("interpolation").getAsString() : "nearest";
    return switch (interpolation) {
      // for integer factors both pixel conventions pick the same neighbour
      case "nearest" ->
          tf.image.resizeNearestNeighbor(x, target, ResizeNearestNeighbor.halfPixelCenters(true));
      // Keras resizes with tf.image.resize, which centres pixels
      case "bilinear" -> tf.image.resizeBilinear(x, target, ResizeBilinear.halfPixelCenters(true));
      default ->
          throw new IOException(
              "UpSampling2D interpolation " + interpolation + " is not supported");
    };
  }

  private static Operand<TFloat32> zeroPadding(Ops tf, JsonObject c, Operand<TFloat32> x) {
    JsonElement p = c.get("padding");
    int[][] pads = new int[4][2];
    if (p.isJsonPrimitive()) {
      int v = p.getAsInt();
      pads[1] = new int[] {v, v};
      pads[2] = new int[] {v, v};
    } else {
      JsonArray a = p.getAsJsonArray();
      for (int i = 0; i < 2; i++) {
        JsonElement e = a.get(i);
        pads[i + 1] =
            e.isJsonArray()
                ? new int[] {
                  e.getAsJsonArray().get(0).getAsInt(), e.getAsJsonArray().get(1).getAsInt()
                }
                : new int[] {e.getAsInt(), e.getAsInt()};
      }
    }
    return tf.pad(x, tf.constant(pads), tf.constant(0f));
  }

  private static Operand<TFloat32> flatten(Ops tf, String name, Operand<TFloat32> x)
      throws IOException {
    Shape s = x.shape();
    if (s.isUnknown() || s.numDimensions() < 2) {
      throw new IOException("layer " + name + ": Flatten needs a known input shape");
    }
    long n = 1;
    for (int i = 1; i < s.numDimensions(); i++) {
      if (s.size(i) < 0) {
        throw new IOException("layer " + name + ": Flatten needs known dimensions, got " + s);
      }
      n *= s.size(i);
    }
    return tf.reshape(x, tf.constant(new long[] {-1, n}));
  }

  private static Operand<TFloat32> reshape(Ops tf, JsonObject c, Operand<TFloat32> x) {
    JsonArray target = c.getAsJsonArray("target_shape");
    long[] shape = new long[target.size() + 1];
    shape[0] = -1;
    for (int i = 0; i < target.size(); i++) {
      shape[i + 1] = target.get(i).getAsLong();
    }
    return tf.reshape(x, tf.constant(shape));
  }

  private Operand<TFloat32> bias(Ops tf, String name, JsonObject c, Operand<TFloat32> y)
      throws IOException {
    boolean useBias = !c.has("use_bias") || c.get("use_bias").getAsBoolean();
    return useBias ? tf.nn.biasAdd(y, weight(tf, name, "bias")) : y;
  }

  /** A weight of a layer as a graph constant. */
  Operand<TFloat32> weight(Ops tf, String layer, String param) throws IOException {
    Weight w = find(layer, param);
    return constant(tf, w.shape(), w.floats());
  }

  /**
   * {@code layer/param}, or a weight whose name ends with it (some converters prefix the model).
   */
  private Weight find(String layer, String param) throws IOException {
    String key = layer + "/" + param;
    Weight w = weights.get(key);
    if (w == null) {
      List<Weight> suffixed = new ArrayList<>();
      for (Weight candidate : weights.values()) {
        if (candidate.name().endsWith("/" + key) || candidate.name().equals(key + ":0")) {
          suffixed.add(candidate);
        }
      }
      w = suffixed.size() == 1 ? suffixed.get(0) : null;
    }
    if (w == null || !w.isFloat()) {
      throw new IOException("layer " + layer + ": no float weight " + key + " in the manifest");
    }
    return w;
  }

  private static Operand<TFloat32> constant(Ops tf, long[] shape, float[] values) {
    return tf.constant(Shape.of(shape), DataBuffers.of(values, true, false));
  }

  private static Operand<TFloat32> fold(
      List<Operand<TFloat32>> in, java.util.function.BinaryOperator<Operand<TFloat32>> op) {
    Operand<TFloat32> acc = in.get(0);
    for (int i = 1; i < in.size(); i++) {
      acc = op.apply(acc, in.get(i));
    }
    return acc;
  }

  private static void channelsLast(String name, JsonObject c) throws IOException {
    if (c.has("data_format") && !c.get("data_format").getAsString().equals("channels_last")) {
      throw new IOException("layer " + name + ": only channels_last is supported");
    }
  }

  private static String padding(JsonObject c) {
    return c.has("padding")
        ? c.get("padding").getAsString().toUpperCase(java.util.Locale.ROOT)
        : "VALID";
  }

  private static long[] strides(JsonObject c) {
    return c.has("strides") && !c.get("strides").isJsonNull()
        ? pair(c, "strides")
        : pair(c, "pool_size");
  }

  /** A two-dimensional size that a config writes as one number or as a pair; 1x1 when absent. */
  private static long[] pair(JsonObject c, String key) {
    JsonElement e = c.get(key);
    if (e == null || e.isJsonNull()) {
      return new long[] {1, 1};
    }
    if (e.isJsonPrimitive()) {
      return new long[] {e.getAsLong(), e.getAsLong()};
    }
    return new long[] {
      e.getAsJsonArray().get(0).getAsLong(), e.getAsJsonArray().get(1).getAsLong()
    };
  }

  private static List<Long> nhwc(long[] hw) {
    return List.of(1L, hw[0], hw[1], 1L);
  }

  private static Operand<TInt32> window(Ops tf, long[] hw) {
    return tf.constant(new int[] {1, (int) hw[0], (int) hw[1], 1});
  }

  private static float number(JsonObject c, float fallback, String... keys) {
    for (String key : keys) {
      if (c.has(key) && !c.get(key).isJsonNull()) {
        return c.get(key).getAsFloat();
      }
    }
    return fallback;
  }
}
