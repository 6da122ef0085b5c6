package io.retina.workers.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.retina.platform.store.Json;
import io.retina.workers.imaging.ImageDecoder;
import io.retina.workers.tasks.vision.VisionReference;
import io.retina.workers.tfjs.ModelCacheFixtures;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** MoveNet Lightning through the pose task. */
class PoseTaskTest {

  /**
   * Largest difference allowed from TF.js on any raw output value (y and x in 0..1, score).
   * Measured here: 3.0e-5; the reference's input with +-4 levels of noise moves it by 0.15.
   */
  private static final double TOLERANCE = 1e-3;

  private static PoseTask task;

  @BeforeAll
  static void load() throws Exception {
    task =
        (PoseTask)
            ImageTasks.load(
                "pose",
                ModelCacheFixtures.humanModels(),
                Map.of("model", "models/movenet-lightning.json"));
  }

  @AfterAll
  static void close() {
    task.close();
  }

  @Test
  void rawOutputMatchesTheTfjsReference() throws Exception {
    JsonNode ref = VisionReference.load("webcam-raw.json").get("pose");
    float[] raw = task.raw(ImageDecoder.decode(VisionReference.photo("screenshot-webcam.png")));
    double max = VisionReference.maxAbsDiff(ref.get("raw"), raw);
    System.out.printf("movenet raw output vs TF.js: max abs diff %.2e%n", max);
    assertTrue(max < TOLERANCE, "max abs diff " + max);
  }

  @Test
  void aPerturbedInputFallsOutsideTheTolerance() throws Exception {
    JsonNode ref = VisionReference.load("webcam-raw.json").get("pose");
    float[] raw =
        task.raw(
            VisionReference.perturbed(
                ImageDecoder.decode(VisionReference.photo("screenshot-webcam.png"))));
    double max = VisionReference.maxAbsDiff(ref.get("raw"), raw);
    System.out.printf("movenet on a perturbed input: max abs diff %.2e%n", max);
    assertTrue(max > TOLERANCE * 3, "moved by " + max);
  }

  @Test
  void keypointsAreThoseOfTheReferenceInPixels() throws Exception {
    JsonNode ref = VisionReference.load("webcam-raw.json").get("pose").get("keypoints");
    JsonNode answer = answer("screenshot-webcam.png");
    JsonNode keypoints = answer.get("keypoints");
    assertEquals(17, keypoints.size());
    for (int i = 0; i < 17; i++) {
      JsonNode k = keypoints.get(i);
      assertEquals(ref.get(i).get("name").asText(), k.get("name").asText());
      // 2e-3 of the 1280-pixel padded side is under 3 pixels
      assertEquals(ref.get(i).get("x").asDouble(), k.get("x").asDouble(), 3.0);
      assertEquals(ref.get(i).get("y").asDouble(), k.get("y").asDouble(), 3.0);
      assertEquals(ref.get(i).get("score").asDouble(), k.get("score").asDouble(), TOLERANCE);
    }
  }

  @Test
  void theFaceKeypointsOfAPortraitAreOnTheFace() throws Exception {
    // screenshot-webcam.png: a man facing the camera; his face spans about x 325..590, y 185..510
    JsonNode k = answer("screenshot-webcam.png").get("keypoints");
    for (int i = 0; i < 5; i++) { // nose, eyes, ears
      JsonNode p = k.get(i);
      assertTrue(p.get("score").asDouble() > 0.5, p.toString());
      assertTrue(p.get("x").asDouble() > 300 && p.get("x").asDouble() < 640, p.toString());
      assertTrue(p.get("y").asDouble() > 180 && p.get("y").asDouble() < 520, p.toString());
    }
    // shoulders below the face, left (his) on the image's right
    assertTrue(k.get(5).get("y").asDouble() > 520 && k.get(6).get("y").asDouble() > 520);
    assertTrue(k.get(5).get("x").asDouble() > k.get(6).get("x").asDouble());
  }

  @Test
  void keypointsOfAPhotoAreInsideThePersonTfjsFinds() throws Exception {
    JsonNode ref = VisionReference.load("samples-final.json").get("sample1.jpg").get("pose");
    JsonNode k = answer("sample1.jpg").get("keypoints");
    for (int i = 0; i < 17; i++) {
      JsonNode r = ref.get("keypoints").get(i);
      if (r.get("score").asDouble() > 0.5) {
        // JPEG decoders differ slightly (jpeg-js vs ImageIO), so allow a few pixels more
        assertEquals(r.get("x").asDouble(), k.get(i).get("x").asDouble(), 12.0, r.toString());
        assertEquals(r.get("y").asDouble(), k.get(i).get("y").asDouble(), 12.0, r.toString());
      }
    }
  }

  private static JsonNode answer(String photo) throws Exception {
    TaskOutput out = task.run(VisionReference.photo(photo), Map.of());
    assertEquals("application/json", out.mediaType());
    return Json.MAPPER.readTree(out.body());
  }
}
