package io.retina.workers.tasks;

import io.retina.workers.imaging.RgbaImage;

/** Generated test images and pixel comparisons. */
final class ImageFixtures {

  private ImageFixtures() {}

  /** Mean and max absolute difference over R, G and B. */
  record Diff(double mean, int max) {
    @Override
    public String toString() {
      return String.format("mean abs diff %.6f, max %d (of 255)", mean, max);
    }
  }

  static Diff rgbDiff(RgbaImage a, RgbaImage b) {
    if (a.width() != b.width() || a.height() != b.height()) {
      throw new AssertionError(
          a.width() + "x" + a.height() + " vs " + b.width() + "x" + b.height());
    }
    long sum = 0;
    int max = 0;
    for (int i = 0; i < a.pixels(); i++) {
      for (int c = 0; c < 3; c++) {
        int d = Math.abs((a.rgba()[i * 4 + c] & 0xff) - (b.rgba()[i * 4 + c] & 0xff));
        sum += d;
        max = Math.max(max, d);
      }
    }
    return new Diff(sum / (3.0 * a.pixels()), max);
  }

  /** Peak signal-to-noise ratio over R, G and B, in dB: 10 log10(255² / mean squared error). */
  static double psnr(RgbaImage a, RgbaImage b) {
    rgbDiff(a, b); // checks the sizes
    double se = 0;
    for (int i = 0; i < a.pixels(); i++) {
      for (int c = 0; c < 3; c++) {
        double d = (a.rgba()[i * 4 + c] & 0xff) - (b.rgba()[i * 4 + c] & 0xff);
        se += d * d;
      }
    }
    return 10 * Math.log10(255.0 * 255.0 / (se / (3.0 * a.pixels())));
  }

  /**
   * Smooth gradients and sharp stripes; with alpha, transparent on the left, opaque on the right.
   */
  static RgbaImage pattern(int w, int h, boolean alpha) {
    byte[] px = new byte[w * h * 4];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int o = (y * w + x) * 4;
        px[o] = (byte) (x * 255 / Math.max(1, w - 1));
        px[o + 1] = (byte) (y * 255 / Math.max(1, h - 1));
        px[o + 2] = (byte) ((x / 3 + y / 3) % 2 == 0 ? 30 : 220);
        px[o + 3] = alpha ? (byte) (x * 255 / Math.max(1, w - 1)) : (byte) 255;
      }
    }
    return new RgbaImage(w, h, px, alpha);
  }

  /**
   * A w x h image tiled from mirrored copies of {@code src}, so it has photo content everywhere.
   */
  static RgbaImage mosaic(RgbaImage src, int w, int h) {
    byte[] px = new byte[w * h * 4];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int sx = mirror(x, src.width());
        int sy = mirror(y, src.height());
        System.arraycopy(src.rgba(), (sy * src.width() + sx) * 4, px, (y * w + x) * 4, 3);
        px[(y * w + x) * 4 + 3] = (byte) 255;
      }
    }
    return new RgbaImage(w, h, px, false);
  }

  private static int mirror(int i, int n) {
    int period = 2 * n;
    int m = i % period;
    return m < n ? m : period - 1 - m;
  }
}
