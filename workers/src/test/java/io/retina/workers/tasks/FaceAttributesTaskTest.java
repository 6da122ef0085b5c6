package io.retina.workers.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.retina.platform.store.Json;
import io.retina.workers.imaging.ImageDecoder;
import io.retina.workers.imaging.RgbaImage;
import io.retina.workers.tasks.vision.VisionReference;
import io.retina.workers.tfjs.ModelCacheFixtures;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** BlazeFace + FaceRes + the emotion model through the face-attributes task. */
class FaceAttributesTaskTest {

  /**
   * Largest difference allowed from TF.js on the attribute models' raw outputs (probabilities), on
   * the crop the reference used. Measured here: see the printed line.
   */
  private static final double TOLERANCE = 1e-3;

  private static FaceAttributesTask task;

  @BeforeAll
  static void load() throws Exception {
    task =
        (FaceAttributesTask)
            ImageTasks.load(
                "face-attributes",
                ModelCacheFixtures.humanModels(),
                Map.of(
                    "detector", "models/blazeface.json",
                    "faceres", "models/faceres.json",
                    "emotion", "models/emotion.json"));
  }

  @AfterAll
  static void close() {
    task.close();
  }

  private static RgbaImage webcam() throws Exception {
    return ImageDecoder.decode(VisionReference.photo("screenshot-webcam.png"));
  }

  private static FaceAttributesTask.Raw rawOnReferenceCrop(RgbaImage img) throws Exception {
    JsonNode crop = VisionReference.load("webcam-raw.json").get("attributes").get(0).get("crop");
    double[] box = new double[4];
    for (int i = 0; i < 4; i++) {
      box[i] = crop.get(i).asDouble();
    }
    return task.raw(img, box);
  }

  @Test
  void rawOutputsMatchTheTfjsReference() throws Exception {
    JsonNode ref = VisionReference.load("webcam-raw.json").get("attributes").get(0).get("raw");
    FaceAttributesTask.Raw raw = rawOnReferenceCrop(webcam());
    double gender = Math.abs(ref.get("gender").asDouble() - raw.gender());
    double age = VisionReference.maxAbsDiff(ref.get("age"), raw.age());
    double emotions = VisionReference.maxAbsDiff(ref.get("emotions"), raw.emotions());
    System.out.printf(
        "faceres/emotion vs TF.js: gender %.2e, age %.2e, emotions %.2e%n", gender, age, emotions);
    assertTrue(gender < TOLERANCE && age < TOLERANCE && emotions < TOLERANCE);
  }

  @Test
  void aPerturbedInputFallsOutsideTheTolerance() throws Exception {
    JsonNode ref = VisionReference.load("webcam-raw.json").get("attributes").get(0).get("raw");
    FaceAttributesTask.Raw raw = rawOnReferenceCrop(VisionReference.perturbed(webcam()));
    double moved =
        Math.max(
            Math.abs(ref.get("gender").asDouble() - raw.gender()),
            Math.max(
                VisionReference.maxAbsDiff(ref.get("age"), raw.age()),
                VisionReference.maxAbsDiff(ref.get("emotions"), raw.emotions())));
    System.out.printf("faceres/emotion on a perturbed input: max abs diff %.2e%n", moved);
    assertTrue(moved > TOLERANCE * 3, "moved by " + moved);
  }

  @Test
  void thePortraitIsAManAsTfjsSays() throws Exception {
    JsonNode ref = VisionReference.load("webcam-raw.json").get("attributes").get(0);
    JsonNode faces = answer("screenshot-webcam.png").get("faces");
    assertEquals(1, faces.size());
    JsonNode f = faces.get(0);
    assertEquals("male", f.get("gender").asText());
    assertEquals(ref.get("age").asDouble(), f.get("age").asDouble(), 0.5);
    assertEquals(ref.get("emotion").asText(), f.get("emotion").asText());
    assertEquals(7, f.get("emotions").size());
    double sum = 0;
    for (JsonNode e : f.get("emotions")) {
      sum += e.get("score").asDouble();
    }
    assertEquals(1, sum, 1e-3);
  }

  /** On group photographs of women, each face found is a woman's, as TF.js says. */
  @ParameterizedTest
  @ValueSource(strings = {"sample1.jpg", "sample3.jpg", "sample6.jpg"})
  void theWomenOfAPhotoAreWomen(String photo) throws Exception {
    JsonNode ref = VisionReference.load("samples-final.json").get(photo).get("attributes");
    JsonNode faces = answer(photo).get("faces");
    assertEquals(ref.size(), faces.size());
    for (JsonNode f : faces) {
      assertEquals("female", f.get("gender").asText(), f.toString());
      assertTrue(f.get("age").asDouble() > 15 && f.get("age").asDouble() < 45, f.toString());
    }
  }

  private static JsonNode answer(String photo) throws Exception {
    TaskOutput out = task.run(VisionReference.photo(photo), Map.of());
    assertEquals("application/json", out.mediaType());
    return Json.MAPPER.readTree(out.body());
  }
}
