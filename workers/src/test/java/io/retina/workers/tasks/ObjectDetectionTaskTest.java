package io.retina.workers.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.retina.platform.store.Json;
import io.retina.workers.imaging.ImageDecoder;
import io.retina.workers.imaging.RgbaImage;
import io.retina.workers.tasks.vision.Box;
import io.retina.workers.tasks.vision.CenterNet;
import io.retina.workers.tasks.vision.NanoDet;
import io.retina.workers.tasks.vision.ObjectDetector;
import io.retina.workers.tasks.vision.VisionReference;
import io.retina.workers.tfjs.ModelCacheFixtures;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** CenterNet (object-detection@1) and NanoDet (object-detection@2) through the task. */
class ObjectDetectionTaskTest {

  /**
   * Largest difference allowed from TF.js on CenterNet's decoded detections (box corners in pixels
   * of the 512x512 input, scores, classes). Measured here: 3.1e-4; the reference's input with +-4
   * levels of noise reorders the detections (500).
   */
  private static final double TOLERANCE = 1e-2;

  /**
   * Largest difference allowed from TF.js on NanoDet's raw outputs: class scores (0..1) and the
   * distribution logits (relative to their magnitude where it is over 1). Measured here: scores
   * 9.2e-7, logits 8.9e-6; the reference's input with +-4 levels of noise moves the scores by
   * 0.056.
   */
  private static final double NANODET_TOLERANCE = 1e-3;

  private static ObjectDetectionTask centernet;
  private static ObjectDetectionTask nanodet;

  @BeforeAll
  static void load() throws Exception {
    centernet = load("models/centernet.json");
    nanodet = load("models/nanodet.json");
  }

  private static ObjectDetectionTask load(String model) throws Exception {
    return (ObjectDetectionTask)
        ImageTasks.load(
            "object-detection", ModelCacheFixtures.humanModels(), Map.of("model", model));
  }

  @AfterAll
  static void close() {
    centernet.close();
    nanodet.close();
  }

  private static RgbaImage webcam() throws Exception {
    return ImageDecoder.decode(VisionReference.photo("screenshot-webcam.png"));
  }

  @Test
  void picksTheDetectorByTheModelsSignature() {
    assertInstanceOf(CenterNet.class, centernet.detector());
    assertInstanceOf(NanoDet.class, nanodet.detector());
  }

  @Test
  void rawDetectionsMatchTheTfjsReference() throws Exception {
    JsonNode ref = VisionReference.load("webcam-raw.json").get("objects").get("raw");
    double max = VisionReference.maxAbsDiff(ref, centernetRaw(webcam()));
    System.out.printf("centernet detections vs TF.js: max abs diff %.2e%n", max);
    assertTrue(max < TOLERANCE, "max abs diff " + max);
  }

  @Test
  void aPerturbedInputFallsOutsideTheTolerance() throws Exception {
    JsonNode ref = VisionReference.load("webcam-raw.json").get("objects").get("raw");
    double max = VisionReference.maxAbsDiff(ref, centernetRaw(VisionReference.perturbed(webcam())));
    System.out.printf("centernet on a perturbed input: max abs diff %.2e%n", max);
    assertTrue(max > TOLERANCE * 3, "moved by " + max);
  }

  @Test
  void findsThePersonOfThePortraitWhereTfjsDoes() throws Exception {
    JsonNode ref = VisionReference.load("webcam-raw.json").get("objects").get("objects");
    JsonNode objects =
        answer(centernet, "screenshot-webcam.png", Map.of("min_score", "0.3")).get("objects");
    assertSameObjects(ref, objects);
    assertEquals("person", objects.get(0).get("label").asText());
  }

  /** On group photographs, the people TF.js finds (its JPEG decoder differs slightly). */
  @ParameterizedTest
  @ValueSource(strings = {"sample1.jpg", "sample2.jpg", "sample6.jpg"})
  void findsThePeopleOfAPhotoWhereTfjsDoes(String photo) throws Exception {
    JsonNode ref =
        VisionReference.load("samples-final.json").get(photo).get("objects").get("objects");
    assertFindsThePeople(ref, answer(centernet, photo, Map.of("min_score", "0.3")));
  }

  @Test
  void theDefaultFloorKeepsOnlyObjectsAboveIt() throws Exception {
    for (ObjectDetectionTask task : List.of(centernet, nanodet)) {
      JsonNode objects = answer(task, "sample1.jpg", Map.of()).get("objects");
      assertTrue(objects.size() > 0);
      for (JsonNode o : objects) {
        assertTrue(
            o.get("score").asDouble() > Double.parseDouble(ObjectDetectionTask.DEFAULT_MIN_SCORE));
        JsonNode b = o.get("box");
        assertTrue(
            b.get("x").asDouble() >= 0
                && b.get("x").asDouble() + b.get("width").asDouble() <= 1920.01);
      }
    }
  }

  @Test
  void annotatedOutputIsThePhotoAsPng() throws Exception {
    for (ObjectDetectionTask task : List.of(centernet, nanodet)) {
      TaskOutput out =
          task.run(VisionReference.photo("sample1.jpg"), Map.of("output", "annotated"));
      assertEquals("image/png", out.mediaType());
      RgbaImage png = ImageDecoder.decode(out.body());
      assertEquals(1920, png.width());
      assertEquals(1280, png.height());
    }
  }

  @Test
  void refusesAnUnknownOutput() {
    assertThrows(
        InvalidInputException.class, () -> centernet.run(new byte[0], Map.of("output", "svg")));
  }

  @Test
  void nanodetRawOutputsMatchTheTfjsReference() throws Exception {
    JsonNode ref = VisionReference.load("nanodet-webcam-raw.json").get("nanodet").get("raw");
    NanoDet.Raw raw = nanodet().raw(webcam());
    double scores = VisionReference.maxAbsDiff(ref.get("maxScores"), maxScores(raw));
    double logits = 0;
    for (JsonNode row : ref.get("rows")) {
      NanoDet.Level level = level(raw, row.get("stride").asInt());
      int cell = row.get("cell").asInt();
      int classes = row.get("scores").size();
      int dist = row.get("distributions").size();
      float[] s = new float[classes];
      float[] d = new float[dist];
      System.arraycopy(level.scores(), cell * classes, s, 0, classes);
      System.arraycopy(level.distributions(), cell * dist, d, 0, dist);
      scores = Math.max(scores, VisionReference.maxAbsDiff(row.get("scores"), s));
      logits = Math.max(logits, VisionReference.maxScaledDiff(row.get("distributions"), d));
    }
    System.out.printf(
        "nanodet vs TF.js: scores max abs diff %.2e, best rows' logits %.2e%n", scores, logits);
    assertTrue(scores < NANODET_TOLERANCE, "scores max abs diff " + scores);
    assertTrue(logits < NANODET_TOLERANCE, "distribution logits max diff " + logits);
  }

  @Test
  void nanodetOnAPerturbedInputFallsOutsideTheTolerance() throws Exception {
    JsonNode ref = VisionReference.load("nanodet-webcam-raw.json").get("nanodet").get("raw");
    NanoDet.Raw raw = nanodet().raw(VisionReference.perturbed(webcam()));
    double scores = VisionReference.maxAbsDiff(ref.get("maxScores"), maxScores(raw));
    System.out.printf("nanodet on a perturbed input: scores max abs diff %.2e%n", scores);
    assertTrue(scores > NANODET_TOLERANCE * 3, "scores moved by " + scores);
  }

  @Test
  void nanodetFindsThePersonOfThePortraitWhereTfjsDoes() throws Exception {
    JsonNode ref = VisionReference.load("nanodet-webcam-raw.json").get("nanodet").get("objects");
    JsonNode objects =
        answer(nanodet, "screenshot-webcam.png", Map.of("min_score", "0.3")).get("objects");
    assertSameObjects(ref, objects);
    assertEquals("person", objects.get(0).get("label").asText());
  }

  /**
   * The comparison of answers tells a decoding that is a little off: scores moved by 0.005, or the
   * distances taken at each distribution's peak (as @vladmandic/human does) instead of its mean.
   */
  @Test
  void nanodetAnswersFromPerturbedOutputsFailTheComparison() throws Exception {
    JsonNode ref = VisionReference.load("nanodet-webcam-raw.json").get("nanodet").get("objects");
    RgbaImage img = webcam();
    NanoDet.Raw raw = nanodet().raw(img);
    assertTrue(sameObjects(ref, decode(raw, img)), "the outputs as they are");

    List<NanoDet.Level> shifted = new ArrayList<>();
    for (NanoDet.Level l : raw.levels()) {
      float[] s = l.scores().clone();
      for (int i = 0; i < s.length; i++) {
        s[i] += 0.005f;
      }
      shifted.add(new NanoDet.Level(l.stride(), l.columns(), l.bins(), s, l.distributions()));
    }
    assertFalse(sameObjects(ref, decode(new NanoDet.Raw(shifted), img)), "scores + 0.005");

    List<NanoDet.Level> peaks = new ArrayList<>();
    for (NanoDet.Level l : raw.levels()) {
      float[] d = l.distributions().clone();
      for (int o = 0; o < d.length; o += l.bins()) {
        int best = o;
        for (int j = o; j < o + l.bins(); j++) {
          best = d[j] > d[best] ? j : best;
        }
        for (int j = o; j < o + l.bins(); j++) {
          d[j] = j == best ? 100 : 0; // a softmax of all its weight on the peak
        }
      }
      peaks.add(new NanoDet.Level(l.stride(), l.columns(), l.bins(), l.scores(), d));
    }
    assertFalse(sameObjects(ref, decode(new NanoDet.Raw(peaks), img)), "distribution peaks");
  }

  /** On group photographs, the people TF.js finds (its JPEG decoder differs slightly). */
  @ParameterizedTest
  @ValueSource(strings = {"sample1.jpg", "sample2.jpg", "sample5.jpg"})
  void nanodetFindsThePeopleOfAPhotoWhereTfjsDoes(String photo) throws Exception {
    JsonNode ref =
        VisionReference.load("nanodet-samples-final.json").get(photo).get("nanodet").get("objects");
    assertFindsThePeople(ref, answer(nanodet, photo, Map.of("min_score", "0.3")));
  }

  private static float[] centernetRaw(RgbaImage img) throws Exception {
    return ((CenterNet) centernet.detector()).raw(img);
  }

  private static NanoDet nanodet() {
    return (NanoDet) nanodet.detector();
  }

  /** Every cell's best class score, finest level first, as the reference lists them. */
  private static float[] maxScores(NanoDet.Raw raw) {
    int n = raw.levels().stream().mapToInt(NanoDet.Level::cells).sum();
    float[] out = new float[n];
    int k = 0;
    for (NanoDet.Level l : raw.levels()) {
      for (int i = 0; i < l.cells(); i++) {
        out[k++] = l.maxScore(i);
      }
    }
    return out;
  }

  private static NanoDet.Level level(NanoDet.Raw raw, int stride) {
    return raw.levels().stream().filter(l -> l.stride() == stride).findFirst().orElseThrow();
  }

  /** Decoded raw outputs in the JSON answer's form (boxes clipped to the image). */
  private static JsonNode decode(NanoDet.Raw raw, RgbaImage img) throws Exception {
    List<Map<String, Object>> objects = new ArrayList<>();
    for (ObjectDetector.Detection d : nanodet().decode(raw, img.width(), img.height(), 0.3)) {
      Box b = d.box().clip(img.width(), img.height());
      objects.add(
          Map.of(
              "label",
              d.label(),
              "score",
              d.score(),
              "box",
              Map.of("x", b.x1(), "y", b.y1(), "width", b.width(), "height", b.height())));
    }
    return Json.MAPPER.valueToTree(objects);
  }

  /**
   * Whether the objects are the reference's: the same labels in the same order, scores within 1e-3,
   * boxes overlapping by IoU over 0.99 (the reference's boxes are not clipped to the image).
   */
  private static boolean sameObjects(JsonNode ref, JsonNode objects) {
    if (ref.size() != objects.size()) {
      return false;
    }
    for (int i = 0; i < ref.size(); i++) {
      JsonNode r = ref.get(i);
      JsonNode o = objects.get(i);
      if (!r.get("label").asText().equals(o.get("label").asText())
          || Math.abs(r.get("score").asDouble() - o.get("score").asDouble()) > 1e-3
          || box(r.get("box")).iou(box(o.get("box"))) <= 0.99) {
        return false;
      }
    }
    return true;
  }

  private static void assertSameObjects(JsonNode ref, JsonNode objects) {
    assertTrue(sameObjects(ref, objects), "TF.js " + ref + "\nRetina " + objects);
  }

  /** The people TF.js scores 0.35 or more, each matched by a person box with IoU over 0.9. */
  private static void assertFindsThePeople(JsonNode ref, JsonNode answer) {
    JsonNode objects = answer.get("objects");
    int people = 0;
    double worst = 1;
    for (JsonNode r : ref) {
      if (!r.get("label").asText().equals("person") || r.get("score").asDouble() < 0.35) {
        continue; // near the floor, decoder noise may tip a box either way
      }
      people++;
      double best = 0;
      for (JsonNode o : objects) {
        if (o.get("label").asText().equals("person")) {
          best = Math.max(best, box(r.get("box")).iou(box(o.get("box"))));
        }
      }
      assertTrue(best > 0.9, "TF.js person " + r.get("box") + " best IoU " + best);
      worst = Math.min(worst, best);
    }
    System.out.printf("%d people of TF.js found, worst IoU %.4f%n", people, worst);
    assertTrue(people >= 2, "a group photo");
  }

  private static Box box(JsonNode b) {
    return FaceDetectionTaskTest.box(b);
  }

  private static JsonNode answer(ObjectDetectionTask task, String photo, Map<String, String> params)
      throws Exception {
    TaskOutput out = task.run(VisionReference.photo(photo), params);
    assertEquals("application/json", out.mediaType());
    return Json.MAPPER.readTree(out.body());
  }
}
