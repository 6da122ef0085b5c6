package io.retina.server;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * One version under load on a three-node cluster in this JVM: its replicas spread to every worker
 * and shrink back when it idles, each change is recorded with its reason, and nothing is lost or
 * billed twice on the way. The model is the {@link SleepModel} fixture, so the nodes' shared CPU is
 * not what limits them.
 */
class ReplicasTest {
  /** Quick terms, so that the cluster scales within the test. */
  static final Map<String, Object> QUICK =
      Map.of(
          "retina.workers.scaling.up-after", "1s",
          "retina.workers.scaling.idle-before-down", "4s",
          "retina.workers.scaling.cooldown", "1s");

  @Test
  void aBusyVersionSpreadsOverEveryWorkerThenShrinksWhenIdle() throws Exception {
    try (LocalCluster c = LocalCluster.start(QUICK)) {
      c.addWorker();
      c.addWorker();
      c.registerSleepModel("sleepy", 250);
      c.scaling("sleepy@1", "{\"minReplicas\":1,\"maxReplicas\":3,\"targetWaitSeconds\":1}");
      String key = c.unlimitedTenant();
      byte[] png = Photos.flowerPng();
      // 120 jobs of 250 ms, two at a time on a replica: 15 s on one node, 5 s on three
      List<String> ids = new ArrayList<>();
      for (int i = 0; i < 120; i++) {
        Http.Reply r = c.http.submit("model=sleepy", key, "image/png", png);
        assertEquals(202, r.status(), r.toString());
        ids.add(r.json().get("id").asText());
      }
      c.awaitReplicas("sleepy@1", 3, Duration.ofSeconds(30));
      assertEquals(3, Set.copyOf(c.nodesHolding("sleepy@1")).size(), "one replica on each node");
      for (String id : ids) {
        JsonNode job = JobContractTest.awaitFinal(c.http, id, key);
        assertEquals("succeeded", job.get("status").asText(), job.toString());
      }
      assertEquals(
          ids.size(),
          c.http.get("/v1/usage", key).json().at("/total/jobs").asInt(),
          "one ledger row per job");

      c.awaitReplicas("sleepy@1", 1, Duration.ofSeconds(40));
      JsonNode events =
          c.scaling("sleepy@1", "{\"minReplicas\":1,\"maxReplicas\":3}").get("events");
      Set<String> seen = new HashSet<>();
      for (JsonNode e : events) {
        String direction = e.get("direction").asText();
        seen.add(direction);
        if (direction.equals("up") && e.get("to").asInt() > 1) {
          assertTrue(e.get("reason").asText().contains("expected wait"), e.toString());
        }
        if (direction.equals("down")) {
          assertTrue(e.get("reason").asText().contains("idle"), e.toString());
        }
      }
      assertEquals(Set.of("up", "down"), seen, events.toString());
    }
  }

  @Test
  void submissionsPastTheVersionsBoundAreRefusedWithRetryAfterAndNeverBilled() throws Exception {
    try (LocalCluster c = LocalCluster.start(QUICK)) {
      c.registerSleepModel("slow", 500);
      // one replica, two jobs at a time: each job queued adds 0.25 s; the bound is 2 s
      c.scaling("slow@1", "{\"minReplicas\":1,\"maxReplicas\":1,\"maxWaitSeconds\":2}");
      String key = c.unlimitedTenant();
      byte[] png = Photos.flowerPng();
      Http.Reply warm = c.http.submit("model=slow", key, "image/png", png, "Prefer", "wait=30");
      assertEquals("succeeded", warm.json().get("status").asText(), warm.toString());
      Thread.sleep(1500); // the runner's next report carries the measured time per job

      List<String> accepted = new ArrayList<>(List.of(warm.json().get("id").asText()));
      int refused = 0;
      for (int i = 0; i < 40; i++) {
        Http.Reply r = c.http.submit("model=slow", key, "image/png", png);
        if (r.status() == 503) {
          JobContractTest.assertProblem(r, 503, "capacity-exhausted");
          assertTrue(Integer.parseInt(r.header("Retry-After")) >= 1, r.toString());
          refused++;
        } else {
          assertEquals(202, r.status(), r.toString());
          accepted.add(r.json().get("id").asText());
        }
      }
      assertTrue(refused >= 20, "most of a burst of 40 past a 2 s bound is refused: " + refused);
      assertTrue(accepted.size() >= 6, "the bound's worth is accepted: " + accepted.size());
      JsonNode models = c.http.get("/v1/models", key).json().get("models");
      double wait = 0;
      for (JsonNode m : models) {
        if (m.get("ref").asText().equals("slow@1")) {
          wait = m.get("expectedWaitSeconds").asDouble();
        }
      }
      assertTrue(wait > 0.5, "the tenant sees the wait: " + models);
      for (String id : accepted) {
        assertEquals(
            "succeeded", JobContractTest.awaitFinal(c.http, id, key).get("status").asText());
      }
      assertEquals(
          accepted.size(),
          c.http.get("/v1/usage", key).json().at("/total/jobs").asInt(),
          "only the accepted jobs are billed");
    }
  }
}
