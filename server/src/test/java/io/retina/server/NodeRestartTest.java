package io.retina.server;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The README's node as a process: embedded PostgreSQL under its data directory, SIGTERM, and a
 * restart that finds every tenant, key and job where it left them.
 */
class NodeRestartTest {
  static final Duration START = Duration.ofSeconds(120);

  @Test
  void stopsOnSigtermAndRestartsWithItsDataAndQueuedJobs() throws Exception {
    Path dataDir = Files.createTempDirectory("retina-restart");
    Map<String, String> env =
        Map.of(
            "RETINA_DATA_DIR", dataDir.toString(),
            "RETINA_ADMIN_TOKEN", TestNode.ADMIN_TOKEN,
            "RETINA_CLUSTER_PORT", Integer.toString(NodeProcess.freePort()));
    String key;
    String finishedId;
    String queuedId;
    try (NodeProcess first = NodeProcess.start(env, NodeProcess.freePort())) {
      first.awaitReady(START);
      assertTrue(first.log().contains("Demo tenant"), "first start creates the demo tenant");
      Http http = new Http(first.base);
      key = http.newTenantKey("restart");
      Http.Reply done =
          http.submit(
              "model=super-resolution", key, "image/png", Photos.flowerPng(), "Prefer", "wait=60");
      assertEquals(200, done.status(), done.toString());
      finishedId = done.json().get("id").asText();
      Http.Reply accepted =
          http.submit(
              "model=super-resolution&scale=4",
              key,
              "image/png",
              JobContractTest.shrink(Photos.peopleJpeg(4), 400));
      assertEquals(202, accepted.status(), accepted.toString());
      queuedId = accepted.json().get("id").asText();

      assertFalse(first.log().contains(key), "the log never shows a tenant's API key");
      int exit = first.terminate(Duration.ofSeconds(60));
      assertTrue(exit == 0 || exit == 143, "orderly exit, got " + exit + ":\n" + first.log());
      assertFalse(first.log().contains("ERROR"), first.log());
    }

    try (NodeProcess second = NodeProcess.start(env, NodeProcess.freePort())) {
      second.awaitReady(START);
      assertFalse(second.log().contains("Demo tenant"), "the demo tenant is made once");
      Http http = new Http(second.base);
      Http.Reply result = http.get("/v1/jobs/" + finishedId + "/result", key);
      assertEquals(200, result.status(), "the key and the finished job survived the restart");
      assertEquals(256, Photos.decode(result.body()).getWidth());
      JsonNode queued = JobContractTest.awaitFinal(http, queuedId, key);
      assertEquals("succeeded", queued.get("status").asText(), queued.toString());
      second.terminate(Duration.ofSeconds(60));
    }
  }

  @Test
  void comesBackOnItsDataAfterSigkillAndFinishesEveryJobOnce() throws Exception {
    Path dataDir = Files.createTempDirectory("retina-sigkill");
    Map<String, String> env =
        Map.of(
            "RETINA_DATA_DIR", dataDir.toString(),
            "RETINA_ADMIN_TOKEN", TestNode.ADMIN_TOKEN,
            "RETINA_CLUSTER_PORT", Integer.toString(NodeProcess.freePort()));
    byte[] photo = JobContractTest.shrink(Photos.flowerPng(), 64);
    String key;
    List<String> ids = new ArrayList<>();
    try (NodeProcess first = NodeProcess.start(env, NodeProcess.freePort())) {
      first.awaitReady(START);
      Http http = new Http(first.base);
      key = http.newTenantKey("sigkill");
      for (int i = 0; i < 6; i++) {
        Http.Reply accepted = http.submit("model=super-resolution", key, "image/png", photo);
        assertEquals(202, accepted.status(), accepted.toString());
        ids.add(accepted.json().get("id").asText());
      }
      first.kill(); // mid-load, as the OOM killer would: no hook runs, the store isn't closed
    }

    // no hand work: the same command on the same data directory
    try (NodeProcess second = NodeProcess.start(env, NodeProcess.freePort())) {
      second.awaitReady(Duration.ofSeconds(60));
      Http http = new Http(second.base);
      for (String id : ids) {
        JsonNode job = JobContractTest.awaitFinal(http, id, key);
        assertEquals("succeeded", job.get("status").asText(), job.toString());
      }
      JsonNode usage = http.get("/v1/usage", key).json();
      assertEquals(ids.size(), usage.at("/total/jobs").asInt(), "billed once each: " + usage);
      second.terminate(Duration.ofSeconds(60));
    }
  }

  @Test
  void aTrainingKilledMidwayResumesFromItsLastEpochAndBillsEachEpochOnce() throws Exception {
    Path dataDir = Files.createTempDirectory("retina-training-kill");
    Map<String, String> env =
        Map.of(
            "RETINA_DATA_DIR",
            dataDir.toString(),
            "RETINA_ADMIN_TOKEN",
            TestNode.ADMIN_TOKEN,
            "RETINA_CLUSTER_PORT",
            Integer.toString(NodeProcess.freePort()),
            "RETINA_TRAINING_LEASE",
            "6s");
    String key;
    String id;
    int killedAfter;
    try (NodeProcess first = NodeProcess.start(env, NodeProcess.freePort())) {
      first.awaitReady(START);
      Http http = new Http(first.base);
      key = http.newTenantKey("kill-training");
      Http.Reply started =
          http.send(
              http.to("/v1/trainings?name=shapes&epochs=30&patience=30")
                  .header("Authorization", "Bearer " + key)
                  .header("Content-Type", "application/zip")
                  .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(ShapeSets.zip(8, 7))));
      assertEquals(202, started.status(), started.toString());
      id = started.json().get("id").asText();
      java.time.Instant deadline = java.time.Instant.now().plusSeconds(180);
      JsonNode t;
      do {
        Thread.sleep(100);
        t = http.get("/v1/trainings/" + id, key).json();
      } while (t.at("/progress/epoch").asInt() < 2 && java.time.Instant.now().isBefore(deadline));
      assertEquals("running", t.get("status").asText(), t.toString());
      killedAfter = t.at("/progress/epoch").asInt();
      first.kill(); // mid-epoch: no hook runs, the lease is left to run out
    }

    try (NodeProcess second = NodeProcess.start(env, NodeProcess.freePort())) {
      second.awaitReady(START);
      Http http = new Http(second.base);
      JsonNode done = TrainingApiTest.awaitTraining(http, id, key, Duration.ofMinutes(4));
      assertEquals("succeeded", done.get("status").asText(), done.toString());
      assertEquals(2, done.get("attempts").asInt(), "one more attempt, on the restarted node");
      int epochs = done.at("/progress/epoch").asInt();
      List<Integer> seen = new ArrayList<>();
      done.get("history").forEach(e -> seen.add(e.get("epoch").asInt()));
      assertEquals(
          java.util.stream.IntStream.rangeClosed(1, epochs).boxed().toList(),
          seen,
          "every epoch once, in order");
      String log = second.log();
      java.util.regex.Matcher resumed =
          java.util.regex.Pattern.compile("resuming after epoch (\\d+)").matcher(log);
      assertTrue(resumed.find(), log);
      assertTrue(
          Integer.parseInt(resumed.group(1)) >= killedAfter,
          "resumed from the checkpoint, not from scratch: " + resumed.group());
      JsonNode usage = http.get("/v1/usage", key).json();
      int trainImages = done.get("trainImages").asInt();
      assertEquals(
          (long) epochs * trainImages,
          usage.at("/total/imageEpochs").asLong(),
          "each epoch billed once: " + usage);
      second.terminate(Duration.ofSeconds(60));
    }
  }
}
