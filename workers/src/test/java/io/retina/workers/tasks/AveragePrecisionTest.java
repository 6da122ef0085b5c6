package io.retina.workers.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.retina.workers.tasks.AveragePrecision.Detected;
import io.retina.workers.tasks.AveragePrecision.Labelled;
import io.retina.workers.tasks.vision.Box;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The evaluation behind {@link ObjectDetectionAccuracyTest}, on rankings worked out by hand. */
class AveragePrecisionTest {

  private static final Box A = new Box(0, 0, 100, 100);
  private static final Box B = new Box(200, 0, 300, 100);
  private static final Box C = new Box(0, 200, 100, 300);

  private static Labelled object(String label, Box box) {
    return new Labelled(label, box, false, false);
  }

  private static double ap(List<List<Labelled>> labels, Detected... detections) {
    return AveragePrecision.evaluate(labels, List.of(detections)).get("cat").ap();
  }

  @Test
  void theLabelsThemselvesScoreOne() {
    List<List<Labelled>> labels = List.of(List.of(object("cat", A), object("cat", B)));
    assertEquals(1.0, ap(labels, new Detected(0, "cat", 0.9, A), new Detected(0, "cat", 0.8, B)));
  }

  @Test
  void aBoxMovedBelowHalfOverlapFindsNothing() {
    List<List<Labelled>> labels = List.of(List.of(object("cat", A)));
    // moved by 40 px: IoU 60*100 / (2*10000 - 6000) = 0.43
    assertEquals(0.0, ap(labels, new Detected(0, "cat", 0.9, new Box(40, 0, 140, 100))));
  }

  @Test
  void aWrongDetectionRankedAboveARightOneCostsHalfItsRecall() {
    List<List<Labelled>> labels = List.of(List.of(object("cat", A), object("cat", B)));
    // right, wrong, right: precision 1 at recall 0.5, 2/3 at recall 1
    double ap =
        ap(
            labels,
            new Detected(0, "cat", 0.9, A),
            new Detected(0, "cat", 0.8, C),
            new Detected(0, "cat", 0.7, B));
    assertEquals(0.5 + 0.5 * 2 / 3.0, ap, 1e-12);
  }

  @Test
  void aSecondDetectionOfOneObjectIsWrong() {
    List<List<Labelled>> labels = List.of(List.of(object("cat", A), object("cat", B)));
    double ap =
        ap(
            labels,
            new Detected(0, "cat", 0.9, A),
            new Detected(0, "cat", 0.8, A),
            new Detected(0, "cat", 0.7, B));
    assertEquals(0.5 + 0.5 * 2 / 3.0, ap, 1e-12);
  }

  @Test
  void detectionsOfDifficultObjectsAndCrowdsAreNotCounted() {
    List<List<Labelled>> labels =
        List.of(
            List.of(
                object("cat", A),
                new Labelled("cat", B, true, false),
                new Labelled("cat", new Box(0, 150, 400, 400), false, true)));
    double ap =
        ap(
            labels,
            new Detected(0, "cat", 0.9, B),
            new Detected(0, "cat", 0.8, C),
            new Detected(0, "cat", 0.7, A));
    assertEquals(1.0, ap);
    assertEquals(1, AveragePrecision.evaluate(labels, List.of()).get("cat").objects());
  }

  @Test
  void aDetectionOfTheWrongClassFindsNothing() {
    List<List<Labelled>> labels = List.of(List.of(object("cat", A)), List.of(object("dog", B)));
    var results =
        AveragePrecision.evaluate(
            labels, List.of(new Detected(0, "dog", 0.9, A), new Detected(1, "dog", 0.5, B)));
    assertEquals(0.0, results.get("cat").ap());
    assertEquals(0.5, results.get("dog").ap());
    assertEquals(0.25, AveragePrecision.mean(results));
  }
}
