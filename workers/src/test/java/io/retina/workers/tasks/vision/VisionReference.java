package io.retina.workers.tasks.vision;

import com.fasterxml.jackson.databind.JsonNode;
import io.retina.platform.store.Json;
import io.retina.workers.imaging.RgbaImage;
import io.retina.workers.tfjs.ModelCacheFixtures;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The TF.js references of the vision tasks (build/reference/vision/vision-reference.js) and the
 * photographs they were computed on, which the build fetches into the model cache.
 */
public final class VisionReference {

  private VisionReference() {}

  /** A committed reference, e.g. "webcam-raw.json". */
  public static JsonNode load(String name) {
    try (InputStream in = VisionReference.class.getResourceAsStream("/reference/vision/" + name)) {
      if (in == null) {
        throw new IllegalStateException("missing test resource " + name);
      }
      return Json.MAPPER.readTree(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A photograph of the face-api package's demo folder, e.g. "sample1.jpg". */
  public static byte[] photo(String name) {
    Path p = ModelCacheFixtures.cache().resolve("vladmandic_face-api_1.7.15/demo").resolve(name);
    try {
      return Files.readAllBytes(p);
    } catch (IOException e) {
      throw new UncheckedIOException(p + " is missing: run the workers build", e);
    }
  }

  /** Largest absolute difference between {@code expected} (a JSON array) and {@code actual}. */
  public static double maxAbsDiff(JsonNode expected, float[] actual) {
    if (expected.size() != actual.length) {
      throw new AssertionError(expected.size() + " expected values, got " + actual.length);
    }
    double max = 0;
    for (int i = 0; i < actual.length; i++) {
      max = Math.max(max, Math.abs(expected.get(i).asDouble() - actual[i]));
    }
    return max;
  }

  /**
   * Largest difference between {@code expected} (a JSON array) and {@code actual}, relative to the
   * expected value where that is larger than 1: for logits, whose magnitude reaches the hundreds.
   */
  public static double maxScaledDiff(JsonNode expected, float[] actual) {
    if (expected.size() != actual.length) {
      throw new AssertionError(expected.size() + " expected values, got " + actual.length);
    }
    double max = 0;
    for (int i = 0; i < actual.length; i++) {
      double e = expected.get(i).asDouble();
      max = Math.max(max, Math.abs(e - actual[i]) / Math.max(1, Math.abs(e)));
    }
    return max;
  }

  /** The image with a little noise added: what a test must tell from the reference's input. */
  public static RgbaImage perturbed(RgbaImage img) {
    byte[] px = img.rgba().clone();
    java.util.Random random = new java.util.Random(42);
    for (int i = 0; i < px.length; i++) {
      if (i % 4 != 3) {
        int v = (px[i] & 0xff) + random.nextInt(9) - 4; // +-4 of 255
        px[i] = (byte) Math.max(0, Math.min(255, v));
      }
    }
    return new RgbaImage(img.width(), img.height(), px, img.hasAlpha());
  }
}
