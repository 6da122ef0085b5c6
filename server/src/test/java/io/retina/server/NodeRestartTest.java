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

  /**
   * A SIGKILL mid-load, as the OOM killer would send it: six jobs and a training in flight. The
   * same command on the same data directory finishes every job once and resumes the training from
   * its last committed epoch (not from scratch), each epoch billed once.
   */
  @Test
  void comesBackOnItsDataAfterSigkillFinishingEveryJobOnceAndResumingATraining() throws Exception {
    Path dataDir = Files.createTempDirectory("retina-sigkill");
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
    byte[] photo = JobContractTest.shrink(Photos.flowerPng(), 64);
    String key;
    String training;
    int killedAfter;
    List<String> ids = new ArrayList<>();
    try (NodeProcess first = NodeProcess.start(env, NodeProcess.freePort())) {
      first.awaitReady(START);
      Http http = new Http(first.base);
      key = http.newTenantKey("sigkill");
      Http.Reply started =
          TrainingApiTest.startTraining(
              http, key, "name=shapes&epochs=30&patience=30", ShapeSets.zip(8, 7));
      assertEquals(202, started.status(), started.toString());
      training = started.json().get("id").asText();
      for (int i = 0; i < 6; i++) {
        Http.Reply accepted = http.submit("model=super-resolution", key, "image/png", photo);
        assertEquals(202, accepted.status(), accepted.toString());
        ids.add(accepted.json().get("id").asText());
      }
      java.time.Instant deadline = java.time.Instant.now().plusSeconds(180);
      JsonNode t;
      do {
        Thread.sleep(100);
        t = http.get("/v1/trainings/" + training, key).json();
      } while (t.at("/progress/epoch").asInt() < 2 && java.time.Instant.now().isBefore(deadline));
      assertEquals("running", t.get("status").asText(), t.toString());
      killedAfter = t.at("/progress/epoch").asInt();
      first.kill(); // no hook runs, the store isn't closed, the training's lease is left to run out
    }

    // no hand work: the same command on the same data directory
    try (NodeProcess second = NodeProcess.start(env, NodeProcess.freePort())) {
      second.awaitReady(Duration.ofSeconds(60));
      Http http = new Http(second.base);
      for (String id : ids) {
        JsonNode job = JobContractTest.awaitFinal(http, id, key);
        assertEquals("succeeded", job.get("status").asText(), job.toString());
      }
      JsonNode done = TrainingApiTest.awaitTraining(http, training, key, Duration.ofMinutes(4));
      assertEquals("succeeded", done.get("status").asText(), done.toString());
      assertEquals(2, done.get("attempts").asInt(), "one more attempt, on the restarted node");
      int epochs = done.at("/progress/epoch").asInt();
      List<Integer> seen = new ArrayList<>();
      done.get("history").forEach(e -> seen.add(e.get("epoch").asInt()));
      assertEquals(
          java.util.stream.IntStream.rangeClosed(1, epochs).boxed().toList(),
          seen,
          "every epoch once, in order");
      java.util.regex.Matcher resumed =
          java.util.regex.Pattern.compile("resuming after epoch (\\d+)").matcher(second.log());
      assertTrue(resumed.find(), second.log());
      assertTrue(
          Integer.parseInt(resumed.group(1)) >= killedAfter,
          "resumed from the checkpoint, not from scratch: " + resumed.group());
      JsonNode usage = http.get("/v1/usage", key).json();
      assertEquals(ids.size(), usage.at("/total/jobs").asInt(), "billed once each: " + usage);
      assertEquals(
          (long) epochs * done.get("trainImages").asInt(),
          usage.at("/total/imageEpochs").asLong(),
          "each epoch billed once: " + usage);
      second.terminate(Duration.ofSeconds(60));
    }
  }
}
