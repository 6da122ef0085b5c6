package io.retina.workers.tasks.vision;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Greedy non-maximum suppression, as {@code tf.image.nonMaxSuppression} does it: candidates scoring
 * above a floor are taken best first, and each one is kept unless it overlaps an already kept box
 * by more than an IoU threshold. Stateless and thread-safe.
 */
public final class Nms {

  private Nms() {}

  /** The indices of the kept boxes, best score first. */
  public static List<Integer> select(
      List<Box> boxes, float[] scores, double iouThreshold, double minScore) {
    if (boxes.size() != scores.length) {
      throw new IllegalArgumentException(boxes.size() + " boxes but " + scores.length + " scores");
    }
    // a stable sort: equal scores keep their index order, as TF's priority queue does
    List<Integer> candidates =
        IntStream.range(0, scores.length)
            .filter(i -> scores[i] > minScore)
            .boxed()
            .sorted(Comparator.comparingDouble((Integer i) -> -scores[i]))
            .toList();
    List<Integer> kept = new ArrayList<>();
    for (int c : candidates) {
      boolean suppressed = false;
      for (int k : kept) {
        if (boxes.get(c).iou(boxes.get(k)) > iouThreshold) {
          suppressed = true;
          break;
        }
      }
      if (!suppressed) {
        kept.add(c);
      }
    }
    return kept;
  }
}
