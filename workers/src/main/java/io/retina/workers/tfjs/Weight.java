package io.retina.workers.tfjs;

/**
 * One named weight of a TF.js model, dequantized: float weights as {@code floats}, int32 and bool
 * weights as {@code ints}. Immutable by convention; shared between threads only while importing.
 */
record Weight(String name, String dtype, long[] shape, float[] floats, int[] ints) {

  /** The number of elements the shape holds. */
  long elements() {
    return elements(shape);
  }

  static long elements(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }

  boolean isFloat() {
    return floats != null;
  }
}
