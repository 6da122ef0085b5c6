package io.retina.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every version the catalog lists, active or staged, answers a photo through the public API with
 * what its task promises: a PNG of the right size or a JSON answer, and a JPEG when a version whose
 * answer is a photo is asked for one. Each task's content is checked closely elsewhere
 * (VisionApiTest, the workers' reference tests); this shows none is left out.
 */
class CatalogApiTest {
  static TestNode node;
  static Http http;
  static String key;

  /**
   * The tasks that answer a PNG, and how much larger than the input it is; 0 when its parameters'
   * defaults say (upscale: scale; resize: the width and height box it fits the photo into).
   */
  static final Map<String, Integer> IMAGE_TASKS =
      Map.of(
          "upscale", 0,
          "remove-background", 1,
          "remove-background-two-class", 1,
          "matting", 1,
          "denoise", 1,
          "deblur", 1,
          "anonymize", 1,
          "resize", 0);

  static final Set<String> JSON_TASKS =
      Set.of("pose", "face-detection", "face-attributes", "object-detection", "moderate");

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start(Map.of());
    http = new Http(node.base);
    key = http.newTenantKey(Http.uniqueName("catalog"));
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
  }

  @Test
  void everyCatalogVersionAnswersAPhotoThroughTheApi() throws Exception {
    // small, so that MAXIM's two models stay cheap on a CPU; a person in it for the JSON tasks
    byte[] photo = JobContractTest.shrink(Photos.peopleJpeg(1), 96);
    BufferedImage input = Photos.decode(photo);
    JsonNode catalog = http.get("/v1/models", key).json().get("models");
    List<String> answered = new ArrayList<>();
    for (JsonNode v : catalog) {
      String ref = v.get("ref").asText();
      String task = v.get("task").asText();
      Http.Reply r = http.submit("model=" + ref, key, "image/png", photo, "Prefer", "wait=120");
      JsonNode job = r.status() == 200 ? r.json() : JobContractTest.awaitFinal(http, idOf(r), key);
      assertEquals("succeeded", job.get("status").asText(), ref + ": " + job);
      Http.Reply result = http.get("/v1/jobs/" + job.get("id").asText() + "/result", key);
      assertEquals(200, result.status(), ref + ": " + result);
      if (IMAGE_TASKS.containsKey(task)) {
        assertEquals("image/png", result.contentType(), ref);
        BufferedImage out = Photos.decode(result.body());
        assertEquals(expectedSize(v, input), out.getWidth() + "x" + out.getHeight(), ref);
      } else {
        assertTrue(JSON_TASKS.contains(task), ref + " has a task this test doesn't know: " + task);
        assertTrue(result.contentType().startsWith("application/json"), ref);
        assertFalse(result.json().isEmpty(), ref);
      }
      answered.add(ref);
    }
    assertTrue(answered.size() >= 13, "the whole catalog: " + answered);
  }

  /**
   * Every version that answers a photo, and only those, takes format and quality, and answers a
   * JPEG of the same size as its PNG when asked. Cutouts and masks keep PNG: their alpha is their
   * point.
   */
  @Test
  void everyVersionAnsweringAPhotoGivesAJpegWhenAsked() throws Exception {
    byte[] photo = JobContractTest.shrink(Photos.peopleJpeg(1), 96);
    BufferedImage input = Photos.decode(photo);
    List<String> asked = new ArrayList<>();
    for (JsonNode v : http.get("/v1/models", key).json().get("models")) {
      String ref = v.get("ref").asText();
      boolean takesFormat = parameter(v, "format") != null;
      assertEquals(
          Set.of("upscale", "denoise", "deblur", "resize", "anonymize")
              .contains(v.get("task").asText()),
          takesFormat,
          ref);
      if (!takesFormat) {
        continue;
      }
      assertEquals("png", parameter(v, "format").get("defaultValue").asText(), ref);
      assertEquals(1, parameter(v, "quality").get("min").asInt(), ref);
      assertEquals(100, parameter(v, "quality").get("max").asInt(), ref);
      Http.Reply r =
          http.submit(
              "model=" + ref + "&format=jpeg&quality=80",
              key,
              "image/png",
              photo,
              "Prefer",
              "wait=120");
      JsonNode job = r.status() == 200 ? r.json() : JobContractTest.awaitFinal(http, idOf(r), key);
      assertEquals("succeeded", job.get("status").asText(), ref + ": " + job);
      assertEquals("image/jpeg", job.get("output").get("mediaType").asText(), ref);
      Http.Reply result = http.get("/v1/jobs/" + job.get("id").asText() + "/result", key);
      assertEquals("image/jpeg", result.contentType(), ref);
      BufferedImage out = Photos.decode(result.body());
      assertEquals(expectedSize(v, input), out.getWidth() + "x" + out.getHeight(), ref);
      asked.add(ref);
    }
    assertTrue(asked.size() >= 6, "upscale's three, denoise, deblur, resize: " + asked);
  }

  @Test
  void resizeGivesTheSizeAsked() throws Exception {
    BufferedImage square = new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB);
    Http.Reply r =
        http.submit(
            "model=resize&width=32&height=16&fit=fill",
            key,
            "image/png",
            Photos.png(square),
            "Prefer",
            "wait=30");
    JsonNode job = r.status() == 200 ? r.json() : JobContractTest.awaitFinal(http, idOf(r), key);
    assertEquals("succeeded", job.get("status").asText(), job.toString());
    Http.Reply result = http.get("/v1/jobs/" + job.get("id").asText() + "/result", key);
    assertEquals("image/png", result.contentType());
    BufferedImage out = Photos.decode(result.body());
    assertEquals("32x16", out.getWidth() + "x" + out.getHeight());
  }

  @Test
  void resizeRefusesASizeOutsideItsRangeWithTheRange() throws Exception {
    Http.Reply r =
        http.submit(
            "model=resize&width=5000",
            key,
            "image/png",
            Photos.png(new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB)));
    assertEquals(422, r.status(), r.toString());
    assertEquals("width", r.json().get("parameter").asText());
    assertTrue(r.json().get("detail").asText().contains("1 to 4096"), r.toString());
  }

  /** Versions of one model run different networks, and each says which. */
  @Test
  void eachVersionDescribesItsOwnNetwork() throws Exception {
    Map<String, String> described = new java.util.HashMap<>();
    for (JsonNode v : http.get("/v1/models", key).json().get("models")) {
      described.put(v.get("ref").asText(), v.get("description").asText());
    }
    Map<String, String> networks =
        Map.of(
            "background-removal@1", "selfie",
            "background-removal@2", "Meet",
            "object-detection@1", "CenterNet",
            "object-detection@2", "NanoDet",
            "moderation@1", "MobileNetV2)",
            "moderation@2", "\"mid\" graph");
    networks.forEach(
        (ref, network) ->
            assertTrue(
                described.getOrDefault(ref, "").contains(network),
                ref + " should name " + network + ": " + described.get(ref)));
  }

  private static String idOf(Http.Reply r) {
    assertEquals(202, r.status(), r.toString());
    return r.json().get("id").asText();
  }

  /** The size a version's answer has for {@code input} with its parameters' defaults. */
  private static String expectedSize(JsonNode version, BufferedImage input) {
    int w = input.getWidth();
    int h = input.getHeight();
    switch (version.get("task").asText()) {
      case "upscale" -> {
        int scale = parameter(version, "scale").get("defaultValue").asInt();
        return w * scale + "x" + h * scale;
      }
      case "resize" -> {
        // fit=contain by default: as large as fits the box, proportions kept
        assertEquals("contain", parameter(version, "fit").get("defaultValue").asText());
        int boxW = parameter(version, "width").get("defaultValue").asInt();
        int boxH = parameter(version, "height").get("defaultValue").asInt();
        double s = Math.min((double) boxW / w, (double) boxH / h);
        return Math.round(w * s) + "x" + Math.round(h * s);
      }
      default -> {
        return w + "x" + h;
      }
    }
  }

  /** The version's parameter of this name, or null. */
  private static JsonNode parameter(JsonNode version, String name) {
    for (JsonNode p : version.get("parameters")) {
      if (p.get("name").asText().equals(name)) {
        return p;
      }
    }
    return null;
  }
}
