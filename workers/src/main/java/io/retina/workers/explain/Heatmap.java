package io.retina.workers.explain;

import io.retina.workers.imaging.PngEncoder;

/**
 * Where a classifier looked: a grid of non-negative heat laid over the model's whole input, cell
 * (0, 0) at the top left, row-major. Only the heat's proportions mean anything; its scale is the
 * method's own. Immutable by convention.
 */
public record Heatmap(int width, int height, float[] heat) {

  public Heatmap {
    if (width <= 0 || height <= 0 || heat.length != width * height) {
      throw new IllegalArgumentException(
          width + "x" + height + " cells can't hold " + heat.length + " values");
    }
  }

  /**
   * The heat as an 8-bit grey image of {@code w} x {@code h} over the same area: bilinear between
   * cell centres, white where the heat is highest, black where there is none (all black when there
   * is none anywhere).
   */
  public byte[] grey(int w, int h) {
    float max = 0;
    for (float v : heat) {
      max = Math.max(max, v);
    }
    byte[] grey = new byte[w * h];
    if (max <= 0) {
      return grey;
    }
    for (int y = 0; y < h; y++) {
      float gy = clamp((y + 0.5f) * height / h - 0.5f, height - 1);
      int y0 = (int) gy;
      int y1 = Math.min(height - 1, y0 + 1);
      float wy = gy - y0;
      for (int x = 0; x < w; x++) {
        float gx = clamp((x + 0.5f) * width / w - 0.5f, width - 1);
        int x0 = (int) gx;
        int x1 = Math.min(width - 1, x0 + 1);
        float wx = gx - x0;
        float top = heat[y0 * width + x0] * (1 - wx) + heat[y0 * width + x1] * wx;
        float bottom = heat[y1 * width + x0] * (1 - wx) + heat[y1 * width + x1] * wx;
        float v = (top * (1 - wy) + bottom * wy) / max;
        grey[y * w + x] = (byte) Math.round(Math.max(0, Math.min(1, v)) * 255);
      }
    }
    return grey;
  }

  /** {@link #grey} as a greyscale PNG. */
  public byte[] png(int w, int h) {
    return PngEncoder.encodeGray(w, h, grey(w, h));
  }

  private static float clamp(float v, int max) {
    return Math.max(0, Math.min(max, v));
  }
}
