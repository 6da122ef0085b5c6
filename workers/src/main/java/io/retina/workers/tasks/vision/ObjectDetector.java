package io.retina.workers.tasks.vision;

import io.retina.workers.imaging.RgbaImage;
import io.retina.workers.tfjs.FeedRejectedException;
import java.util.List;

/**
 * A detector of COCO's 80 object classes: the objects it finds in an image. Implementations are
 * thread-safe: they share only their model, which is.
 */
public interface ObjectDetector extends AutoCloseable {

  /** An object found: its COCO label, score, and box in pixels of the image (not clipped to it). */
  record Detection(String label, double score, Box box) {}

  /**
   * The objects scoring above {@code minScore}, best first; of two boxes of one class that overlap
   * much, only the better one.
   */
  List<Detection> detect(RgbaImage img, double minScore) throws FeedRejectedException;

  @Override
  void close();
}
