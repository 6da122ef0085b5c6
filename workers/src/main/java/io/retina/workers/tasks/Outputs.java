package io.retina.workers.tasks;

import io.retina.platform.store.Json;
import io.retina.workers.imaging.JpegEncoder;
import io.retina.workers.imaging.PngEncoder;
import io.retina.workers.imaging.RgbaImage;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * Encodes a task's image result in the format its job asked for, with the request parameters {@code
 * format} ({@code png}, the default, or {@code jpeg}) and {@code quality} (1 to 100, JPEG only).
 * PNG is lossless and keeps the image's alpha; JPEG composites transparency onto white. Every task
 * whose answer is a photo encodes it here, so they all take the same two parameters; masks, cutouts
 * and JSON answers are encoded here too, so that every task's encoding is its {@code encode} stage
 * ({@link Stages}). Stateless.
 */
final class Outputs {
  static final String FORMAT = "format";
  static final String QUALITY = "quality";
  static final List<String> FORMATS = List.of("png", "jpeg");

  /**
   * The catalog's default quality (models.conf gives the same): on three 1920-wide photos, 90 has
   * 40 to 46% of the bytes of 100 and under a tenth of the PNG's.
   */
  static final int DEFAULT_QUALITY = 90;

  private Outputs() {}

  /**
   * Refuses {@code params} naming a format or quality there is not: call it before the costly part
   * of a job, so that a bad parameter fails at once.
   */
  static void check(Map<String, String> params) throws InvalidInputException {
    Inputs.choice(params, FORMAT, FORMATS, "png");
    Inputs.whole(params, QUALITY, 1, 100, DEFAULT_QUALITY);
  }

  /** The image encoded per {@code params}; refused when they name no format or quality it has. */
  static TaskOutput image(RgbaImage img, Map<String, String> params) throws InvalidInputException {
    String format = Inputs.choice(params, FORMAT, FORMATS, "png");
    int quality = Inputs.whole(params, QUALITY, 1, 100, DEFAULT_QUALITY);
    Stages.begin(Stages.ENCODE);
    return format.equals("jpeg")
        ? new TaskOutput(JpegEncoder.MEDIA_TYPE, JpegEncoder.encode(img, quality))
        : new TaskOutput(PngEncoder.MEDIA_TYPE, PngEncoder.encode(img, img.hasAlpha()));
  }

  /** The image as PNG, whatever the job asked: a cutout or mask, whose point JPEG would lose. */
  static TaskOutput png(RgbaImage img, boolean alpha) {
    Stages.begin(Stages.ENCODE);
    return new TaskOutput(PngEncoder.MEDIA_TYPE, PngEncoder.encode(img, alpha));
  }

  /** A grey mask, one byte a pixel, row-major, as PNG. */
  static TaskOutput pngGray(int width, int height, byte[] gray) {
    Stages.begin(Stages.ENCODE);
    return new TaskOutput(PngEncoder.MEDIA_TYPE, PngEncoder.encodeGray(width, height, gray));
  }

  /** A JSON answer. */
  static TaskOutput json(Object answer) {
    Stages.begin(Stages.ENCODE);
    return new TaskOutput("application/json", Json.write(answer).getBytes(StandardCharsets.UTF_8));
  }
}
