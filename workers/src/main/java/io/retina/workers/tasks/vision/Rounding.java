package io.retina.workers.tasks.vision;

/** The precision of numbers in the vision tasks' JSON answers. Stateless. */
public final class Rounding {

  private Rounding() {}

  /** Pixel coordinates: hundredths of a pixel are more than any model here resolves. */
  public static double pixels(double v) {
    return Math.round(v * 100) / 100.0;
  }

  /** Scores and probabilities: four decimals. */
  public static double score(double v) {
    return Math.round(v * 10_000) / 10_000.0;
  }
}
