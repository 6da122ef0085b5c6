package io.retina.workers.tasks.vision;

/** A box as the JSON answers give it: top-left corner and size, in pixels of the input image. */
public record Rect(double x, double y, double width, double height) {

  /** The box, rounded to hundredths of a pixel. */
  public static Rect of(Box b) {
    return new Rect(
        Rounding.pixels(b.x1()),
        Rounding.pixels(b.y1()),
        Rounding.pixels(b.width()),
        Rounding.pixels(b.height()));
  }
}
