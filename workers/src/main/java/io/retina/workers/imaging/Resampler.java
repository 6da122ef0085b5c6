package io.retina.workers.imaging;

/**
 * Bilinear resizing of float images with interleaved channels, with TensorFlow's two sampling
 * conventions. Stateless and thread-safe.
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
    HALF_PIXEL
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
    double scale = (double) in / out;
    for (int i = 0; i < out; i++) {
      double s = sampling == Sampling.LEGACY ? i * scale : Math.max(0, (i + 0.5) * scale - 0.5);
      int f = (int) Math.floor(s);
      lo[i] = Math.min(f, in - 1);
      hi[i] = Math.min(f + 1, in - 1);
      frac[i] = (float) (s - f);
    }
  }
}
