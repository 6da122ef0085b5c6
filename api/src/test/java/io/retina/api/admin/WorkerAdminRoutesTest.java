package io.retina.api.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.retina.platform.cluster.Membership;
import io.retina.platform.cluster.WorkerNodes;
import io.retina.platform.models.ModelLoads;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** How {@code GET /admin/workers} combines the membership, the heartbeats and the loads. */
class WorkerAdminRoutesTest {
  static final String A = "pekko://retina@10.0.0.1:25520";
  static final String B = "pekko://retina@10.0.0.2:25520";
  static final String GONE = "pekko://retina@10.0.0.9:25520";
  static final Instant NOW = Instant.parse("2026-03-02T12:00:00Z");

  static WorkerNodes.Beat beat(String node, Instant at) {
    return new WorkerNodes.Beat(
        node,
        List.of("worker"),
        "gpu",
        "GPU:0",
        1_000_000_000L,
        List.of(new WorkerNodes.Resident("super-resolution@1", 4_800_000, false)),
        Duration.ofSeconds(10),
        at);
  }

  static final Membership CLUSTER =
      new Membership(
          A,
          A,
          List.of(
              new Membership.Node(A, List.of("api", "worker"), "up", true),
              new Membership.Node(B, List.of("worker"), "up", false)));

  @SuppressWarnings("unchecked")
  static List<Map<String, Object>> list(Map<String, Object> view, String key) {
    return (List<Map<String, Object>>) view.get(key);
  }

  @Test
  void aNodeThatLeftIsHistoryAndHoldsNothing() {
    var view =
        WorkerAdminRoutes.view(
            CLUSTER,
            List.of(beat(A, NOW.minusSeconds(5)), beat(GONE, NOW.minusSeconds(3600))),
            List.of(
                new ModelLoads.Load(
                    "super-resolution", 1, GONE, false, "out of memory", List.of(), NOW)),
            NOW);

    List<Map<String, Object>> nodes = list(view, "nodes");
    assertEquals(List.of(A, B), nodes.stream().map(n -> n.get("address")).toList());
    assertEquals(true, nodes.get(0).get("leader"));
    assertEquals(1, ((List<?>) nodes.get(0).get("resident")).size());
    assertEquals(false, nodes.get(1).get("reachable"));
    assertEquals(null, nodes.get(1).get("device"), "B has not beaten yet");

    List<Map<String, Object>> former = list(view, "formerNodes");
    assertEquals(1, former.size());
    assertEquals("gone", former.get(0).get("status"));
    assertEquals(List.of(), former.get(0).get("resident"));

    List<Map<String, Object>> failures = list(view, "recentFailures");
    assertEquals("out of memory", failures.get(0).get("detail"));
    assertEquals(false, failures.get(0).get("member"));
  }

  @Test
  void aHeartbeatOlderThanThreeIntervalsIsLate() {
    var view =
        WorkerAdminRoutes.view(CLUSTER, List.of(beat(A, NOW.minusSeconds(31))), List.of(), NOW);
    Map<?, ?> heartbeat = (Map<?, ?>) list(view, "nodes").get(0).get("heartbeat");
    assertEquals(true, heartbeat.get("late"));
  }
}
