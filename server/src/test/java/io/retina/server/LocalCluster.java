package io.retina.server;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Several real nodes in this JVM on loopback, one cluster over one store: the first plays both
 * roles and serves HTTP, the others are workers. With {@link SleepModel} the model costs no CPU, so
 * what several nodes add can be seen on one machine.
 */
final class LocalCluster implements AutoCloseable {
  final TestNode first;
  final List<TestNode> workers = new ArrayList<>();
  final Http http;
  private final Map<String, Object> overrides;

  private LocalCluster(TestNode first, Map<String, Object> overrides) {
    this.first = first;
    this.http = new Http(first.base);
    this.overrides = overrides;
  }

  /** Starts the api-and-worker node; {@code overrides} apply to every node started here. */
  static LocalCluster start(Map<String, Object> overrides) throws Exception {
    return new LocalCluster(TestNode.start(new HashMap<>(overrides)), overrides);
  }

  /** Starts one more worker node and waits until the cluster counts it as up. */
  TestNode addWorker() throws Exception {
    Map<String, Object> config = new HashMap<>(overrides);
    config.put("retina.store.url", first.storeUrl);
    config.put("retina.node.roles", "worker");
    config.put("retina.node.seed-nodes", first.clusterAddress());
    TestNode worker = TestNode.start(config);
    workers.add(worker);
    return worker;
  }

  /** Registers the sleep fixture as {@code name@1}, each job taking {@code millis}. */
  void registerSleepModel(String name, long millis) {
    SleepModel.register(first.storeUrl, name, millis);
  }

  /** Replaces a version's replica settings through the admin API. */
  JsonNode scaling(String ref, String json) {
    String[] parts = ref.split("@");
    Http.Reply r =
        http.send(
            http.to("/admin/models/" + parts[0] + "/versions/" + parts[1] + "/scaling")
                .header("Authorization", "Bearer " + TestNode.ADMIN_TOKEN)
                .header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(json)));
    if (r.status() != 200) {
      throw new AssertionError("scaling not set: " + r);
    }
    return r.json();
  }

  /** A tenant allowed to submit as fast as a load test does. */
  String unlimitedTenant() {
    Http.TenantKey t = http.newTenant(Http.uniqueName("load"));
    Http.Reply q =
        http.send(
            http.to("/admin/tenants/" + t.id() + "/quota")
                .header("Authorization", "Bearer " + TestNode.ADMIN_TOKEN)
                .header("Content-Type", "application/json")
                .PUT(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"ratePerSecond\":100000,\"burst\":100000,\"maxConcurrentJobs\":100000}")));
    if (q.status() != 200) {
      throw new AssertionError("quota not set: " + q);
    }
    return t.key();
  }

  /** The version's replica count as its runner last reported it; 0 if it has not reported. */
  int replicas(String ref) {
    JsonNode versions = http.get("/admin/workers", TestNode.ADMIN_TOKEN).json().get("versions");
    for (JsonNode v : versions) {
      if (v.get("version").asText().equals(ref)) {
        return v.get("replicas").asInt();
      }
    }
    return 0;
  }

  /** The nodes whose last heartbeat lists the version in memory. */
  List<String> nodesHolding(String ref) {
    List<String> nodes = new ArrayList<>();
    for (JsonNode n : http.get("/admin/workers", TestNode.ADMIN_TOKEN).json().get("nodes")) {
      for (JsonNode r : n.get("resident")) {
        if (r.get("version").asText().equals(ref)) {
          nodes.add(n.get("address").asText());
        }
      }
    }
    return nodes;
  }

  /** Waits until the version has {@code count} replicas; fails after {@code within}. */
  void awaitReplicas(String ref, int count, Duration within) throws InterruptedException {
    Instant deadline = Instant.now().plus(within);
    int seen = -1;
    while (Instant.now().isBefore(deadline)) {
      seen = replicas(ref);
      if (seen == count) {
        return;
      }
      Thread.sleep(250);
    }
    throw new AssertionError(
        ref + " has " + seen + " replicas, not " + count + ", after " + within);
  }

  @Override
  public void close() throws Exception {
    for (int i = workers.size() - 1; i >= 0; i--) {
      workers.get(i).close();
    }
    first.close();
  }
}
