package io.retina.workers.imaging;

/**
 * A decoded 8-bit image held as interleaved RGBA bytes, plus whether its source carried alpha.
 * Immutable by convention: nothing in Retina writes to {@link #rgba()} after construction, so an
 * instance may be shared between threads.
 */
public record RgbaImage(int width, int height, byte[] rgba, boolean hasAlpha) {

  public RgbaImage {
    if (width <= 0 || height <= 0) {
      throw new IllegalArgumentException("empty image: " + width + "x" + height);
    }
    if (rgba.length != (long) width * height * 4) {
      throw new IllegalArgumentException(
          "expected " + width * height * 4 + " bytes, got " + rgba.length);
    }
  }

  /** Number of pixels. */
  public int pixels() {
    return width * height;
  }

  /** One channel (0=R, 1=G, 2=B, 3=A) as floats in [0, 1]. */
  public float[] channel(int c) {
    float[] out = new float[pixels()];
    for (int i = 0; i < out.length; i++) {
      out[i] = (rgba[i * 4 + c] & 0xff) / 255f;
    }
    return out;
  }
}
