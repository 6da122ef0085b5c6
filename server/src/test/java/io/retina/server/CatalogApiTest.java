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
 * what its task promises: a PNG of the right size or a JSON answer. Each task's content is checked
 * closely elsewhere (VisionApiTest, the workers' reference tests); this shows none is left out.
 */
class CatalogApiTest {
  static TestNode node;
  static Http http;
  static String key;

  /** The tasks that answer a PNG, and how much larger than the input it is. */
  static final Map<String, Integer> IMAGE_TASKS =
      Map.of(
          "upscale", 0, // the scale parameter's default
          "remove-background", 1,
          "remove-background-two-class", 1,
          "matting", 1,
          "denoise", 1,
          "deblur", 1);

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
        int scale = IMAGE_TASKS.get(task) == 0 ? defaultScale(v) : 1;
        BufferedImage out = Photos.decode(result.body());
        assertEquals(input.getWidth() * scale, out.getWidth(), ref);
        assertEquals(input.getHeight() * scale, out.getHeight(), ref);
      } else {
        assertTrue(JSON_TASKS.contains(task), ref + " has a task this test doesn't know: " + task);
        assertTrue(result.contentType().startsWith("application/json"), ref);
        assertFalse(result.json().isEmpty(), ref);
      }
      answered.add(ref);
    }
    assertTrue(answered.size() >= 12, "the whole catalog: " + answered);
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

  private static int defaultScale(JsonNode version) {
    for (JsonNode p : version.get("parameters")) {
      if (p.get("name").asText().equals("scale")) {
        return p.get("defaultValue").asInt();
      }
    }
    throw new AssertionError(version.get("ref") + " has no scale parameter");
  }
}
