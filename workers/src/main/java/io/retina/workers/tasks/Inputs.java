package io.retina.workers.tasks;

import io.retina.workers.imaging.ImageDecoder;
import io.retina.workers.imaging.RgbaImage;
import io.retina.workers.imaging.UnreadableImageException;
import java.util.Collection;
import java.util.Map;

/** Turns a job's raw inputs into what tasks work on, failing in words a tenant can act on. */
final class Inputs {

  private Inputs() {}

  static RgbaImage decode(byte[] encoded) throws InvalidInputException {
    try {
      return ImageDecoder.decode(encoded);
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
}
