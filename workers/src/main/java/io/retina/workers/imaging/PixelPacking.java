package io.retina.workers.imaging;

/**
 * Moves pixels between {@link RgbaImage}s and the row-major float arrays (HWC) that model tensors
 * are made of. Stateless and thread-safe.
 */
public final class PixelPacking {

  private PixelPacking() {}

  /** The RGB of a window of {@code img}, each byte multiplied by {@code scale}, as HWC floats. */
  public static float[] rgb(RgbaImage img, int x, int y, int w, int h, float scale) {
    if (x < 0 || y < 0 || x + w > img.width() || y + h > img.height()) {
      throw new IllegalArgumentException("window outside the image");
    }
    byte[] src = img.rgba();
    float[] out = new float[w * h * 3];
    for (int row = 0; row < h; row++) {
      int s = ((y + row) * img.width() + x) * 4;
      int d = row * w * 3;
      for (int col = 0; col < w; col++, s += 4, d += 3) {
        out[d] = (src[s] & 0xff) * scale;
        out[d + 1] = (src[s + 1] & 0xff) * scale;
        out[d + 2] = (src[s + 2] & 0xff) * scale;
      }
    }
    return out;
  }

  /** The whole image's RGB, scaled, as HWC floats. */
  public static float[] rgb(RgbaImage img, float scale) {
    return rgb(img, 0, 0, img.width(), img.height(), scale);
  }

  /** A float clipped to [0, 255] and rounded to the nearest byte value. */
  public static byte toByte(float v) {
    if (!(v > 0)) {
      return 0; // also NaN
    }
    return v >= 255 ? (byte) 255 : (byte) Math.round(v);
  }
}
