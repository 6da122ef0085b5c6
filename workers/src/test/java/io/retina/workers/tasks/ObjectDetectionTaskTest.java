package io.retina.workers.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.retina.platform.store.Json;
import io.retina.workers.imaging.ImageDecoder;
import io.retina.workers.imaging.RgbaImage;
import io.retina.workers.tasks.vision.Box;
import io.retina.workers.tasks.vision.VisionReference;
import io.retina.workers.tfjs.ModelCacheFixtures;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** CenterNet through the object-detection task. */
class ObjectDetectionTaskTest {

  /**
   * Largest difference allowed from TF.js on the model's decoded detections (box corners in pixels
   * of the 512x512 input, scores, classes). Measured here: 3.1e-4; the reference's input with +-4
   * levels of noise reorders the detections (500).
   */
  private static final double TOLERANCE = 1e-2;

  private static ObjectDetectionTask task;

  @BeforeAll
  static void load() throws Exception {
    task =
        (ObjectDetectionTask)
            ImageTasks.load(
                "object-detection",
                ModelCacheFixtures.humanModels(),
                Map.of("model", "models/centernet.json"));
  }

  @AfterAll
  static void close() {
    task.close();
  }

  private static RgbaImage webcam() throws Exception {
    return ImageDecoder.decode(VisionReference.photo("screenshot-webcam.png"));
  }

  @Test
  void rawDetectionsMatchTheTfjsReference() throws Exception {
    JsonNode ref = VisionReference.load("webcam-raw.json").get("objects").get("raw");
    double max = VisionReference.maxAbsDiff(ref, task.raw(webcam()));
    System.out.printf("centernet detections vs TF.js: max abs diff %.2e%n", max);
    assertTrue(max < TOLERANCE, "max abs diff " + max);
  }

  @Test
  void aPerturbedInputFallsOutsideTheTolerance() throws Exception {
    JsonNode ref = VisionReference.load("webcam-raw.json").get("objects").get("raw");
    double max = VisionReference.maxAbsDiff(ref, task.raw(VisionReference.perturbed(webcam())));
    System.out.printf("centernet on a perturbed input: max abs diff %.2e%n", max);
    assertTrue(max > TOLERANCE * 3, "moved by " + max);
  }

  @Test
  void findsThePersonOfThePortraitWhereTfjsDoes() throws Exception {
    JsonNode ref = VisionReference.load("webcam-raw.json").get("objects").get("objects");
    JsonNode objects = answer("screenshot-webcam.png", Map.of("min_score", "0.3")).get("objects");
    assertEquals(ref.size(), objects.size(), objects.toString());
    for (int i = 0; i < ref.size(); i++) {
      assertEquals(ref.get(i).get("label").asText(), objects.get(i).get("label").asText());
      assertEquals(
          ref.get(i).get("score").asDouble(), objects.get(i).get("score").asDouble(), 1e-3);
      assertTrue(box(ref.get(i).get("box")).iou(box(objects.get(i).get("box"))) > 0.99);
    }
    assertEquals("person", objects.get(0).get("label").asText());
  }

  /** On group photographs, the people TF.js finds (its JPEG decoder differs slightly). */
  @ParameterizedTest
  @ValueSource(strings = {"sample1.jpg", "sample2.jpg", "sample6.jpg"})
  void findsThePeopleOfAPhotoWhereTfjsDoes(String photo) throws Exception {
    JsonNode ref =
        VisionReference.load("samples-final.json").get(photo).get("objects").get("objects");
    JsonNode objects = answer(photo, Map.of("min_score", "0.3")).get("objects");
    int people = 0;
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
    }
    assertTrue(people >= 2, "a group photo");
  }

  @Test
  void theDefaultFloorKeepsOnlyObjectsAboveIt() throws Exception {
    JsonNode objects = answer("sample1.jpg", Map.of()).get("objects");
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

  @Test
  void annotatedOutputIsThePhotoAsPng() throws Exception {
    TaskOutput out = task.run(VisionReference.photo("sample1.jpg"), Map.of("output", "annotated"));
    assertEquals("image/png", out.mediaType());
    RgbaImage png = ImageDecoder.decode(out.body());
    assertEquals(1920, png.width());
    assertEquals(1280, png.height());
  }

  @Test
  void refusesAnUnknownOutput() {
    assertThrows(InvalidInputException.class, () -> task.run(new byte[0], Map.of("output", "svg")));
  }

  private static Box box(JsonNode b) {
    return FaceDetectionTaskTest.box(b);
  }

  private static JsonNode answer(String photo, Map<String, String> params) throws Exception {
    TaskOutput out = task.run(VisionReference.photo(photo), params);
    assertEquals("application/json", out.mediaType());
    return Json.MAPPER.readTree(out.body());
  }
}
