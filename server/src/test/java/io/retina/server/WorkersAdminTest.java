package io.retina.server;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The worker cluster through {@code GET /admin/workers} on a real node with both roles: the node is
 * listed up, with its roles and device, the model it preloads is loaded before any job, and after a
 * job the version it ran is in its memory.
 */
class WorkersAdminTest {
  static TestNode node;
  static Http http;

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start(Map.of());
    http = new Http(node.base);
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
  }

  static JsonNode workers() {
    Http.Reply r = http.get("/admin/workers", TestNode.ADMIN_TOKEN);
    assertEquals(200, r.status(), r.toString());
    return r.json();
  }

  /** This node's entry, once its heartbeat satisfies {@code ready}. */
  static JsonNode self(java.util.function.Predicate<JsonNode> ready) throws InterruptedException {
    Instant deadline = Instant.now().plus(Duration.ofSeconds(30));
    JsonNode self = null;
    while (Instant.now().isBefore(deadline)) {
      JsonNode view = workers();
      for (JsonNode n : view.get("nodes")) {
        if (n.get("address").asText().equals(node.clusterAddress())) {
          self = n;
        }
      }
      if (self != null && ready.test(self)) {
        return self;
      }
      Thread.sleep(200);
    }
    throw new AssertionError("not so within 30 s: " + self);
  }

  /** How the node's last load of {@code version} ended, if it has loaded it. */
  static Optional<String> loadOutcome(JsonNode n, String version) {
    for (JsonNode l : n.get("loads")) {
      if (l.get("version").asText().equals(version)) {
        return Optional.of(l.get("outcome").asText());
      }
    }
    return Optional.empty();
  }

  static List<String> resident(JsonNode n) {
    List<String> versions = new ArrayList<>();
    n.get("resident").forEach(r -> versions.add(r.get("version").asText()));
    return versions;
  }

  @Test
  void listsTheNodeUpWithItsRolesAndDevice() throws InterruptedException {
    JsonNode self = self(n -> n.get("heartbeat").isObject());
    JsonNode view = workers();
    assertEquals(node.clusterAddress(), view.get("self").asText());
    assertEquals(node.clusterAddress(), view.get("leader").asText());
    assertEquals("up", self.get("status").asText());
    assertTrue(self.get("reachable").asBoolean());
    assertTrue(self.get("leader").asBoolean());
    assertTrue(self.get("member").asBoolean());
    assertEquals(List.of("api", "worker"), roles(self));
    assertEquals("cpu", self.at("/device/kind").asText(), self.toString());
    assertFalse(self.at("/heartbeat/late").asBoolean());
  }

  @Test
  void showsTheVersionAJobRanAsResidentOnTheNode() throws InterruptedException {
    String key = http.newTenantKey(Http.uniqueName("workers"));
    byte[] photo = JobContractTest.shrink(Photos.flowerPng(), 48);
    JsonNode job =
        http.submit("model=super-resolution", key, "image/png", photo, "Prefer", "wait=60").json();
    assertEquals("succeeded", job.get("status").asText(), job.toString());

    JsonNode self = self(n -> resident(n).contains("super-resolution@1"));
    for (JsonNode r : self.get("resident")) {
      if (r.get("version").asText().equals("super-resolution@1")) {
        assertTrue(r.get("bytes").asLong() > 0, r.toString());
      }
    }
    assertTrue(self.get("residentBytes").asLong() > 0);
    assertEquals(Optional.of("loaded"), loadOutcome(self, "super-resolution@1"), self.toString());
  }

  @Test
  void loadsThePreloadedModelBeforeAnyJobAsksForIt() throws InterruptedException {
    // retina.workers.preload names resize by default, and no test here submits a resize job
    JsonNode self = self(n -> loadOutcome(n, "resize@1").isPresent());
    assertEquals(Optional.of("loaded"), loadOutcome(self, "resize@1"), self.toString());
  }

  @Test
  void refusesWithoutTheAdminToken() {
    assertEquals(401, http.send(http.to("/admin/workers").GET()).status());
    assertEquals(401, http.get("/admin/workers", "not-the-admin-token").status());
  }

  static List<String> roles(JsonNode n) {
    List<String> roles = new ArrayList<>();
    n.get("roles").forEach(r -> roles.add(r.asText()));
    return roles;
  }
}
