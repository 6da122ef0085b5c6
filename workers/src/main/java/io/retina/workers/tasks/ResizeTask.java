package io.retina.workers.tasks;

import io.retina.workers.imaging.Resampler;
import io.retina.workers.imaging.RgbaImage;
import java.util.List;
import java.util.Map;

/**
 * Resizes a photo to the box {@code width x height} (1 to {@link #MAX_SIDE} each), and converts its
 * format on the way ({@link Outputs}). No model: Retina's own resampling ({@link
 * Resampler#resize}), so a job's cost is the platform's alone. How the photo meets the box is
 * {@code fit}:
 *
 * <ul>
 *   <li>{@code contain}: as large as fits inside the box, aspect kept; one side equals the box's,
 *       the other is at most its;
 *   <li>{@code cover}: exactly the box, aspect kept, the overflow cropped equally from both sides;
 *   <li>{@code fill}: exactly the box, stretched.
 * </ul>
 *
 * Small photos are enlarged as readily as large ones are reduced. Stateless and thread-safe.
 */
final class ResizeTask implements ImageTask {

  /** The longest side asked for: 4096 x 4096 is 16.8 megapixels, 67 MB of RGBA. */
  static final int MAX_SIDE = 4096;

  /**
   * The box when the job names none: large enough that most photos shrink to a web size rather than
   * grow (models.conf gives the same defaults).
   */
  static final int DEFAULT_SIDE = 1024;

  static final List<String> FITS = List.of("contain", "cover", "fill");

  @Override
  public TaskOutput run(byte[] encodedImage, Map<String, String> params)
      throws InvalidInputException {
    int width = Inputs.whole(params, "width", 1, MAX_SIDE, DEFAULT_SIDE);
    int height = Inputs.whole(params, "height", 1, MAX_SIDE, DEFAULT_SIDE);
    String fit = Inputs.choice(params, "fit", FITS, "contain");
    Outputs.check(params);
    RgbaImage img = Inputs.decode(encodedImage);
    return Outputs.image(resize(img, width, height, fit), params);
  }

  /** {@code img} fitted to the box {@code width x height} as {@code fit} says. */
  static RgbaImage resize(RgbaImage img, int width, int height, String fit) {
    int w = img.width();
    int h = img.height();
    // compared as cross products, exactly: is the photo wider than the box, for its height?
    boolean wider = (long) w * height > (long) h * width;
    return switch (fit) {
      case "fill" -> Resampler.resize(img, width, height);
      case "contain" ->
          wider
              ? Resampler.resize(img, width, side(h, width, w, height))
              : Resampler.resize(img, side(w, height, h, width), height);
      case "cover" -> {
        if (wider) {
          // the box's aspect taken from the middle of the photo's width
          double cropped = (double) h * width / height;
          yield Resampler.resize(img, (w - cropped) / 2, 0, cropped, h, width, height);
        }
        double cropped = (double) w * height / width;
        yield Resampler.resize(img, 0, (h - cropped) / 2, w, cropped, width, height);
      }
      default -> throw new IllegalArgumentException("unknown fit " + fit);
    };
  }

  /** {@code side} scaled by {@code to / from}, rounded, at least 1 and at most {@code max}. */
  private static int side(int side, int to, int from, int max) {
    long scaled = Math.round((double) side * to / from);
    return (int) Math.max(1, Math.min(max, scaled));
  }

  @Override
  public void close() {
    // no model to release
  }
}
