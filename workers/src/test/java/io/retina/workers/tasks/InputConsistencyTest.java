package io.retina.workers.tasks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** Back-projection on generated images, where what agreeing with the input means is exact. */
class InputConsistencyTest {

  /** Width x height x 4 random bytes, each channel within {@code lo..hi}. */
  private static byte[] random(Random r, int pixels, int lo, int hi) {
    byte[] px = new byte[pixels * 4];
    for (int i = 0; i < px.length; i++) {
      px[i] = (byte) (lo + r.nextInt(hi - lo + 1));
    }
    return px;
  }

  /** The largest gap between an input pixel and the mean of its block in the output, in levels. */
  private static double worstGap(byte[] in, int w, int h, byte[] out, int s) {
    double worst = 0;
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        for (int c = 0; c < 3; c++) {
          double sum = 0;
          for (int dy = 0; dy < s; dy++) {
            for (int dx = 0; dx < s; dx++) {
              sum += out[(((y * s + dy) * w * s) + x * s + dx) * 4 + c] & 0xff;
            }
          }
          worst = Math.max(worst, Math.abs(sum / (s * s) - (in[(y * w + x) * 4 + c] & 0xff)));
        }
      }
    }
    return worst;
  }

  /**
   * An output whose blocks have each drifted from their input pixel by 20 to 40 levels comes back:
   * under a tenth of the worst drift is left, and alpha is not touched. Pixels stay away from 0 and
   * 255, so no clipping stands in the way.
   */
  @Test
  void aDriftedOutputComesBackToItsInput() {
    Random r = new Random(7);
    for (int s : new int[] {2, 3, 4, 8}) {
      for (int[] size : new int[][] {{37, 23}, {1, 1}, {5, 1}, {1, 6}}) {
        int w = size[0];
        int h = size[1];
        byte[] in = random(r, w * h, 60, 190);
        byte[] out = drifted(r, in, w, h, s);
        double before = worstGap(in, w, h, out, s);
        byte[] alpha = new byte[w * s * h * s];
        for (int i = 0; i < alpha.length; i++) {
          alpha[i] = out[i * 4 + 3];
        }
        InputConsistency.apply(in, w, h, out, s);
        double after = worstGap(in, w, h, out, s);
        String what = "x" + s + " of " + w + "x" + h + ": " + before + " -> " + after;
        assertTrue(before > 10, what);
        // drift that alternates block by block is the slowest to go (a quarter of it a pass at
        // worst); what a generator does to a photo is mostly broader, and goes in a pass or two
        assertTrue(after <= before / 10, what);
        for (int i = 0; i < alpha.length; i++) {
          assertEquals(alpha[i], out[i * 4 + 3], "alpha of pixel " + i);
        }
      }
    }
  }

  /**
   * The input enlarged by repeating each pixel, each block's channels then moved by 20 to 30 levels
   * up or down, and each pixel's by up to 10 more.
   */
  private static byte[] drifted(Random r, byte[] in, int w, int h, int s) {
    int[] shift = new int[w * h * 3];
    for (int i = 0; i < shift.length; i++) {
      shift[i] = (r.nextBoolean() ? 1 : -1) * (20 + r.nextInt(11));
    }
    byte[] out = new byte[w * s * h * s * 4];
    for (int oy = 0; oy < h * s; oy++) {
      for (int ox = 0; ox < w * s; ox++) {
        int block = (oy / s) * w + ox / s;
        int to = (oy * w * s + ox) * 4;
        for (int c = 0; c < 3; c++) {
          int v = (in[block * 4 + c] & 0xff) + shift[block * 3 + c] + r.nextInt(21) - 10;
          out[to + c] = (byte) v;
        }
        out[to + 3] = (byte) r.nextInt(256);
      }
    }
    return out;
  }

  /** A drift shared by the whole image (a change of shade) is taken out to within a level. */
  @Test
  void aChangeOfShadeIsTakenOut() {
    Random r = new Random(3);
    int w = 40;
    int h = 30;
    for (int s : new int[] {2, 4}) {
      byte[] in = random(r, w * h, 60, 190);
      byte[] out = new byte[w * s * h * s * 4];
      for (int oy = 0; oy < h * s; oy++) {
        for (int ox = 0; ox < w * s; ox++) {
          int from = ((oy / s) * w + ox / s) * 4;
          for (int c = 0; c < 3; c++) {
            out[(oy * w * s + ox) * 4 + c] = (byte) ((in[from + c] & 0xff) + 25 + r.nextInt(5) - 2);
          }
        }
      }
      InputConsistency.apply(in, w, h, out, s);
      double after = worstGap(in, w, h, out, s);
      assertTrue(after <= 1.0, "x" + s + ": " + after);
    }
  }

  /** An output that already agrees with its input is left exactly as it is. */
  @Test
  void anOutputThatAgreesIsLeftAlone() {
    Random r = new Random(11);
    int w = 19;
    int h = 13;
    int s = 4;
    byte[] in = random(r, w * h, 0, 255);
    // every pixel of a block is its input pixel: nearest-neighbour enlargement
    byte[] out = new byte[w * s * h * s * 4];
    for (int oy = 0; oy < h * s; oy++) {
      for (int ox = 0; ox < w * s; ox++) {
        System.arraycopy(in, ((oy / s) * w + ox / s) * 4, out, (oy * w * s + ox) * 4, 4);
      }
    }
    byte[] expected = out.clone();
    InputConsistency.apply(in, w, h, out, s);
    assertArrayEquals(expected, out);
  }
}
