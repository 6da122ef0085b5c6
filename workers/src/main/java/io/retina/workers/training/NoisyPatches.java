package io.retina.workers.training;

import io.retina.workers.imaging.PixelPacking;
import io.retina.workers.imaging.RgbaImage;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Square patches of an image, clean and with Gaussian noise added: what the denoiser trains and is
 * measured on. Noisy values are clipped to [0, 1] and rounded to 8 bits, as a noisy photo that
 * reaches the served task is. Deterministic: the same image and random stream give the same
 * patches. Stateless and thread-safe.
 */
final class NoisyPatches {

  /**
   * A patch's side: over four times the network's reach ({@link ConvAutoencoder#REACH}), so most of
   * a patch is denoised as inside a photo, and small enough that a batch steps in tenths of a
   * second on two cores.
   */
  static final int SIDE = 48;

  /** Values in one patch, HWC. */
  static final int VALUES = SIDE * SIDE * 3;

  /** One patch, RGB in [0, 1], HWC. */
  record Patch(float[] clean, float[] noisy) {}

  private NoisyPatches() {}

  /**
   * {@code count} patches of {@code image} at places {@code random} picks, each flipped
   * horizontally or not as it says, with noise of standard deviation {@code sigma} from it.
   */
  static List<Patch> draw(RgbaImage image, int count, double sigma, SplittableRandom random) {
    List<Patch> out = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      int x = random.nextInt(image.width() - SIDE + 1);
      int y = random.nextInt(image.height() - SIDE + 1);
      float[] clean = PixelPacking.rgb(image, x, y, SIDE, SIDE, 1f / 255f);
      if (random.nextBoolean()) {
        flipHorizontally(clean);
      }
      out.add(new Patch(clean, noisy(clean, sigma, random)));
    }
    return out;
  }

  /** {@code clean} with noise of standard deviation {@code sigma} added, clipped and rounded. */
  static float[] noisy(float[] clean, double sigma, SplittableRandom random) {
    float[] out = new float[clean.length];
    for (int i = 0; i < clean.length; i++) {
      double v = clean[i] + sigma * random.nextGaussian();
      out[i] = (PixelPacking.toByte((float) (v * 255)) & 0xff) / 255f;
    }
    return out;
  }

  /** The patches' values, one after another, as the graph takes a batch. */
  static float[] flat(List<Patch> patches, boolean noisy) {
    float[] out = new float[patches.size() * VALUES];
    for (int i = 0; i < patches.size(); i++) {
      Patch p = patches.get(i);
      System.arraycopy(noisy ? p.noisy() : p.clean(), 0, out, i * VALUES, VALUES);
    }
    return out;
  }

  private static void flipHorizontally(float[] rgb) {
    for (int y = 0; y < SIDE; y++) {
      for (int x = 0; x < SIDE / 2; x++) {
        int a = (y * SIDE + x) * 3;
        int b = (y * SIDE + SIDE - 1 - x) * 3;
        for (int c = 0; c < 3; c++) {
          float t = rgb[a + c];
          rgb[a + c] = rgb[b + c];
          rgb[b + c] = t;
        }
      }
    }
  }
}
