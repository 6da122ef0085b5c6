package io.retina.platform.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.retina.platform.store.Database;
import io.retina.platform.store.TestDatabases;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Worker nodes' heartbeats, against a real PostgreSQL. */
class WorkerNodesTest {
  static Database db;
  static WorkerNodes nodes;

  @BeforeAll
  static void open() {
    db = TestDatabases.fresh();
    nodes = new WorkerNodes(db.tx());
  }

  @AfterAll
  static void close() {
    db.close();
  }

  static WorkerNodes.Beat beat(String node, Instant at, WorkerNodes.Resident... resident) {
    return new WorkerNodes.Beat(
        node,
        List.of("worker"),
        "cpu",
        "CPU, 2 cores",
        1_000_000_000L,
        List.of(resident),
        Duration.ofSeconds(10),
        at);
  }

  static WorkerNodes.Beat of(String node) {
    return nodes.all().stream().filter(b -> b.node().equals(node)).findFirst().orElseThrow();
  }

  @Test
  void aNewerBeatReplacesTheNodesLastOne() {
    Instant t = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    nodes.beat(beat("pekko://retina@10.0.0.1:25520", t));
    var sr = new WorkerNodes.Resident("super-resolution@1", 4_800_000, true);
    nodes.beat(beat("pekko://retina@10.0.0.1:25520", t.plusSeconds(10), sr));

    WorkerNodes.Beat last = of("pekko://retina@10.0.0.1:25520");
    assertEquals(List.of(sr), last.resident());
    assertEquals(t.plusSeconds(10), last.at());
    assertEquals(List.of("worker"), last.roles());
    assertEquals(Duration.ofSeconds(10), last.every());
  }

  @Test
  void anOlderBeatWrittenLateIsIgnored() {
    Instant t = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    var sr = new WorkerNodes.Resident("super-resolution@1", 4_800_000, false);
    nodes.beat(beat("pekko://retina@10.0.0.2:25520", t, sr));
    nodes.beat(beat("pekko://retina@10.0.0.2:25520", t.minusSeconds(5)));
    assertEquals(List.of(sr), of("pekko://retina@10.0.0.2:25520").resident());
  }

  @Test
  void aBeatIsLateAfterThreeMissedIntervals() {
    Instant t = Instant.parse("2026-03-02T12:00:00Z");
    WorkerNodes.Beat b = beat("n", t);
    assertFalse(b.late(t.plusSeconds(30)));
    assertTrue(b.late(t.plusSeconds(31)));
  }
}
