package io.retina.workers.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.retina.platform.store.Json;
import io.retina.workers.imaging.ImageDecoder;
import io.retina.workers.imaging.RgbaImage;
import io.retina.workers.tasks.vision.Box;
import io.retina.workers.tasks.vision.FaceDetector;
import io.retina.workers.tasks.vision.VisionReference;
import io.retina.workers.tfjs.ModelCacheFixtures;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** BlazeFace through the face-detection task. */
class FaceDetectionTaskTest {

  /**
   * Largest difference allowed from TF.js on any raw output: score logits (relative to their
   * magnitude where it is over 1: background logits reach -100) and regressions (in pixels of the
   * 256x256 input). Measured here: logits 8.4e-6, regressions 1.2e-5; the reference's input with
   * +-4 levels of noise moves the logits by 1.6.
   */
  private static final double TOLERANCE = 1e-3;

  private static FaceDetectionTask task;

  @BeforeAll
  static void load() throws Exception {
    task =
        (FaceDetectionTask)
            ImageTasks.load(
                "face-detection",
                ModelCacheFixtures.humanModels(),
                Map.of("model", "models/blazeface.json"));
  }

  @AfterAll
  static void close() {
    task.close();
  }

  private static RgbaImage webcam() throws Exception {
    return ImageDecoder.decode(VisionReference.photo("screenshot-webcam.png"));
  }

  @Test
  void rawOutputsMatchTheTfjsReference() throws Exception {
    JsonNode ref = VisionReference.load("webcam-raw.json").get("face").get("raw");
    FaceDetector.Raw raw = task.detector().raw(webcam());
    double logits = VisionReference.maxScaledDiff(ref.get("logits"), raw.logits());
    double rows = 0;
    for (JsonNode row : ref.get("rows")) {
      int anchor = row.get("anchor").asInt();
      float[] actual = new float[16];
      System.arraycopy(raw.regressions(), anchor * 16, actual, 0, 16);
      rows = Math.max(rows, VisionReference.maxAbsDiff(row.get("values"), actual));
    }
    System.out.printf(
        "blazeface vs TF.js: logits max abs diff %.2e, best rows %.2e%n", logits, rows);
    assertTrue(logits < TOLERANCE, "logits max abs diff " + logits);
    assertTrue(rows < TOLERANCE, "regressions max abs diff " + rows);
  }

  @Test
  void aPerturbedInputFallsOutsideTheTolerance() throws Exception {
    JsonNode ref = VisionReference.load("webcam-raw.json").get("face").get("raw");
    FaceDetector.Raw raw = task.detector().raw(VisionReference.perturbed(webcam()));
    double logits = VisionReference.maxScaledDiff(ref.get("logits"), raw.logits());
    System.out.printf("blazeface on a perturbed input: logits max diff %.2e%n", logits);
    assertTrue(logits > TOLERANCE * 3, "logits moved by " + logits);
  }

  @Test
  void findsThePortraitsFaceWhereTfjsDoes() throws Exception {
    JsonNode ref = VisionReference.load("webcam-raw.json").get("face").get("faces");
    JsonNode faces = answer("screenshot-webcam.png", Map.of()).get("faces");
    assertEquals(1, ref.size());
    assertEquals(1, faces.size());
    JsonNode f = faces.get(0);
    JsonNode r = ref.get(0);
    for (String k : new String[] {"x", "y", "width", "height"}) {
      assertEquals(r.get("box").get(k).asDouble(), f.get("box").get(k).asDouble(), 0.05, k);
    }
    assertEquals(r.get("score").asDouble(), f.get("score").asDouble(), 1e-3);
    for (int i = 0; i < 6; i++) {
      JsonNode l = f.get("landmarks").get(i);
      assertEquals(r.get("landmarks").get(i).get("name").asText(), l.get("name").asText());
      assertEquals(r.get("landmarks").get(i).get("x").asDouble(), l.get("x").asDouble(), 0.05);
      assertEquals(r.get("landmarks").get(i).get("y").asDouble(), l.get("y").asDouble(), 0.05);
    }
    // the face in the screenshot spans about x 325..590, y 185..510; the eyes are in its top half
    Box box = box(f.get("box"));
    assertTrue(box.x1() > 290 && box.x2() < 640 && box.y1() > 170 && box.y2() < 560, f.toString());
    for (int eye = 0; eye < 2; eye++) {
      JsonNode l = f.get("landmarks").get(eye);
      assertTrue(l.get("y").asDouble() < box.centerY(), l.toString());
      assertTrue(l.get("x").asDouble() > box.x1() && l.get("x").asDouble() < box.x2());
    }
    // the person's right eye is on the image's left
    assertTrue(
        f.get("landmarks").get(0).get("x").asDouble()
            < f.get("landmarks").get(1).get("x").asDouble());
  }

  /** On group photographs, the same faces as TF.js (whose JPEG decoder differs slightly). */
  @ParameterizedTest
  @ValueSource(strings = {"sample1.jpg", "sample2.jpg", "sample3.jpg", "sample6.jpg"})
  void findsTheFacesTfjsFindsOnAPhoto(String photo) throws Exception {
    JsonNode ref = VisionReference.load("samples-final.json").get(photo).get("face").get("faces");
    JsonNode faces = answer(photo, Map.of()).get("faces");
    assertTrue(ref.size() >= 2, "a group photo");
    assertEquals(ref.size(), faces.size(), faces.toString());
    for (JsonNode r : ref) {
      double best = 0;
      for (JsonNode f : faces) {
        best = Math.max(best, box(r.get("box")).iou(box(f.get("box"))));
      }
      assertTrue(best > 0.9, "TF.js face " + r.get("box") + " best IoU " + best);
    }
  }

  @Test
  void aHigherScoreFloorKeepsFewerFaces() throws Exception {
    int loose = answer("sample2.jpg", Map.of("min_score", "0.3")).get("faces").size();
    int strict = answer("sample2.jpg", Map.of("min_score", "0.7")).get("faces").size();
    assertTrue(strict <= loose);
    for (JsonNode f : answer("sample2.jpg", Map.of("min_score", "0.7")).get("faces")) {
      assertTrue(f.get("score").asDouble() > 0.7);
    }
  }

  @Test
  void aPictureWithoutFacesHasNone() throws Exception {
    byte[] grey =
        io.retina.workers.imaging.PngEncoder.encode(ImageFixtures.pattern(320, 200, false), false);
    assertEquals(0, Json.MAPPER.readTree(task.run(grey, Map.of()).body()).get("faces").size());
  }

  @Test
  void refusesAnUnknownScoreFloor() {
    assertThrows(
        InvalidInputException.class, () -> task.run(new byte[0], Map.of("min_score", "0.1")));
  }

  static Box box(JsonNode b) {
    double x = b.get("x").asDouble();
    double y = b.get("y").asDouble();
    return new Box(x, y, x + b.get("width").asDouble(), y + b.get("height").asDouble());
  }

  private static JsonNode answer(String photo, Map<String, String> params) throws Exception {
    TaskOutput out = task.run(VisionReference.photo(photo), params);
    assertEquals("application/json", out.mediaType());
    return Json.MAPPER.readTree(out.body());
  }
}
