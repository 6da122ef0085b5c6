package io.retina.server;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import io.retina.platform.store.TestDatabases;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Several real node processes on loopback forming one cluster over one PostgreSQL: an api node and
 * worker nodes. Workers are killed (SIGKILL) or stopped (SIGTERM) in the middle of the load; every
 * job must still succeed exactly once, with exactly one ledger row, and none may be left behind.
 */
class ClusterTest {
  static final Duration START = Duration.ofSeconds(120);

  /**
   * Short terms so recovery happens within the test: a dead worker's jobs are reclaimed after the
   * lease.
   */
  static final List<String> FAST_RECOVERY =
      List.of(
          "-Dretina.workers.lease=6s",
          "-Dretina.workers.sweeper.interval=1s",
          "-Dretina.workers.sweeper.unclaimed-after=3s",
          // these tests submit a few hundred jobs at once to have work in flight when a node dies;
          // the default 30 s bound on a version's queue would refuse most of them (ReplicasTest
          // checks the bound)
          "-Dretina.workers.scaling.max-wait=10m",
          "-Dpekko.cluster.split-brain-resolver.stable-after=5s");

  final List<NodeProcess> nodes = new ArrayList<>();
  String dbUrl;
  String seed;

  @AfterEach
  void stopAll() throws Exception {
    for (NodeProcess n : nodes) {
      n.close();
    }
  }

  NodeProcess start(String roles, int clusterPort) throws Exception {
    Map<String, String> env = new HashMap<>();
    env.put("RETINA_ROLES", roles);
    env.put("RETINA_DB_URL", dbUrl);
    env.put("RETINA_DB_USER", TestDatabases.USER);
    env.put("RETINA_DB_PASSWORD", TestDatabases.PASSWORD);
    env.put("RETINA_DATA_DIR", Files.createTempDirectory("retina-cluster").toString());
    env.put("RETINA_ADMIN_TOKEN", TestNode.ADMIN_TOKEN);
    env.put("RETINA_DEMO_TENANT", "false");
    env.put("RETINA_CLUSTER_PORT", Integer.toString(clusterPort));
    env.put("RETINA_SEED_NODES", seed);
    NodeProcess node = NodeProcess.start(env, NodeProcess.freePort(), FAST_RECOVERY);
    nodes.add(node);
    return node;
  }

  /** Starts an api node (the seed) and two workers, and waits until the api serves. */
  NodeProcess startCluster() throws Exception {
    dbUrl = TestDatabases.freshUrl();
    int apiPort = NodeProcess.freePort();
    seed = "pekko://retina@127.0.0.1:" + apiPort;
    NodeProcess api = start("api", apiPort);
    start("worker", NodeProcess.freePort());
    start("worker", NodeProcess.freePort());
    api.awaitReady(START);
    return api;
  }

  static String enterpriseTenant(Http http) {
    Http.Reply t =
        http.postJson(
            "/admin/tenants",
            TestNode.ADMIN_TOKEN,
            "{\"name\":\"" + Http.uniqueName("load") + "\",\"plan\":\"enterprise\"}");
    assertEquals(201, t.status(), t.toString());
    String id = t.json().get("id").asText();
    Http.Reply q =
        http.send(
            http.to("/admin/tenants/" + id + "/quota")
                .header("Authorization", "Bearer " + TestNode.ADMIN_TOKEN)
                .header("Content-Type", "application/json")
                .PUT(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"maxConcurrentJobs\":1000,\"burst\":1000}")));
    assertEquals(200, q.status(), q.toString());
    return http.postJson("/admin/tenants/" + id + "/keys", TestNode.ADMIN_TOKEN, "{\"name\":\"k\"}")
        .json()
        .get("secret")
        .asText();
  }

  /**
   * The worker process whose log shows it ran the super-resolution runner, waiting for one while a
   * replacement loads the model (jobs queued meanwhile wait for it).
   */
  NodeProcess runnerHost() throws Exception {
    long deadline = System.nanoTime() + START.toNanos();
    while (true) {
      for (NodeProcess n : nodes) {
        if (n.process.isAlive() && n.log().contains("super-resolution@1 loaded on")) {
          return n;
        }
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("no live worker has loaded super-resolution@1");
      }
      Thread.sleep(250);
    }
  }

  void assertAllSucceededOnceAndBilledOnce(Http http, String key, List<String> ids)
      throws Exception {
    for (String id : ids) {
      JsonNode job = JobContractTest.awaitFinal(http, id, key);
      assertEquals("succeeded", job.get("status").asText(), job.toString());
    }
    JsonNode usage = http.get("/v1/usage", key).json();
    assertEquals(ids.size(), usage.at("/total/jobs").asInt(), "one ledger row per job: " + usage);
  }

  @Test
  void killingAWorkerMidLoadLosesNoJobAndBillsNoneTwice() throws Exception {
    NodeProcess api = startCluster();
    Http http = new Http(api.base);
    String key = enterpriseTenant(http);
    byte[] png = Photos.flowerPng();
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 120; i++) {
      Http.Reply r = http.submit("model=super-resolution", key, "image/png", png);
      assertEquals(202, r.status(), r.toString());
      ids.add(r.json().get("id").asText());
      if (i == 40) {
        JobContractTest.awaitFinal(http, ids.get(0), key);
        runnerHost().kill();
      }
    }
    assertAllSucceededOnceAndBilledOnce(http, key, ids);
    int retried = 0;
    for (String id : ids) {
      retried += http.get("/v1/jobs/" + id, key).json().get("attempts").asInt() > 1 ? 1 : 0;
    }
    System.out.printf(
        "kill -9: %d jobs succeeded, %d of them on a second attempt%n", ids.size(), retried);
  }

  @Test
  void rollingSigtermOfWorkersUnderLoadFailsNoJob() throws Exception {
    NodeProcess api = startCluster();
    Http http = new Http(api.base);
    String key = enterpriseTenant(http);
    byte[] png = Photos.flowerPng();
    List<String> ids = new ArrayList<>();
    for (int round = 0; round < 2; round++) {
      for (int i = 0; i < 30; i++) {
        Http.Reply r = http.submit("model=super-resolution", key, "image/png", png);
        assertEquals(202, r.status(), r.toString());
        ids.add(r.json().get("id").asText());
      }
      NodeProcess host = runnerHost();
      NodeProcess replacement = start("worker", NodeProcess.freePort());
      int exit = host.terminate(Duration.ofSeconds(90));
      assertTrue(exit == 0 || exit == 143, "orderly exit, got " + exit);
      assertTrue(host.log().contains("super-resolution@1"), "the stopped node was running jobs");
      assertFalse(replacement.log().contains("Exception in thread"), replacement.log());
    }
    assertAllSucceededOnceAndBilledOnce(http, key, ids);
    // a worker-only node's jobs are counted where Prometheus can scrape them: on its own port
    NodeProcess worker = runnerHost();
    Http.Reply metrics = new Http(worker.base).send(new Http(worker.base).to("/metrics"));
    assertEquals(200, metrics.status(), metrics.toString());
    assertTrue(
        new String(metrics.body())
            .contains(
                "retina_jobs_finished_total{model=\"super-resolution@1\",status=\"succeeded\"}"),
        new String(metrics.body()));
    assertEquals(
        200, new Http(worker.base).send(new Http(worker.base).to("/health/ready")).status());
    assertEquals(404, new Http(worker.base).send(new Http(worker.base).to("/v1/models")).status());
  }

  @Test
  void killingOneOfAVersionsReplicasUnderLoadLosesNothingAndBillsNothingTwice() throws Exception {
    NodeProcess api = startCluster();
    Http http = new Http(api.base);
    String key = enterpriseTenant(http);
    // a replica on each worker before the load
    Http.Reply set =
        http.send(
            http.to("/admin/models/super-resolution/versions/1/scaling")
                .header("Authorization", "Bearer " + TestNode.ADMIN_TOKEN)
                .header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString("{\"minReplicas\":2,\"maxReplicas\":2}")));
    assertEquals(200, set.status(), set.toString());
    byte[] png = Photos.flowerPng();
    Http.Reply first = http.submit("model=super-resolution", key, "image/png", png);
    List<String> ids = new ArrayList<>(List.of(first.json().get("id").asText()));
    JobContractTest.awaitFinal(http, ids.get(0), key);
    List<NodeProcess> workers = nodes.subList(1, 3);
    long deadline = System.nanoTime() + START.toNanos();
    for (NodeProcess w : workers) {
      while (!w.log().contains("super-resolution@1 loaded on")) {
        assertTrue(System.nanoTime() < deadline, "a replica on each worker");
        Thread.sleep(250);
      }
    }
    for (int i = 0; i < 60; i++) {
      Http.Reply r = http.submit("model=super-resolution", key, "image/png", png);
      assertEquals(202, r.status(), r.toString());
      ids.add(r.json().get("id").asText());
      if (i == 20) {
        workers.get(1).kill();
      }
    }
    assertAllSucceededOnceAndBilledOnce(http, key, ids);
  }
}
