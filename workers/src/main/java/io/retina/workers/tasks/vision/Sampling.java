package io.retina.workers.tasks.vision;

import io.retina.workers.imaging.RgbaImage;

/**
 * Builds the model inputs of the vision tasks from an image, sampling it the way TF.js's CPU
 * kernels do, so a task's input equals the reference's to float rounding. Stateless and
 * thread-safe.
 */
public final class Sampling {

  private Sampling() {}

  /**
   * Where an image sits in the square it was padded to: {@code side} = its longer side, and the
   * zero (black) rows above it and columns left of it. Model coordinates in the square map back to
   * the image by {@link #toImageX}/{@link #toImageY}.
   */
  public record Letterbox(int side, int top, int left) {

    public static Letterbox of(int width, int height) {
      int side = Math.max(width, height);
      return new Letterbox(side, (side - height) / 2, (side - width) / 2);
    }

    /** x in pixels of the image, from x in pixels of a {@code size}-wide model input. */
    public double toImageX(double x, int size) {
      return x * side / size - left;
    }

    /** y in pixels of the image, from y in pixels of a {@code size}-high model input. */
    public double toImageY(double y, int size) {
      return y * side / size - top;
    }
  }

  /**
   * The image padded with black to a centred square ({@link Letterbox}) and resized to {@code size
   * x size} with TF's legacy bilinear sampling ({@code tf.image.resizeBilinear} after {@code
   * tf.pad}), as 0..255 RGB floats, HWC.
   */
  public static float[] letterbox(RgbaImage img, int size) {
    Letterbox lb = Letterbox.of(img.width(), img.height());
    double scale = (double) lb.side() / size;
    byte[] px = img.rgba();
    float[] out = new float[size * size * 3];
    for (int y = 0; y < size; y++) {
      double sy = y * scale;
      int y0 = (int) Math.floor(sy);
      int y1 = Math.min((int) Math.ceil(sy), lb.side() - 1);
      float fy = (float) (sy - y0);
      for (int x = 0; x < size; x++) {
        double sx = x * scale;
        int x0 = (int) Math.floor(sx);
        int x1 = Math.min((int) Math.ceil(sx), lb.side() - 1);
        float fx = (float) (sx - x0);
        for (int c = 0; c < 3; c++) {
          float tl = padded(px, img, lb, x0, y0, c);
          float tr = padded(px, img, lb, x1, y0, c);
          float bl = padded(px, img, lb, x0, y1, c);
          float br = padded(px, img, lb, x1, y1, c);
          float t = tl + (tr - tl) * fx;
          float b = bl + (br - bl) * fx;
          out[(y * size + x) * 3 + c] = t + (b - t) * fy;
        }
      }
    }
    return out;
  }

  private static float padded(byte[] px, RgbaImage img, Letterbox lb, int x, int y, int c) {
    int ix = x - lb.left();
    int iy = y - lb.top();
    if (ix < 0 || iy < 0 || ix >= img.width() || iy >= img.height()) {
      return 0;
    }
    return px[(iy * img.width() + ix) * 4 + c] & 0xff;
  }

  /**
   * A window of the image resized to {@code size x size}, as {@code tf.image.cropAndResize} with
   * bilinear sampling and extrapolation value 0 computes it: {@code y1, x1, y2, x2} are normalized
   * so that 0..1 spans pixel centres 0..height-1 (or width-1), and samples outside the image are 0.
   * Returns 0..255 RGB floats, HWC.
   */
  public static float[] crop(RgbaImage img, double y1, double x1, double y2, double x2, int size) {
    int w = img.width();
    int h = img.height();
    byte[] px = img.rgba();
    double hScale = size > 1 ? (y2 - y1) * (h - 1) / (size - 1) : 0;
    double wScale = size > 1 ? (x2 - x1) * (w - 1) / (size - 1) : 0;
    float[] out = new float[size * size * 3];
    for (int y = 0; y < size; y++) {
      double sy = size > 1 ? y1 * (h - 1) + y * hScale : 0.5 * (y1 + y2) * (h - 1);
      if (sy < 0 || sy > h - 1) {
        continue; // extrapolation value 0
      }
      int top = (int) Math.floor(sy);
      int bottom = (int) Math.ceil(sy);
      double fy = sy - top;
      for (int x = 0; x < size; x++) {
        double sx = size > 1 ? x1 * (w - 1) + x * wScale : 0.5 * (x1 + x2) * (w - 1);
        if (sx < 0 || sx > w - 1) {
          continue;
        }
        int left = (int) Math.floor(sx);
        int right = (int) Math.ceil(sx);
        double fx = sx - left;
        for (int c = 0; c < 3; c++) {
          double tl = px[(top * w + left) * 4 + c] & 0xff;
          double tr = px[(top * w + right) * 4 + c] & 0xff;
          double bl = px[(bottom * w + left) * 4 + c] & 0xff;
          double br = px[(bottom * w + right) * 4 + c] & 0xff;
          double t = tl + (tr - tl) * fx;
          double b = bl + (br - bl) * fx;
          out[(y * size + x) * 3 + c] = (float) (t + (b - t) * fy);
        }
      }
    }
    return out;
  }
}
