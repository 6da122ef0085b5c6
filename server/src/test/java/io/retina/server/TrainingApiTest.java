package io.retina.server;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Trainings through the API of a real node: a tenant uploads a labelled zip, the node's worker
 * trains a classifier on the catalog's MobileNetV2 features, and the result is a model only that
 * tenant can see, run and be billed for.
 */
class TrainingApiTest {
  static TestNode node;
  static Http http;

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start(Map.of("retina.workers.training.poll", "200ms"));
    http = new Http(node.base);
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
  }

  static Http.Reply startTraining(Http http, String key, String query, byte[] zip) {
    return http.send(
        http.to("/v1/trainings?" + query)
            .header("Authorization", "Bearer " + key)
            .header("Content-Type", "application/zip")
            .POST(HttpRequest.BodyPublishers.ofByteArray(zip)));
  }

  static JsonNode awaitTraining(Http http, String id, String key, Duration within)
      throws InterruptedException {
    Instant deadline = Instant.now().plus(within);
    while (Instant.now().isBefore(deadline)) {
      JsonNode t = http.get("/v1/trainings/" + id, key).json();
      if (Set.of("succeeded", "failed", "canceled").contains(t.get("status").asText())) {
        return t;
      }
      Thread.sleep(250);
    }
    throw new AssertionError("training " + id + " did not end in " + within);
  }

  @Test
  void trainsAClassifierOnlyItsTenantCanSeeRunOrIsBilledFor() throws Exception {
    Http.TenantKey owner = http.newTenant(Http.uniqueName("Trainer Co"));
    String other = http.newTenantKey(Http.uniqueName("other"));
    Http.Reply started =
        startTraining(http, owner.key(), "name=shapes&epochs=8", ShapeSets.zip(10, 1));
    assertEquals(202, started.status(), started.toString());
    String id = started.json().get("id").asText();
    String model = started.json().get("model").asText();
    assertTrue(model.matches("trainer-co-[0-9a-f]{8}/shapes@1"), model);
    assertEquals("/v1/trainings/" + id, started.header("Location"));
    assertEquals(30, started.json().get("images").asInt());

    // another tenant sees nothing of it, while it runs or after
    assertEquals(404, http.get("/v1/trainings/" + id, other).status());
    assertEquals(404, http.delete("/v1/trainings/" + id, other).status());

    JsonNode done = awaitTraining(http, id, owner.key(), Duration.ofMinutes(4));
    assertEquals("succeeded", done.get("status").asText(), done.toString());
    int epochs = done.get("progress").get("epoch").asInt();
    assertTrue(epochs >= 1 && epochs <= 8, done.toString());
    assertEquals(epochs, done.get("history").size(), "one report per committed epoch");
    JsonNode report = done.get("report");
    assertEquals(ShapeSets.CLASSES, Http.texts(report.get("classes")));
    int trainImages = done.get("trainImages").asInt();
    assertEquals(30, trainImages + report.get("validationImages").asInt());
    assertEquals(3, report.get("confusion").size());

    // the model answers held-out images it never saw, far above chance (1 in 3)
    Random heldOut = new Random(99);
    int right = 0;
    int total = 0;
    for (String label : ShapeSets.CLASSES) {
      for (int i = 0; i < 5; i++) {
        Http.Reply r =
            http.submit(
                "model=" + model.replace("/", "%2F"),
                owner.key(),
                "image/png",
                ShapeSets.image(label, heldOut, 96),
                "Prefer",
                "wait=60");
        assertEquals(200, r.status(), r.toString());
        JsonNode answer =
            io.retina.platform.store.Json.MAPPER.readTree(
                http.get("/v1/jobs/" + r.json().get("id").asText() + "/result", owner.key())
                    .body());
        right += answer.get("label").asText().equals(label) ? 1 : 0;
        total++;
      }
    }
    assertTrue(right >= 12, right + " of " + total + " held-out images classified right");

    // the owner lists it; another tenant neither lists nor runs it, pinned or not
    String name = model.substring(0, model.indexOf('@'));
    assertTrue(http.get("/v1/models", owner.key()).json().toString().contains(name));
    assertFalse(http.get("/v1/models", other).json().toString().contains(name));
    for (String ref : new String[] {name, model}) {
      Http.Reply refused =
          http.submit(
              "model=" + ref.replace("/", "%2F"),
              other,
              "image/png",
              ShapeSets.image("discs", heldOut, 96));
      JobContractTest.assertProblem(refused, 404, "model-not-found");
    }

    // billed once per committed epoch: training images x the plan's price per image-epoch
    JsonNode usage = http.get("/v1/usage", owner.key()).json();
    JsonNode line = null;
    for (JsonNode l : usage.get("byModel")) {
      if (l.get("model").asText().equals("training:" + model)) {
        line = l;
      }
    }
    assertNotNull(line, usage.toString());
    assertEquals((long) epochs * trainImages, line.get("imageEpochs").asLong(), line.toString());
    assertEquals((long) epochs * trainImages * 100, line.get("amountMicros").asLong());
    assertEquals(0, line.get("jobs").asLong());
  }

  @Test
  void trainsADenoiserFromPhotosThatCleansNoisyPhotosAsAPrivateVersion() throws Exception {
    String key = http.newTenantKey(Http.uniqueName("denoiser"));
    Map<String, byte[]> photos = new LinkedHashMap<>();
    for (int i = 1; i <= 5; i++) {
      photos.put("photo" + i + ".jpg", JobContractTest.shrink(Photos.peopleJpeg(i), 160));
    }
    Http.Reply started =
        startTraining(
            http, key, "name=clean&task=denoise&epochs=4&noise=25", ShapeSets.zipOf(photos));
    assertEquals(202, started.status(), started.toString());
    String id = started.json().get("id").asText();
    JsonNode done = awaitTraining(http, id, key, Duration.ofMinutes(4));
    assertEquals("succeeded", done.get("status").asText(), done.toString());
    JsonNode report = done.get("report");
    assertTrue(
        report.get("gainDb").asDouble() > 1.0,
        "held-out PSNR gain in dB, noisy to denoised: " + report);
    assertTrue(done.at("/progress/validationPsnr").isNumber(), done.toString());

    // the private version answers a noisy photo with a photo of the same size
    String model = done.get("model").asText();
    java.awt.image.BufferedImage clean =
        Photos.decode(JobContractTest.shrink(Photos.peopleJpeg(6), 96));
    Random noise = new Random(3);
    java.awt.image.BufferedImage noisy =
        new java.awt.image.BufferedImage(
            clean.getWidth(), clean.getHeight(), java.awt.image.BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < clean.getHeight(); y++) {
      for (int x = 0; x < clean.getWidth(); x++) {
        int rgb = clean.getRGB(x, y);
        int out = 0;
        for (int shift = 16; shift >= 0; shift -= 8) {
          int v = (int) Math.round(((rgb >> shift) & 0xff) + noise.nextGaussian() * 25);
          out = (out << 8) | Math.max(0, Math.min(255, v));
        }
        noisy.setRGB(x, y, out);
      }
    }
    Http.Reply r =
        http.submit("model=" + model, key, "image/png", Photos.png(noisy), "Prefer", "wait=60");
    assertEquals(200, r.status(), r.toString());
    java.awt.image.BufferedImage denoised =
        Photos.decode(http.get("/v1/jobs/" + r.json().get("id").asText() + "/result", key).body());
    assertEquals(clean.getWidth(), denoised.getWidth());
    assertEquals(clean.getHeight(), denoised.getHeight());
    JsonNode usage = http.get("/v1/usage", key).json();
    assertEquals(
        (long) done.at("/progress/epoch").asInt() * done.get("trainImages").asInt(),
        usage.at("/total/imageEpochs").asLong(),
        usage.toString());
  }

  @Test
  void refusesDatasetsThatCannotMakeAClassifierAndStoresNothing() {
    String key = http.newTenantKey(Http.uniqueName("refused"));
    Random r = new Random(5);
    Map<String, byte[]> oneClass = new LinkedHashMap<>();
    oneClass.put("discs/1.png", ShapeSets.image("discs", r, 64));
    oneClass.put("discs/2.png", ShapeSets.image("discs", r, 64));
    JobContractTest.assertProblem(
        startTraining(http, key, "name=one", ShapeSets.zipOf(oneClass)), 422, "invalid-dataset");

    Map<String, byte[]> lonely = new LinkedHashMap<>(oneClass);
    lonely.put("stripes/1.png", ShapeSets.image("stripes", r, 64));
    JobContractTest.assertProblem(
        startTraining(http, key, "name=lonely", ShapeSets.zipOf(lonely)), 422, "invalid-dataset");

    Map<String, byte[]> notImage = new LinkedHashMap<>(oneClass);
    notImage.put("stripes/1.png", "not a png".getBytes());
    notImage.put("stripes/2.png", ShapeSets.image("stripes", r, 64));
    JobContractTest.assertProblem(
        startTraining(http, key, "name=garbage", ShapeSets.zipOf(notImage)),
        422,
        "invalid-dataset");

    Map<String, byte[]> escapes = new LinkedHashMap<>(oneClass);
    escapes.put("../stripes/1.png", ShapeSets.image("stripes", r, 64));
    JobContractTest.assertProblem(
        startTraining(http, key, "name=escape", ShapeSets.zipOf(escapes)), 422, "invalid-dataset");

    JobContractTest.assertProblem(
        startTraining(http, key, "name=notzip", "plain bytes".getBytes()), 422, "invalid-dataset");
    JobContractTest.assertProblem(
        startTraining(http, key, "name=Bad_Name", ShapeSets.zip(2, 1)), 422, "invalid-field");
    JobContractTest.assertProblem(
        startTraining(http, key, "name=ok&epochs=100000", ShapeSets.zip(2, 1)),
        422,
        "invalid-field");
    JobContractTest.assertProblem(
        startTraining(http, key, "name=ok&colour=blue", ShapeSets.zip(2, 1)), 422, "invalid-field");
    assertEquals(0, http.get("/v1/trainings", key).json().get("trainings").size());
  }

  @Test
  void aCanceledTrainingStopsAndMakesNoModel() throws Exception {
    String key = http.newTenantKey(Http.uniqueName("cancel"));
    Http.Reply started =
        startTraining(http, key, "name=stopped&epochs=50&patience=50", ShapeSets.zip(6, 3));
    assertEquals(202, started.status(), started.toString());
    String id = started.json().get("id").asText();
    JobContractTest.assertProblem(
        startTraining(http, key, "name=second", ShapeSets.zip(2, 1)), 409, "too-many-trainings");
    Http.Reply canceled = http.delete("/v1/trainings/" + id, key);
    assertEquals(200, canceled.status(), canceled.toString());
    assertEquals("canceled", canceled.json().get("status").asText());
    JsonNode after = awaitTraining(http, id, key, Duration.ofSeconds(30));
    assertEquals("canceled", after.get("status").asText());
    String model = started.json().get("model").asText();
    assertFalse(http.get("/v1/models", key).json().toString().contains(model.split("@")[0]));
  }
}
