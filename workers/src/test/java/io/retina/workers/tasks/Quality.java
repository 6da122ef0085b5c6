package io.retina.workers.tasks;

import io.retina.workers.imaging.RgbaImage;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;

/** Image measures for the upscale checks and benchmark: downscaling, bicubic, sharpness, SSIM. */
final class Quality {
  private Quality() {}

  /** The w x h window at (x, y), opaque. */
  static RgbaImage crop(RgbaImage img, int x, int y, int w, int h) {
    byte[] px = new byte[w * h * 4];
    for (int row = 0; row < h; row++) {
      System.arraycopy(img.rgba(), ((y + row) * img.width() + x) * 4, px, row * w * 4, w * 4);
    }
    for (int i = 3; i < px.length; i += 4) {
      px[i] = (byte) 255;
    }
    return new RgbaImage(w, h, px, false);
  }

  /** Each s x s block averaged into one pixel (what "area" resizing does for whole factors). */
  static RgbaImage areaDownscale(RgbaImage img, int s) {
    int w = img.width() / s;
    int h = img.height() / s;
    byte[] px = new byte[w * h * 4];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        for (int c = 0; c < 3; c++) {
          int sum = 0;
          for (int dy = 0; dy < s; dy++) {
            for (int dx = 0; dx < s; dx++) {
              sum += img.rgba()[((y * s + dy) * img.width() + x * s + dx) * 4 + c] & 0xff;
            }
          }
          px[(y * w + x) * 4 + c] = (byte) Math.round((float) sum / (s * s));
        }
        px[(y * w + x) * 4 + 3] = (byte) 255;
      }
    }
    return new RgbaImage(w, h, px, false);
  }

  /** java.awt's bicubic resize to s times the size. */
  static RgbaImage bicubic(RgbaImage img, int s) {
    BufferedImage src = toAwt(img);
    BufferedImage dst =
        new BufferedImage(img.width() * s, img.height() * s, BufferedImage.TYPE_INT_RGB);
    var g = dst.createGraphics();
    g.setRenderingHint(
        RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BICUBIC);
    g.drawImage(src, 0, 0, dst.getWidth(), dst.getHeight(), null);
    g.dispose();
    return fromAwt(dst);
  }

  static BufferedImage toAwt(RgbaImage img) {
    BufferedImage b = new BufferedImage(img.width(), img.height(), BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < img.height(); y++) {
      for (int x = 0; x < img.width(); x++) {
        int o = (y * img.width() + x) * 4;
        b.setRGB(
            x,
            y,
            (img.rgba()[o] & 0xff) << 16
                | (img.rgba()[o + 1] & 0xff) << 8
                | img.rgba()[o + 2] & 0xff);
      }
    }
    return b;
  }

  static RgbaImage fromAwt(BufferedImage b) {
    byte[] px = new byte[b.getWidth() * b.getHeight() * 4];
    for (int y = 0; y < b.getHeight(); y++) {
      for (int x = 0; x < b.getWidth(); x++) {
        int rgb = b.getRGB(x, y);
        int o = (y * b.getWidth() + x) * 4;
        px[o] = (byte) (rgb >> 16);
        px[o + 1] = (byte) (rgb >> 8);
        px[o + 2] = (byte) rgb;
        px[o + 3] = (byte) 255;
      }
    }
    return new RgbaImage(b.getWidth(), b.getHeight(), px, false);
  }

  /** BT.601 luma, 0..255. */
  static float[] luma(RgbaImage img) {
    float[] l = new float[img.pixels()];
    for (int i = 0; i < l.length; i++) {
      l[i] =
          0.299f * (img.rgba()[i * 4] & 0xff)
              + 0.587f * (img.rgba()[i * 4 + 1] & 0xff)
              + 0.114f * (img.rgba()[i * 4 + 2] & 0xff);
    }
    return l;
  }

  /** Mean magnitude of the luma's gradient (central differences), on 0..255. */
  static double meanGradient(RgbaImage img) {
    float[] l = luma(img);
    int w = img.width();
    double sum = 0;
    int n = 0;
    for (int y = 1; y < img.height() - 1; y++) {
      for (int x = 1; x < w - 1; x++) {
        double gx = (l[y * w + x + 1] - l[y * w + x - 1]) / 2.0;
        double gy = (l[(y + 1) * w + x] - l[(y - 1) * w + x]) / 2.0;
        sum += Math.sqrt(gx * gx + gy * gy);
        n++;
      }
    }
    return sum / n;
  }

  /**
   * Variance of the luma's 4-neighbour Laplacian: large where there are fine edges and texture,
   * small in a blurred image.
   */
  static double laplacianVariance(RgbaImage img) {
    float[] l = luma(img);
    int w = img.width();
    double sum = 0;
    double sq = 0;
    int n = 0;
    for (int y = 1; y < img.height() - 1; y++) {
      for (int x = 1; x < w - 1; x++) {
        double v =
            l[y * w + x + 1]
                + l[y * w + x - 1]
                + l[(y + 1) * w + x]
                + l[(y - 1) * w + x]
                - 4 * l[y * w + x];
        sum += v;
        sq += v * v;
        n++;
      }
    }
    double mean = sum / n;
    return sq / n - mean * mean;
  }

  /** Moved right and down by d pixels, the edge repeated. */
  static RgbaImage shift(RgbaImage img, int d) {
    int w = img.width();
    int h = img.height();
    byte[] px = new byte[w * h * 4];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int sx = Math.min(w - 1, Math.max(0, x - d));
        int sy = Math.min(h - 1, Math.max(0, y - d));
        System.arraycopy(img.rgba(), (sy * w + sx) * 4, px, (y * w + x) * 4, 4);
      }
    }
    return new RgbaImage(w, h, px, false);
  }

  /** A (2r+1)-square box blur, the edge repeated. */
  static RgbaImage boxBlur(RgbaImage img, int r) {
    int w = img.width();
    int h = img.height();
    byte[] px = new byte[w * h * 4];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        for (int c = 0; c < 3; c++) {
          int sum = 0;
          for (int dy = -r; dy <= r; dy++) {
            for (int dx = -r; dx <= r; dx++) {
              int sx = Math.min(w - 1, Math.max(0, x + dx));
              int sy = Math.min(h - 1, Math.max(0, y + dy));
              sum += img.rgba()[(sy * w + sx) * 4 + c] & 0xff;
            }
          }
          px[(y * w + x) * 4 + c] = (byte) Math.round((float) sum / ((2 * r + 1) * (2 * r + 1)));
        }
        px[(y * w + x) * 4 + 3] = (byte) 255;
      }
    }
    return new RgbaImage(w, h, px, false);
  }

  /**
   * Mean structural similarity of two images' luma (Wang et al. 2004): an 11x11 Gaussian window of
   * sigma 1.5, K1 = 0.01, K2 = 0.03 on 0..255, over the positions where the window fits.
   */
  static double ssim(RgbaImage a, RgbaImage b) {
    if (a.width() != b.width() || a.height() != b.height()) {
      throw new IllegalArgumentException("sizes differ");
    }
    int w = a.width();
    int h = a.height();
    float[] x = luma(a);
    float[] y = luma(b);
    double[] g = new double[11];
    double gs = 0;
    for (int i = 0; i < 11; i++) {
      g[i] = Math.exp(-((i - 5) * (i - 5)) / (2 * 1.5 * 1.5));
      gs += g[i];
    }
    for (int i = 0; i < 11; i++) {
      g[i] /= gs;
    }
    // the five local moments, filtered separably: rows first, then columns
    double[][] maps = {
      new double[w * h], new double[w * h], new double[w * h], new double[w * h], new double[w * h]
    };
    for (int i = 0; i < w * h; i++) {
      maps[0][i] = x[i];
      maps[1][i] = y[i];
      maps[2][i] = (double) x[i] * x[i];
      maps[3][i] = (double) y[i] * y[i];
      maps[4][i] = (double) x[i] * y[i];
    }
    int ow = w - 10;
    int oh = h - 10;
    double[][] f = new double[5][ow * oh];
    double[] row = new double[ow * h];
    for (int m = 0; m < 5; m++) {
      for (int r = 0; r < h; r++) {
        for (int c = 0; c < ow; c++) {
          double acc = 0;
          for (int k = 0; k < 11; k++) {
            acc += g[k] * maps[m][r * w + c + k];
          }
          row[r * ow + c] = acc;
        }
      }
      for (int r = 0; r < oh; r++) {
        for (int c = 0; c < ow; c++) {
          double acc = 0;
          for (int k = 0; k < 11; k++) {
            acc += g[k] * row[(r + k) * ow + c];
          }
          f[m][r * ow + c] = acc;
        }
      }
    }
    double c1 = Math.pow(0.01 * 255, 2);
    double c2 = Math.pow(0.03 * 255, 2);
    double sum = 0;
    for (int i = 0; i < ow * oh; i++) {
      double mx = f[0][i];
      double my = f[1][i];
      double vx = f[2][i] - mx * mx;
      double vy = f[3][i] - my * my;
      double cov = f[4][i] - mx * my;
      sum += (2 * mx * my + c1) * (2 * cov + c2) / ((mx * mx + my * my + c1) * (vx + vy + c2));
    }
    return sum / (ow * oh);
  }
}
