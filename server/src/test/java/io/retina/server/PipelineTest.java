package io.retina.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.awt.image.BufferedImage;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A replica with a pipeline ({@code retina.workers.pipeline}) holds jobs beyond its model runs: it
 * claims and decodes the next job while the model runs another, the model runs one job at a time as
 * configured, and the results are those each job gets alone. The node here makes one model run at a
 * time and holds two more jobs.
 */
class PipelineTest {
  static TestNode node;
  static Http http;
  static byte[] tinyPng;

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start(Map.of("retina.workers.parallelism", 1, "retina.workers.pipeline", 2));
    http = new Http(node.base);
    BufferedImage small = Photos.decode(Photos.flowerPng()).getSubimage(0, 0, 32, 32);
    tinyPng = Photos.png(small);
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
  }

  @Test
  void theNextJobIsTakenWhileALongOneRunsAndFinishesBetweenItsTiles() throws Exception {
    String owner = http.newTenantKey(Http.uniqueName("long"));
    String other = http.newTenantKey(Http.uniqueName("other"));
    warmUp(other);
    // x8 in 84-pixel tiles: a dozen model runs of about a second each on a CPU
    BufferedImage photo = Photos.decode(JobContractTest.shrink(Photos.peopleJpeg(1), 300));
    byte[] png = Photos.png(photo.getSubimage(0, 0, 300, 200));
    String longId = submit(owner, png, "model=super-resolution&scale=8");
    awaitStatus(longId, owner, "running");

    String tinyId = submit(other, tinyPng, "model=super-resolution");
    JsonNode tiny = JobContractTest.awaitFinal(http, tinyId, other);
    assertEquals("succeeded", tiny.get("status").asText(), tiny.toString());
    // one model run at a time, taken in turn: the tiny job ran between two of the long one's
    // tiles instead of after all of them (without a pipeline it would wait in the queue)
    JsonNode longNow = job(longId, owner);
    assertEquals("running", longNow.get("status").asText(), longNow.toString());

    JsonNode canceled = http.delete("/v1/jobs/" + longId, owner).json();
    assertEquals("canceled", canceled.get("status").asText(), canceled.toString());
    // the canceled job's slot is given back: the node still runs jobs
    JsonNode after = waited(other, tinyPng);
    assertEquals("succeeded", after.get("status").asText(), after.toString());
  }

  @Test
  void jobsSubmittedTogetherEachSucceedOnceWithTheResultTheyGetAlone() throws Exception {
    String first = http.newTenantKey(Http.uniqueName("together-a"));
    String second = http.newTenantKey(Http.uniqueName("together-b"));
    byte[] alone = result(waited(first, tinyPng), first);

    List<String> keys = new ArrayList<>();
    List<CompletableFuture<JsonNode>> together = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      String key = i % 2 == 0 ? first : second;
      keys.add(key);
      together.add(CompletableFuture.supplyAsync(() -> waited(key, tinyPng)));
    }
    for (int i = 0; i < together.size(); i++) {
      JsonNode job = together.get(i).get();
      assertEquals("succeeded", job.get("status").asText(), job.toString());
      assertEquals(1, job.get("attempts").asInt(), job.toString());
      assertArrayEquals(alone, result(job, keys.get(i)), "the same input gives the same bytes");
    }
    assertEquals(5, succeeded(first), "the job alone and four together, each once");
    assertEquals(4, succeeded(second));
  }

  private static void warmUp(String key) {
    JsonNode job = waited(key, tinyPng);
    assertEquals("succeeded", job.get("status").asText(), job.toString());
  }

  private static JsonNode waited(String key, byte[] png) {
    Http.Reply r =
        http.submit("model=super-resolution", key, "image/png", png, "Prefer", "wait=60");
    assertEquals(200, r.status(), r.toString());
    return r.json();
  }

  private static byte[] result(JsonNode job, String key) {
    Http.Reply r = http.get("/v1/jobs/" + job.get("id").asText() + "/result", key);
    assertEquals(200, r.status(), r.toString());
    return r.body();
  }

  private static long succeeded(String key) {
    JsonNode jobs = http.get("/v1/jobs?status=succeeded", key).json().get("jobs");
    return jobs.size();
  }

  private static String submit(String key, byte[] png, String query) {
    Http.Reply r = http.submit(query, key, "image/png", png);
    assertEquals(202, r.status(), r.toString());
    return r.json().get("id").asText();
  }

  private static JsonNode job(String id, String key) {
    return http.get("/v1/jobs/" + id, key).json();
  }

  private static void awaitStatus(String id, String key, String wanted) throws Exception {
    Instant giveUp = Instant.now().plusSeconds(60);
    while (Instant.now().isBefore(giveUp)) {
      String now = job(id, key).get("status").asText();
      if (now.equals(wanted)) {
        return;
      }
      assertTrue(List.of("queued", "running").contains(now), "job " + id + " ended " + now);
      Thread.sleep(50);
    }
    throw new AssertionError("job " + id + " never became " + wanted);
  }
}
