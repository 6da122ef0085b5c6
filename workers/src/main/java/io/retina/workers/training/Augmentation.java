package io.retina.workers.training;

import io.retina.workers.imaging.PixelPacking;
import io.retina.workers.imaging.RgbaImage;
import java.util.SplittableRandom;

/**
 * The random changes a training image goes through before it is embedded, so that the head learns
 * what a class looks like rather than one photo of it: a crop, a horizontal flip, and jitter of
 * brightness, contrast and saturation. Deterministic: the same image and random stream give the
 * same result. Stateless and thread-safe.
 */
final class Augmentation {

  /** An RGB image with values in [0, 1], row-major HWC. */
  record Rgb(float[] pixels, int width, int height) {}

  /** The smallest crop, as a fraction of each side: enough to move a subject, not to lose it. */
  private static final double MIN_CROP = 0.8;

  /** Brightness moves by up to this much of full scale, either way. */
  private static final double BRIGHTNESS = 0.1;

  /** Contrast and saturation are multiplied by 1 plus or minus up to this. */
  private static final double CONTRAST = 0.2;

  private static final double SATURATION = 0.2;

  private Augmentation() {}

  /** {@code image} cropped, maybe flipped, and jittered, as {@code random} decides. */
  static Rgb apply(RgbaImage image, SplittableRandom random) {
    int w = crop(image.width(), random);
    int h = crop(image.height(), random);
    int x = random.nextInt(image.width() - w + 1);
    int y = random.nextInt(image.height() - h + 1);
    float[] rgb = PixelPacking.rgb(image, x, y, w, h, 1f / 255f);
    if (random.nextBoolean()) {
      flipHorizontally(rgb, w, h);
    }
    float brightness = (float) random.nextDouble(-BRIGHTNESS, BRIGHTNESS);
    float contrast = (float) random.nextDouble(1 - CONTRAST, 1 + CONTRAST);
    float saturation = (float) random.nextDouble(1 - SATURATION, 1 + SATURATION);
    jitter(rgb, brightness, contrast, saturation);
    return new Rgb(rgb, w, h);
  }

  private static int crop(int side, SplittableRandom random) {
    return Math.max(1, (int) Math.round(side * random.nextDouble(MIN_CROP, 1.0)));
  }

  private static void flipHorizontally(float[] rgb, int w, int h) {
    for (int y = 0; y < h; y++) {
      for (int left = y * w, right = left + w - 1; left < right; left++, right--) {
        for (int c = 0; c < 3; c++) {
          float t = rgb[left * 3 + c];
          rgb[left * 3 + c] = rgb[right * 3 + c];
          rgb[right * 3 + c] = t;
        }
      }
    }
  }

  /**
   * Saturation around each pixel's grey, contrast around the image's mean grey, then brightness;
   * the result is clipped to [0, 1].
   */
  private static void jitter(float[] rgb, float brightness, float contrast, float saturation) {
    double sum = 0;
    for (int i = 0; i < rgb.length; i += 3) {
      sum += grey(rgb, i);
    }
    float mean = (float) (sum / (rgb.length / 3));
    for (int i = 0; i < rgb.length; i += 3) {
      float grey = grey(rgb, i);
      for (int c = 0; c < 3; c++) {
        float v = grey + (rgb[i + c] - grey) * saturation;
        v = mean + (v - mean) * contrast + brightness;
        rgb[i + c] = Math.min(1f, Math.max(0f, v));
      }
    }
  }

  /** Luma as ITU-R BT.601 weighs it. */
  private static float grey(float[] rgb, int i) {
    return 0.299f * rgb[i] + 0.587f * rgb[i + 1] + 0.114f * rgb[i + 2];
  }
}
