package io.retina.workers.tasks;

import io.retina.workers.imaging.ImageDecoder;
import io.retina.workers.imaging.RgbaImage;
import io.retina.workers.imaging.UnreadableImageException;
import java.util.Collection;
import java.util.Map;
import java.util.regex.Pattern;

/** Turns a job's raw inputs into what tasks work on, failing in words a tenant can act on. */
final class Inputs {
  /** A whole number as a parameter's text: no sign, no leading zero, at most ten digits. */
  private static final Pattern WHOLE = Pattern.compile("0|[1-9][0-9]{0,9}");

  private Inputs() {}

  /** The image; its decoding is the {@code decode} stage, and what follows is the model's. */
  static RgbaImage decode(byte[] encoded) throws InvalidInputException {
    Stages.begin(Stages.DECODE);
    try {
      RgbaImage image = ImageDecoder.decode(encoded);
      Stages.begin(Stages.MODEL_RUN);
      return image;
    } catch (UnreadableImageException e) {
      throw new InvalidInputException("can't decode the image: " + e.getMessage());
    }
  }

  /** The value of {@code key}, which must be one of {@code allowed}; {@code fallback} if absent. */
  static String choice(
      Map<String, String> params, String key, Collection<String> allowed, String fallback)
      throws InvalidInputException {
    String value = params == null ? null : params.get(key);
    if (value == null || value.isEmpty()) {
      return fallback;
    }
    if (!allowed.contains(value)) {
      throw new InvalidInputException(
          "parameter '" + key + "' must be one of " + allowed + ", not '" + value + "'");
    }
    return value;
  }

  /**
   * The value of {@code key}, a whole number from {@code min} to {@code max} written in plain
   * digits; {@code fallback} if absent.
   */
  static int whole(Map<String, String> params, String key, int min, int max, int fallback)
      throws InvalidInputException {
    String value = params == null ? null : params.get(key);
    if (value == null || value.isEmpty()) {
      return fallback;
    }
    if (WHOLE.matcher(value).matches()) {
      long n = Long.parseLong(value);
      if (n >= min && n <= max) {
        return (int) n;
      }
    }
    throw new InvalidInputException(
        String.format(
            "parameter '%s' must be a whole number from %d to %d, not '%s'", key, min, max, value));
  }
}
