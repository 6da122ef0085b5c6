package io.retina.workers.tfjs;

/** A dense float32 tensor held on the Java heap, row-major. Immutable by convention. */
public record FloatTensor(long[] shape, float[] data) {

  public FloatTensor {
    if (Weight.elements(shape) != data.length) {
      throw new IllegalArgumentException(
          "shape holds " + Weight.elements(shape) + " values, not " + data.length);
    }
  }

  /** A batch-of-one NHWC image tensor. */
  public static FloatTensor image(int height, int width, int channels, float[] hwc) {
    return new FloatTensor(new long[] {1, height, width, channels}, hwc);
  }
}
