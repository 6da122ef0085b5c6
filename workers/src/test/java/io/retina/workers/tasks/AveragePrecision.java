package io.retina.workers.tasks;

import io.retina.workers.tasks.vision.Box;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Average precision of a detector on a labelled set of photos, as PASCAL VOC (2010 on) computes it
 * at one IoU threshold: per class, the detections of all photos ranked by score; each taken in turn
 * and matched to the object of its class and photo it overlaps most. A match at IoU at least {@link
 * #IOU} to an object not yet found is right; to one already found, or below the threshold, wrong.
 * AP is the area under the precision-recall curve with precision made non-increasing (every recall
 * point counts, no 11-point sampling). Difficult objects and crowds are left out as the labels'
 * header says. Stateless.
 */
final class AveragePrecision {

  /** The overlap a detection needs to find an object: VOC's and COCO's "AP50". */
  static final double IOU = 0.5;

  /** A labelled object of a photo. */
  record Labelled(String label, Box box, boolean difficult, boolean crowd) {

    /** Counted among the objects to find. */
    boolean plain() {
      return !difficult && !crowd;
    }
  }

  /** What a detector answered on photo number {@code photo} of the set. */
  record Detected(int photo, String label, double score, Box box) {}

  /**
   * One class: how many objects there were to find, how many detections were counted (ignored ones
   * left out), how many objects were found, and the AP.
   */
  record ClassResult(String label, int objects, int detections, int found, double ap) {}

  private AveragePrecision() {}

  /**
   * Every class that has at least one plain object in {@code labels}, by name. Detections of other
   * classes are not counted.
   *
   * @param labels the objects of each photo, in the order {@link Detected#photo} numbers them
   */
  static SortedMap<String, ClassResult> evaluate(
      List<List<Labelled>> labels, List<Detected> detections) {
    SortedMap<String, ClassResult> out = new TreeMap<>();
    labels.stream()
        .flatMap(List::stream)
        .filter(Labelled::plain)
        .map(Labelled::label)
        .distinct()
        .forEach(label -> out.put(label, evaluate(label, labels, detections)));
    return out;
  }

  /** The mean of the classes' APs. */
  static double mean(SortedMap<String, ClassResult> results) {
    return results.values().stream().mapToDouble(ClassResult::ap).average().orElse(0);
  }

  private static ClassResult evaluate(
      String label, List<List<Labelled>> labels, List<Detected> detections) {
    int objects =
        (int) labels.stream().flatMap(List::stream).filter(o -> o.plain() && is(o, label)).count();
    List<Detected> ranked =
        detections.stream()
            .filter(d -> d.label().equals(label))
            .sorted(Comparator.comparingDouble(d -> -d.score()))
            .toList();
    List<boolean[]> found = labels.stream().map(l -> new boolean[l.size()]).toList();
    List<Boolean> right = new ArrayList<>();
    for (Detected d : ranked) {
      List<Labelled> photo = labels.get(d.photo());
      int best = -1;
      double bestIou = 0;
      for (int i = 0; i < photo.size(); i++) {
        Labelled o = photo.get(i);
        double iou = o.box().iou(d.box());
        if (is(o, label) && !o.crowd() && iou > bestIou) {
          best = i;
          bestIou = iou;
        }
      }
      if (bestIou >= IOU) {
        if (photo.get(best).difficult()) {
          continue;
        }
        right.add(!found.get(d.photo())[best]);
        found.get(d.photo())[best] = true;
      } else if (!inCrowd(photo, label, d.box())) {
        right.add(false);
      }
    }
    int tp = (int) right.stream().filter(r -> r).count();
    return new ClassResult(label, objects, right.size(), tp, area(right, objects));
  }

  private static boolean is(Labelled o, String label) {
    return o.label().equals(label);
  }

  /** Whether over half of the box lies inside one of the photo's crowds of this class. */
  private static boolean inCrowd(List<Labelled> photo, String label, Box b) {
    double area = b.width() * b.height();
    for (Labelled o : photo) {
      if (o.crowd() && is(o, label)) {
        double w = Math.min(b.x2(), o.box().x2()) - Math.max(b.x1(), o.box().x1());
        double h = Math.min(b.y2(), o.box().y2()) - Math.max(b.y1(), o.box().y1());
        if (w > 0 && h > 0 && w * h > area / 2) {
          return true;
        }
      }
    }
    return false;
  }

  /** The area under the interpolated precision-recall curve of a ranking. */
  private static double area(List<Boolean> right, int objects) {
    int n = right.size();
    if (objects == 0 || n == 0) {
      return 0;
    }
    double[] recall = new double[n];
    double[] precision = new double[n];
    int tp = 0;
    for (int i = 0; i < n; i++) {
      tp += right.get(i) ? 1 : 0;
      recall[i] = (double) tp / objects;
      precision[i] = (double) tp / (i + 1);
    }
    // precision at a recall: the best precision reached at that recall or beyond
    for (int i = n - 2; i >= 0; i--) {
      precision[i] = Math.max(precision[i], precision[i + 1]);
    }
    double ap = 0;
    double previous = 0;
    for (int i = 0; i < n; i++) {
      ap += (recall[i] - previous) * precision[i];
      previous = recall[i];
    }
    return ap;
  }
}
