package io.retina.workers.tasks;

import io.retina.workers.budget.WorkBudget;

/**
 * Makes an upscaled image agree with the image it came from: each block of {@code s x s} output
 * pixels, averaged, gives back its input pixel, to within {@link #SLACK} of a level.
 *
 * <p>A generator trained with an adversarial loss invents plausible detail but also drifts: edges
 * move by a fraction of a pixel and flat areas change shade, which costs it PSNR against the real
 * photo, often more than bicubic loses. Whatever the photo was, averaging it down gave the input.
 * Iterative back-projection (Irani and Peleg, 1991) takes the drift out: average the output down,
 * compare with the input, spread the difference back over the output with a bilinear kernel, and
 * repeat. Spreading it smoothly, rather than adding the same amount to each pixel of a block,
 * leaves no block edges in the output; the generator's detail within a block is kept.
 *
 * <p>The corrections are summed at the input's size and the output is written once, so memory is
 * one float per input pixel beside the output; the work is a few passes over the output.
 */
final class InputConsistency {

  /**
   * Passes of back-projection. Box-averaging a bilinear spread keeps all of a broad correction and
   * at least a quarter of one that alternates from pixel to pixel in both directions, so a change
   * of shade goes in a pass or two and the finest drift shrinks by at least a quarter each pass.
   */
  static final int PASSES = 8;

  /**
   * The part of a block's difference from its input pixel that is left alone, in levels. The input
   * was rounded to whole levels, so a block of the real photo differs from it by up to half a
   * level; chasing that difference copies the rounding into the output. Measured on 23 photos
   * (docs/models.md), 0.15 level gains 0.06 dB on the smoothest and costs none on average.
   */
  static final float SLACK = 0.15f;

  private InputConsistency() {}

  /**
   * Moves {@code out}'s R, G and B ({@code scale} times {@code in}'s size, interleaved RGBA) so
   * that each {@code scale x scale} block's mean comes back to within {@link #SLACK} of its input
   * pixel. Alpha is left alone.
   */
  static void apply(byte[] in, int width, int height, byte[] out, int scale) {
    Spread spread = new Spread(width, height, scale);
    float[] correction = new float[width * height];
    float[] blockSums = new float[width];
    float[] row = new float[width * scale];
    int outWidth = width * scale;
    float perBlock = 1f / (scale * scale);
    WorkBudget budget = WorkBudget.current();
    for (int c = 0; c < 3; c++) {
      java.util.Arrays.fill(correction, 0f);
      spread.forget();
      for (int pass = 0; pass < PASSES; pass++) {
        for (int y = 0; y < height; y++) {
          budget.check();
          java.util.Arrays.fill(blockSums, 0f);
          for (int dy = 0; dy < scale; dy++) {
            spread.row(correction, y * scale + dy, row);
            int at = (y * scale + dy) * outWidth * 4 + c;
            for (int x = 0, ox = 0; x < width; x++) {
              float sum = blockSums[x];
              for (int k = 0; k < scale; k++, ox++, at += 4) {
                sum += clamp((out[at] & 0xff) + row[ox]);
              }
              blockSums[x] = sum;
            }
          }
          for (int x = 0; x < width; x++) {
            float r = (in[(y * width + x) * 4 + c] & 0xff) - blockSums[x] * perBlock;
            correction[y * width + x] += r > SLACK ? r - SLACK : (r < -SLACK ? r + SLACK : 0f);
          }
          spread.changed(y);
        }
      }
      for (int oy = 0; oy < height * scale; oy++) {
        spread.row(correction, oy, row);
        int at = oy * outWidth * 4 + c;
        for (int ox = 0; ox < outWidth; ox++, at += 4) {
          out[at] = (byte) Math.round(clamp((out[at] & 0xff) + row[ox]));
        }
      }
    }
  }

  private static float clamp(float v) {
    return v < 0f ? 0f : Math.min(v, 255f);
  }

  /**
   * Bilinear enlargement of an input-sized plane by a whole factor, pixel centres on pixel centres,
   * one output row at a time. Each input row is enlarged across once and kept until it changes; an
   * output row mixes two of them, so three are kept.
   */
  private static final class Spread {
    private final int width;
    private final int height;
    private final int scale;
    private final int[] left;
    private final int[] right;
    private final float[] rightWeight;
    private final float[][] across = new float[3][];
    private final int[] acrossRow = {-1, -1, -1};

    Spread(int width, int height, int scale) {
      this.width = width;
      this.height = height;
      this.scale = scale;
      this.left = new int[width * scale];
      this.right = new int[width * scale];
      this.rightWeight = new float[width * scale];
      for (int ox = 0; ox < width * scale; ox++) {
        float sx = (ox + 0.5f) / scale - 0.5f;
        int x0 = (int) Math.floor(sx);
        left[ox] = Math.max(0, x0);
        right[ox] = Math.min(width - 1, x0 + 1);
        rightWeight[ox] = sx - x0;
      }
      for (int i = 0; i < across.length; i++) {
        across[i] = new float[width * scale];
      }
    }

    /** Drops every kept row: the plane is another one now. */
    void forget() {
      java.util.Arrays.fill(acrossRow, -1);
    }

    /** Input row {@code y} of the plane has changed. */
    void changed(int y) {
      if (acrossRow[y % 3] == y) {
        acrossRow[y % 3] = -1;
      }
    }

    /** Output row {@code oy} of {@code plane} enlarged, into {@code row}. */
    void row(float[] plane, int oy, float[] row) {
      float sy = (oy + 0.5f) / scale - 0.5f;
      int y0 = (int) Math.floor(sy);
      float wy = sy - y0;
      float[] upper = across(plane, Math.max(0, y0));
      float[] lower = across(plane, Math.min(height - 1, y0 + 1));
      for (int ox = 0; ox < row.length; ox++) {
        row[ox] = upper[ox] + wy * (lower[ox] - upper[ox]);
      }
    }

    /** Input row {@code y} of {@code plane} enlarged across. */
    private float[] across(float[] plane, int y) {
      float[] kept = across[y % 3];
      if (acrossRow[y % 3] != y) {
        int base = y * width;
        for (int ox = 0; ox < kept.length; ox++) {
          float a = plane[base + left[ox]];
          kept[ox] = a + rightWeight[ox] * (plane[base + right[ox]] - a);
        }
        acrossRow[y % 3] = y;
      }
      return kept;
    }
  }
}
