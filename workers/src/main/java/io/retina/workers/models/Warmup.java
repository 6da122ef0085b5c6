package io.retina.workers.models;

import io.retina.workers.imaging.PngEncoder;
import io.retina.workers.imaging.RgbaImage;
import io.retina.workers.tasks.ImageTask;
import io.retina.workers.tasks.InvalidInputException;
import java.util.Map;

/**
 * Runs a freshly loaded task once on a small synthetic image before it takes traffic, so that graph
 * optimisation and kernel selection happen here rather than in a tenant's first job.
 */
final class Warmup {
  /**
   * Small enough to cost little, large enough that every layer of a tiled or resized model runs.
   */
  private static final int SIDE = 64;

  private Warmup() {}

  /** Returns how long the warm-up took, in milliseconds. */
  static long run(ImageTask task) {
    byte[] rgba = new byte[SIDE * SIDE * 4];
    for (int i = 0; i < SIDE * SIDE; i++) {
      rgba[i * 4] = (byte) (i % SIDE * 4);
      rgba[i * 4 + 1] = (byte) (i / SIDE * 4);
      rgba[i * 4 + 2] = (byte) 128;
      rgba[i * 4 + 3] = (byte) 255;
    }
    byte[] png = PngEncoder.encode(new RgbaImage(SIDE, SIDE, rgba, false), false);
    long start = System.nanoTime();
    try {
      task.run(png, Map.of());
    } catch (InvalidInputException e) {
      // a task may refuse a synthetic image (too small for it, say); its graph has run up to there
    }
    return (System.nanoTime() - start) / 1_000_000;
  }
}
