package io.retina.workers.imaging;

import io.retina.workers.budget.WorkBudget;
import java.util.Arrays;

/**
 * Resizing. For what a model sees: bilinear resizing of float images with interleaved channels,
 * with TensorFlow's sampling conventions. For what a person sees: {@link #resize}, which averages
 * over every source pixel an output pixel covers when shrinking, so that a large reduction does not
 * alias. Stateless and thread-safe.
 */
public final class Resampler {

  /** Where a destination pixel samples the source. */
  public enum Sampling {
    /**
     * TensorFlow's default ({@code align_corners=false, half_pixel_centers=false}): source = dst *
     * scale. What TF.js's {@code tf.image.resizeBilinear} does, so models preprocessed with it see
     * the same input.
     */
    LEGACY,
    /** Pixel centres map onto pixel centres: source = (dst + 0.5) * scale - 0.5. No shift. */
    HALF_PIXEL,
    /**
     * {@code align_corners=true}: corner pixels map onto corner pixels, source = dst * (in - 1) /
     * (out - 1). What nsfwjs's preprocessing does.
     */
    ALIGN_CORNERS
  }

  private Resampler() {}

  /** Resizes {@code src} ({@code sw x sh x channels}, row-major) to {@code dw x dh}. */
  public static float[] bilinear(
      float[] src, int sw, int sh, int channels, int dw, int dh, Sampling sampling) {
    if (src.length != sw * sh * channels) {
      throw new IllegalArgumentException("source is not " + sw + "x" + sh + "x" + channels);
    }
    int[] x0 = new int[dw];
    int[] x1 = new int[dw];
    float[] fx = new float[dw];
    weights(sw, dw, sampling, x0, x1, fx);
    int[] y0 = new int[dh];
    int[] y1 = new int[dh];
    float[] fy = new float[dh];
    weights(sh, dh, sampling, y0, y1, fy);
    float[] dst = new float[dw * dh * channels];
    for (int y = 0; y < dh; y++) {
      int top = y0[y] * sw;
      int bottom = y1[y] * sw;
      for (int x = 0; x < dw; x++) {
        for (int c = 0; c < channels; c++) {
          float tl = src[(top + x0[x]) * channels + c];
          float tr = src[(top + x1[x]) * channels + c];
          float bl = src[(bottom + x0[x]) * channels + c];
          float br = src[(bottom + x1[x]) * channels + c];
          float t = tl + (tr - tl) * fx[x];
          float b = bl + (br - bl) * fx[x];
          dst[(y * dw + x) * channels + c] = t + (b - t) * fy[y];
        }
      }
    }
    return dst;
  }

  private static void weights(
      int in, int out, Sampling sampling, int[] lo, int[] hi, float[] frac) {
    double scale =
        sampling == Sampling.ALIGN_CORNERS && out > 1
            ? (in - 1) / (double) (out - 1)
            : (double) in / out;
    for (int i = 0; i < out; i++) {
      double s = sampling == Sampling.HALF_PIXEL ? Math.max(0, (i + 0.5) * scale - 0.5) : i * scale;
      int f = (int) Math.floor(s);
      lo[i] = Math.min(f, in - 1);
      hi[i] = Math.min(f + 1, in - 1);
      frac[i] = (float) (s - f);
    }
  }

  /**
   * Resizes the whole of {@code src} to {@code dw x dh}; see {@link #resize(RgbaImage, double,
   * double, double, double, int, int)}.
   */
  public static RgbaImage resize(RgbaImage src, int dw, int dh) {
    return resize(src, 0, 0, src.width(), src.height(), dw, dh);
  }

  /**
   * Resizes the region {@code sw x sh} at ({@code sx}, {@code sy}) of {@code src}, in source pixels
   * (fractions allowed), to {@code dw x dh}, for display: a triangle (bilinear) filter widened by
   * the reduction factor when shrinking (as Pillow's antialiased bilinear does), pixel centres
   * mapped onto pixel centres, colour weighted by alpha so that transparent pixels lend no colour
   * to their neighbours. Near a region's edge the filter reads the pixels beyond it, as if the
   * whole image were resized and then cropped. Works row by row, in memory proportional to a row;
   * observes the {@link WorkBudget} bound to the thread.
   */
  public static RgbaImage resize(
      RgbaImage src, double sx, double sy, double sw, double sh, int dw, int dh) {
    if (!(sx >= 0 && sy >= 0 && sw > 0 && sh > 0)
        || sx + sw > src.width()
        || sy + sh > src.height()) {
      throw new IllegalArgumentException(
          String.format(
              "region %sx%s at %s,%s is outside %dx%d", sw, sh, sx, sy, src.width(), src.height()));
    }
    if (dw < 1 || dh < 1) {
      throw new IllegalArgumentException("empty output: " + dw + "x" + dh);
    }
    Taps across = Taps.of(sx, sw, dw, src.width());
    Taps down = Taps.of(sy, sh, dh, src.height());
    byte[] pixels = src.rgba();
    int stride = src.width() * 4;
    float[] row = new float[dw * 4];
    float[] sum = new float[dw * 4];
    byte[] out = new byte[dw * dh * 4];
    WorkBudget budget = WorkBudget.current();
    for (int y = 0; y < dh; y++) {
      budget.check();
      Arrays.fill(sum, 0f);
      for (int t = 0; t < down.count[y]; t++) {
        // a source row is resampled again for each output row it reaches (two or three when
        // shrinking, twice the factor when enlarging): slower than keeping rows, but memory stays
        // at two rows however the image is shaped (measured: 24 MP to 1024 px in about a second)
        resampleRow(pixels, (down.start[y] + t) * stride, across, row);
        float wy = down.weights[y * down.width + t];
        for (int i = 0; i < sum.length; i++) {
          sum[i] += wy * row[i];
        }
      }
      for (int x = 0; x < dw; x++) {
        int o = (y * dw + x) * 4;
        float a = sum[x * 4 + 3];
        // back from alpha-weighted colour; a pixel with no alpha left has no colour to show
        float unweight = a > 0.5f / 255f ? 1f / a : 0f;
        out[o] = PixelPacking.toByte(sum[x * 4] * unweight);
        out[o + 1] = PixelPacking.toByte(sum[x * 4 + 1] * unweight);
        out[o + 2] = PixelPacking.toByte(sum[x * 4 + 2] * unweight);
        out[o + 3] = PixelPacking.toByte(a * 255f);
      }
    }
    return new RgbaImage(dw, dh, out, src.hasAlpha());
  }

  /** One source row resampled across: alpha-weighted colour (0..255) and alpha (0..1). */
  private static void resampleRow(byte[] pixels, int rowStart, Taps across, float[] row) {
    int dw = across.start.length;
    for (int x = 0; x < dw; x++) {
      float r = 0;
      float g = 0;
      float b = 0;
      float a = 0;
      int p = rowStart + across.start[x] * 4;
      int w = x * across.width;
      for (int t = 0; t < across.count[x]; t++, p += 4) {
        float alpha = (pixels[p + 3] & 0xff) / 255f * across.weights[w + t];
        r += (pixels[p] & 0xff) * alpha;
        g += (pixels[p + 1] & 0xff) * alpha;
        b += (pixels[p + 2] & 0xff) * alpha;
        a += alpha;
      }
      row[x * 4] = r;
      row[x * 4 + 1] = g;
      row[x * 4 + 2] = b;
      row[x * 4 + 3] = a;
    }
  }

  /**
   * For each output index along one axis, the source pixels it reads ({@code count[i]} from {@code
   * start[i]}) and their weights, which sum to 1 ({@code width} slots per index).
   */
  private record Taps(int[] start, int[] count, float[] weights, int width) {
    /**
     * {@code out} pixels over {@code length} source pixels from {@code offset}, of {@code full}.
     */
    static Taps of(double offset, double length, int out, int full) {
      double scale = length / out;
      // shrinking by n, each output pixel averages over n source pixels on either side of it
      double filterScale = Math.max(scale, 1.0);
      double support = filterScale;
      int width = (int) Math.ceil(support) * 2 + 1;
      int[] start = new int[out];
      int[] count = new int[out];
      float[] weights = new float[out * width];
      for (int i = 0; i < out; i++) {
        double center = offset + (i + 0.5) * scale;
        int lo = Math.max(0, (int) Math.floor(center - support));
        int hi = Math.min(full, (int) Math.ceil(center + support));
        double total = 0;
        int n = 0;
        for (int j = lo; j < hi; j++, n++) {
          double w = Math.max(0, 1 - Math.abs((j + 0.5 - center) / filterScale));
          weights[i * width + n] = (float) w;
          total += w;
        }
        for (int k = 0; k < n; k++) {
          weights[i * width + k] /= (float) total;
        }
        start[i] = lo;
        count[i] = n;
      }
      return new Taps(start, count, weights, width);
    }
  }
}
