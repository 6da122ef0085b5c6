package io.retina.workers.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.retina.platform.store.Json;
import io.retina.workers.models.CanonicalModels;
import io.retina.workers.tfjs.ModelCacheFixtures;
import io.retina.workers.training.Backbone;
import io.retina.workers.training.ClassifierHead;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The classify task over hand-made heads: what it answers, and the classifier files it refuses at
 * load. Training and serving a real head together is in ClassifierTrainerTest.
 */
class ClassifyTaskTest {

  private static final CanonicalModels CANONICAL = new CanonicalModels(ModelCacheFixtures.cache());

  /** A head that ignores the image: zero weights, and biases that make "b" three times "a". */
  private static ClassifierHead biasOnly() {
    return new ClassifierHead(
        List.of("a", "b"),
        new float[Backbone.DIMENSION * 2],
        new float[] {0f, (float) Math.log(3)});
  }

  private static ImageTask load(Path dir, byte[] classifierJson) throws IOException {
    Files.write(dir.resolve("classifier.json"), classifierJson);
    return ImageTasks.load("classify", dir, Map.of("model", "classifier.json"), CANONICAL);
  }

  @Test
  void answersTheLabelItsScoreAndEveryClassProbability(@TempDir Path dir) throws Exception {
    try (ImageTask task = load(dir, biasOnly().toJson())) {
      byte[] image =
          Files.readAllBytes(ModelCacheFixtures.esrganSlim().resolve("assets/fixture.png"));
      TaskOutput out = task.run(image, Map.of());
      assertEquals("application/json", out.mediaType());
      JsonNode json = Json.MAPPER.readTree(out.body());
      assertEquals("b", json.get("label").asText());
      assertEquals(0.75, json.get("score").asDouble(), 1e-6);
      assertEquals(0.25, json.get("probabilities").get("a").asDouble(), 1e-6);
      assertEquals(0.75, json.get("probabilities").get("b").asDouble(), 1e-6);
    }
  }

  @Test
  void refusesAnImageItCannotDecode(@TempDir Path dir) throws Exception {
    try (ImageTask task = load(dir, biasOnly().toJson())) {
      assertThrows(InvalidInputException.class, () -> task.run(new byte[] {1, 2, 3}, Map.of()));
    }
  }

  @Test
  void refusesAClassifierTrainedOnAnotherBackbone(@TempDir Path dir) throws Exception {
    ObjectNode json = (ObjectNode) Json.MAPPER.readTree(biasOnly().toJson());
    json.put("backbone", "efficientnet-b0");
    IOException e =
        assertThrows(IOException.class, () -> load(dir, Json.MAPPER.writeValueAsBytes(json)));
    assertTrue(e.getMessage().contains("backbone"), e.getMessage());
  }

  @Test
  void refusesAClassifierOfAnotherInputSize(@TempDir Path dir) throws Exception {
    ObjectNode json = (ObjectNode) Json.MAPPER.readTree(biasOnly().toJson());
    json.put("input", 160);
    assertThrows(IOException.class, () -> load(dir, Json.MAPPER.writeValueAsBytes(json)));
  }

  @Test
  void refusesWeightsThatDoNotFitItsClasses(@TempDir Path dir) throws Exception {
    ObjectNode json = (ObjectNode) Json.MAPPER.readTree(biasOnly().toJson());
    json.putArray("classes").add("a").add("b").add("c");
    IOException e =
        assertThrows(IOException.class, () -> load(dir, Json.MAPPER.writeValueAsBytes(json)));
    assertTrue(e.getMessage().contains("weights"), e.getMessage());
  }
}
