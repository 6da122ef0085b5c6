package io.retina.workers.tasks.vision;

/**
 * An axis-aligned box by its corners, in pixels of some image ({@code x1 <= x2}, {@code y1 <= y2}
 * when well-formed). Immutable.
 */
public record Box(double x1, double y1, double x2, double y2) {

  public double width() {
    return x2 - x1;
  }

  public double height() {
    return y2 - y1;
  }

  public double centerX() {
    return (x1 + x2) / 2;
  }

  public double centerY() {
    return (y1 + y2) / 2;
  }

  /**
   * Intersection over union, as TF's non-max suppression computes it: corners may come in either
   * order, and a box with no area overlaps nothing.
   */
  public double iou(Box o) {
    double ax1 = Math.min(x1, x2);
    double ax2 = Math.max(x1, x2);
    double ay1 = Math.min(y1, y2);
    double ay2 = Math.max(y1, y2);
    double bx1 = Math.min(o.x1, o.x2);
    double bx2 = Math.max(o.x1, o.x2);
    double by1 = Math.min(o.y1, o.y2);
    double by2 = Math.max(o.y1, o.y2);
    double areaA = (ax2 - ax1) * (ay2 - ay1);
    double areaB = (bx2 - bx1) * (by2 - by1);
    if (areaA <= 0 || areaB <= 0) {
      return 0;
    }
    double iw = Math.max(0, Math.min(ax2, bx2) - Math.max(ax1, bx1));
    double ih = Math.max(0, Math.min(ay2, by2) - Math.max(ay1, by1));
    double inter = iw * ih;
    return inter / (areaA + areaB - inter);
  }

  /** The box clipped to a {@code width x height} image. */
  public Box clip(int width, int height) {
    return new Box(clamp(x1, width), clamp(y1, height), clamp(x2, width), clamp(y2, height));
  }

  private static double clamp(double v, int max) {
    return Math.max(0, Math.min(max, v));
  }
}
