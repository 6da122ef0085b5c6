package io.retina.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The vision models through the public HTTP API of one real node, as a tenant's developer sees
 * them: real photos in, and JSON answers that follow the schemas the node's own {@code
 * /openapi.yaml} documents for {@code GET /v1/jobs/{id}/result}.
 */
class VisionApiTest {
  static TestNode node;
  static Http http;
  static String key;
  static JsonNode openApi;

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start(Map.of());
    http = new Http(node.base);
    key = http.newTenantKey(Http.uniqueName("vision"));
    Http.Reply served = http.send(http.to("/openapi.yaml").GET());
    assertEquals(200, served.status(), served.toString());
    openApi = new ObjectMapper(new YAMLFactory()).readTree(served.body());
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
  }

  /**
   * face-api's demo/screenshot-webcam.png: a lossless 853x1280 photo of a man facing the camera.
   */
  static byte[] portraitPng() {
    try {
      return Files.readAllBytes(
          Photos.cache().resolve("vladmandic_face-api_1.7.15/demo/screenshot-webcam.png"));
    } catch (IOException e) {
      throw new UncheckedIOException("missing test photo (the build fetches it)", e);
    }
  }

  @Test
  void poseFindsThePortraitsKeypointsInsideTheImage() {
    JsonNode pose = succeededJson("model=pose", "image/png", portraitPng(), "PoseResult");
    JsonNode k = pose.get("keypoints");
    for (JsonNode p : k) {
      assertTrue(p.get("x").asDouble() <= 853 && p.get("y").asDouble() <= 1280, p.toString());
    }
    for (int i = 0; i <= 2; i++) { // nose and eyes
      assertTrue(k.get(i).get("score").asDouble() > 0.5, k.get(i).toString());
    }
    double noseY = k.get(0).get("y").asDouble();
    assertTrue(k.get(5).get("y").asDouble() > noseY && k.get(6).get("y").asDouble() > noseY);
    assertTrue(
        k.get(5).get("x").asDouble() > k.get(6).get("x").asDouble(),
        "the left shoulder of a man facing the camera is on the image's right");
  }

  @Test
  void faceDetectionFindsThePortraitsFaceWithItsLandmarks() {
    JsonNode faces =
        succeededJson("model=face-detection", "image/png", portraitPng(), "FaceDetectionResult")
            .get("faces");
    assertEquals(1, faces.size(), faces.toString());
    JsonNode box = faces.get(0).get("box");
    double x = box.get("x").asDouble();
    double y = box.get("y").asDouble();
    assertTrue(x >= 0 && y >= 0 && x + box.get("width").asDouble() <= 853, box.toString());
    assertTrue(faces.get(0).get("score").asDouble() > 0.5);
    for (JsonNode l : faces.get(0).get("landmarks")) {
      if (List.of("right_eye", "left_eye", "nose").contains(l.get("name").asText())) {
        assertTrue(inside(l, box), l + " outside " + box);
      }
    }
  }

  @Test
  void faceDetectionFindsSeveralFacesOnAGroupPhotoAndNoneOnAFlower() {
    JsonNode group =
        succeededJson(
                "model=face-detection&min_score=0.3",
                "image/jpeg",
                Photos.peopleJpeg(1),
                "FaceDetectionResult")
            .get("faces");
    assertTrue(group.size() >= 2, group.toString());
    for (int i = 1; i < group.size(); i++) {
      assertTrue(group.get(i - 1).get("score").asDouble() >= group.get(i).get("score").asDouble());
    }
    JsonNode flower =
        succeededJson(
            "model=face-detection", "image/png", Photos.flowerPng(), "FaceDetectionResult");
    assertEquals(0, flower.get("faces").size(), flower.toString());
  }

  /** The active version, NanoDet-g (@2), answers the unpinned name. */
  @Test
  void objectDetectionFindsThePeopleOfAGroupPhoto() {
    JsonNode objects =
        succeededJson(
                "model=object-detection",
                "image/jpeg",
                Photos.peopleJpeg(1),
                "ObjectDetectionResult")
            .get("objects");
    assertTrue(people(objects, Photos.decode(Photos.peopleJpeg(1))) >= 2, "a group: " + objects);
  }

  @Test
  void objectDetectionVersion1FindsAPersonWhilePinnedAndStaged() {
    JsonNode objects =
        succeededJson(
                "model=object-detection@1",
                "image/jpeg",
                Photos.peopleJpeg(1),
                "ObjectDetectionResult")
            .get("objects");
    assertTrue(people(objects, Photos.decode(Photos.peopleJpeg(1))) >= 1, objects.toString());
  }

  /** The people among the objects, after checking every object's score and box. */
  private static int people(JsonNode objects, BufferedImage photo) {
    int people = 0;
    for (JsonNode o : objects) {
      people += o.get("label").asText().equals("person") ? 1 : 0;
      assertTrue(o.get("score").asDouble() > 0.3, "above the default min_score: " + o);
      JsonNode b = o.get("box");
      assertTrue(b.get("x").asDouble() >= 0 && b.get("y").asDouble() >= 0, o.toString());
      assertTrue(b.get("x").asDouble() + b.get("width").asDouble() <= photo.getWidth() + 0.01);
      assertTrue(b.get("y").asDouble() + b.get("height").asDouble() <= photo.getHeight() + 0.01);
    }
    return people;
  }

  @Test
  void objectDetectionAnnotatedAnswersThePhotoAsAnOpaquePng() {
    Http.Reply result =
        succeeded("model=object-detection&output=annotated", "image/jpeg", Photos.peopleJpeg(1));
    assertEquals("image/png", result.contentType());
    BufferedImage annotated = Photos.decode(result.body());
    BufferedImage photo = Photos.decode(Photos.peopleJpeg(1));
    assertEquals(photo.getWidth(), annotated.getWidth());
    assertEquals(photo.getHeight(), annotated.getHeight());
    assertFalse(annotated.getColorModel().hasAlpha(), "the photo is drawn on, opaque");
  }

  @Test
  void faceAttributesDescribeThePortraitsMan() {
    JsonNode faces =
        succeededJson("model=face-attributes", "image/png", portraitPng(), "FaceAttributesResult")
            .get("faces");
    assertEquals(1, faces.size(), faces.toString());
    JsonNode face = faces.get(0);
    assertEquals("male", face.get("gender").asText(), face.toString());
    assertTrue(face.get("age").asDouble() > 15 && face.get("age").asDouble() < 70, face.toString());
    JsonNode emotions = face.get("emotions");
    assertEquals(face.get("emotion").asText(), emotions.get(0).get("emotion").asText());
    double sum = 0;
    for (JsonNode e : emotions) {
      sum += e.get("score").asDouble();
    }
    assertEquals(1, sum, 1e-2, "a softmax: " + emotions);
  }

  @Test
  void moderationCallsAPeoplePhotoSafe() {
    JsonNode answer =
        succeededJson("model=moderation", "image/jpeg", Photos.peopleJpeg(1), "ModerationResult");
    JsonNode p = answer.get("probabilities");
    assertTrue(p.get("Porn").asDouble() + p.get("Hentai").asDouble() < 0.1, answer.toString());
    assertEquals(answer.get("score").asDouble(), p.get(answer.get("label").asText()).asDouble());
  }

  @Test
  void refusesParameterValuesAModelDoesNotTakeWith422() {
    Map<String, String> refused =
        Map.of(
            "model=face-detection&min_score=0.4", "min_score",
            "model=face-attributes&min_score=0.2", "min_score",
            "model=object-detection&output=mask", "output",
            "model=object-detection&min_score=1", "min_score",
            "model=pose&min_score=0.5", "min_score");
    refused.forEach(
        (query, parameter) -> {
          Http.Reply reply = http.submit(query, key, "image/png", Photos.flowerPng());
          JobContractTest.assertProblem(reply, 422, "invalid-parameter");
          assertEquals(parameter, reply.json().get("parameter").asText(), query);
        });
  }

  @Test
  void documentsEveryParameterTheCatalogListsWithItsValuesAndDefault() {
    JsonNode documented = openApi.at("/paths/~1v1~1jobs/post/parameters");
    List<String> missing = new ArrayList<>();
    for (JsonNode model : http.get("/v1/models", key).json().get("models")) {
      for (JsonNode p : model.get("parameters")) {
        String values =
            p.has("allowed") ? p.get("allowed").toString() : p.get("min") + " to " + p.get("max");
        String want = values + " default " + p.get("defaultValue");
        List<String> offered = new ArrayList<>();
        for (JsonNode ref : documented) {
          JsonNode param = resolve(ref);
          if (param.path("name").asText().equals(p.get("name").asText())) {
            JsonNode schema = param.get("schema");
            for (JsonNode choice : schema.has("anyOf") ? schema.get("anyOf") : List.of(schema)) {
              String documentedValues =
                  choice.has("enum")
                      ? choice.get("enum").toString()
                      : wholeNumbersMatching(choice.get("pattern").asText());
              offered.add(documentedValues + " default " + choice.get("default"));
            }
          }
        }
        if (!offered.contains(want)) {
          missing.add(model.get("ref").asText() + " " + p.get("name").asText() + " " + want);
        }
      }
    }
    assertEquals(List.of(), missing, "parameters served but not documented for POST /v1/jobs");
  }

  /**
   * The whole numbers from 0 to 99999 a documented pattern accepts, as "min to max"; they must be
   * one run without gaps, and no zero-padded or signed spelling may match.
   */
  private static String wholeNumbersMatching(String pattern) {
    java.util.regex.Pattern regex = java.util.regex.Pattern.compile(pattern);
    List<Integer> matched = new ArrayList<>();
    for (int n = 0; n < 100_000; n++) {
      if (regex.matcher(Integer.toString(n)).find()) {
        matched.add(n);
      }
    }
    int min = matched.get(0);
    int max = matched.get(matched.size() - 1);
    assertEquals(max - min + 1, matched.size(), pattern + " accepts a range with gaps");
    for (String spelling : List.of("0" + min, "+" + min, " " + min, min + " ")) {
      assertFalse(regex.matcher(spelling).find(), pattern + " accepts '" + spelling + "'");
    }
    return min + " to " + max;
  }

  @Test
  void documentsOneExampleOfEachJsonAnswerThatFollowsItsSchema() {
    JsonNode json =
        openApi.at("/paths/~1v1~1jobs~1{id}~1result/get/responses/200/content/application~1json");
    List<String> errors = new ArrayList<>();
    for (String name :
        List.of(
            "PoseResult",
            "FaceDetectionResult",
            "ObjectDetectionResult",
            "FaceAttributesResult",
            "ModerationResult")) {
      JsonNode example = null;
      for (JsonNode e : json.get("examples")) {
        if (e.path("$ref").asText().equals("#/components/examples/" + name)) {
          example = resolve(e);
        }
      }
      assertTrue(example != null && example.has("value"), "no example of " + name);
      validate(openApi.at("/components/schemas/" + name), example.get("value"), name, errors);
    }
    assertEquals(List.of(), errors);
  }

  @Test
  void theSchemaCheckRefusesAnswersThatBreakTheSchema() {
    JsonNode schema = openApi.at("/components/schemas/FaceAttributesResult");
    String face =
        "{\"box\":{\"x\":1,\"y\":2,\"width\":3,\"height\":4},\"score\":0.9,\"age\":30,"
            + "\"gender\":\"%s\",\"genderScore\":%s,\"emotion\":\"sad\",\"emotions\":[]}";
    List<String> errors = new ArrayList<>();
    validate(schema, json("{\"faces\":[" + face.formatted("male", "0.9") + "]}"), "$", errors);
    assertEquals(List.of("$.faces[0].emotions has 0 items"), errors);
    errors.clear();
    validate(schema, json("{\"faces\":[" + face.formatted("other", "1.2") + "]}"), "$", errors);
    assertEquals(3, errors.size(), "gender, genderScore and emotions: " + errors);
    errors.clear();
    validate(schema, json("{\"faces\":{}}"), "$", errors);
    assertEquals(List.of("$.faces is not array: {}"), errors);
    errors.clear();
    validate(
        openApi.at("/components/schemas/ModerationResult"),
        json("{\"label\":\"Neutral\",\"score\":1,\"probabilities\":{\"Cat\":0.5}}"),
        "$",
        errors);
    assertTrue(errors.contains("$.probabilities has no property Cat"), errors.toString());
    assertTrue(errors.contains("$.probabilities lacks Neutral"), errors.toString());
  }

  private static JsonNode json(String text) {
    try {
      return new ObjectMapper().readTree(text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Submits, waits for success and fetches the result. */
  private static Http.Reply succeeded(String query, String mediaType, byte[] image) {
    Http.Reply reply = http.submit(query, key, mediaType, image, "Prefer", "wait=60");
    assertEquals(200, reply.status(), reply.toString());
    assertEquals("succeeded", reply.json().get("status").asText(), reply.toString());
    Http.Reply result = http.get(reply.json().at("/output/url").asText(), key);
    assertEquals(200, result.status(), result.toString());
    assertEquals(reply.json().at("/output/mediaType").asText(), result.contentType());
    return result;
  }

  /** The JSON result of a job, checked against the named schema of the served openapi.yaml. */
  private static JsonNode succeededJson(
      String query, String mediaType, byte[] image, String schema) {
    Http.Reply result = succeeded(query, mediaType, image);
    assertEquals("application/json", result.contentType());
    String ref = "#/components/schemas/" + schema;
    JsonNode answerSchema =
        openApi.at("/paths/~1v1~1jobs~1{id}~1result/get/responses/200/content/application~1json");
    assertTrue(
        answerSchema.path("schema").findValuesAsText("$ref").contains(ref),
        schema + " is not a documented answer of GET /v1/jobs/{id}/result");
    JsonNode answer = result.json();
    List<String> errors = new ArrayList<>();
    validate(resolve(openApi.at(ref.substring(1))), answer, "$", errors);
    assertEquals(List.of(), errors, schema + ": " + answer);
    return answer;
  }

  private static boolean inside(JsonNode point, JsonNode box) {
    double x = point.get("x").asDouble();
    double y = point.get("y").asDouble();
    double bx = box.get("x").asDouble();
    double by = box.get("y").asDouble();
    return x >= bx
        && x <= bx + box.get("width").asDouble()
        && y >= by
        && y <= by + box.get("height").asDouble();
  }

  private static JsonNode resolve(JsonNode node) {
    while (node.has("$ref")) {
      node = openApi.at(node.get("$ref").asText().substring(1));
    }
    return node;
  }

  /**
   * Checks a value against the JSON Schema subset the answers use: $ref, type, enum, minimum,
   * maximum, required, properties, additionalProperties false, items, minItems, maxItems, anyOf.
   */
  private static void validate(JsonNode given, JsonNode value, String at, List<String> errors) {
    JsonNode schema = resolve(given);
    if (schema.has("anyOf")) {
      boolean any = false;
      for (JsonNode choice : schema.get("anyOf")) {
        List<String> own = new ArrayList<>();
        validate(choice, value, at, own);
        any |= own.isEmpty();
      }
      if (!any) {
        errors.add(at + " matches none of anyOf");
      }
    }
    String type = schema.path("type").asText(null);
    if (type != null && !hasType(value, type)) {
      errors.add(at + " is not " + type + ": " + value);
      return;
    }
    if (schema.has("enum") && !contains(schema.get("enum"), value)) {
      errors.add(at + " " + value + " is not one of " + schema.get("enum"));
    }
    if (schema.has("minimum") && value.asDouble() < schema.get("minimum").asDouble()) {
      errors.add(at + " " + value + " < " + schema.get("minimum"));
    }
    if (schema.has("maximum") && value.asDouble() > schema.get("maximum").asDouble()) {
      errors.add(at + " " + value + " > " + schema.get("maximum"));
    }
    for (JsonNode name : schema.path("required")) {
      if (!value.has(name.asText())) {
        errors.add(at + " lacks " + name.asText());
      }
    }
    if (value.isObject()) {
      JsonNode properties = schema.path("properties");
      boolean closed = !schema.path("additionalProperties").asBoolean(true);
      for (Map.Entry<String, JsonNode> field : value.properties()) {
        if (properties.has(field.getKey())) {
          validate(
              properties.get(field.getKey()), field.getValue(), at + "." + field.getKey(), errors);
        } else if (closed) {
          errors.add(at + " has no property " + field.getKey());
        }
      }
    }
    if (value.isArray()) {
      if (value.size() < schema.path("minItems").asInt(0)
          || value.size() > schema.path("maxItems").asInt(Integer.MAX_VALUE)) {
        errors.add(at + " has " + value.size() + " items");
      }
      for (int i = 0; i < value.size() && schema.has("items"); i++) {
        validate(schema.get("items"), value.get(i), at + "[" + i + "]", errors);
      }
    }
  }

  private static boolean hasType(JsonNode value, String type) {
    return switch (type) {
      case "object" -> value.isObject();
      case "array" -> value.isArray();
      case "string" -> value.isTextual();
      case "number" -> value.isNumber();
      case "integer" -> value.isIntegralNumber();
      case "boolean" -> value.isBoolean();
      case "null" -> value.isNull();
      default -> throw new AssertionError("the validator does not know type " + type);
    };
  }

  private static boolean contains(JsonNode values, JsonNode value) {
    for (JsonNode v : values) {
      if (v.equals(value)) {
        return true;
      }
    }
    return false;
  }
}
