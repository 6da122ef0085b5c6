package io.retina.workers.runners;

import static org.junit.jupiter.api.Assertions.*;

import io.retina.platform.cluster.WorkerNodes;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Set;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class ResidencyTest {
  static final ActorTestKit testKit = ActorTestKit.create();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  /** A clock the test moves by hand, so "least recently used" is decided by the test alone. */
  static final class ManualClock extends Clock {
    long millis;

    @Override
    public long millis() {
      return millis;
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(millis);
    }

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }
  }

  @Test
  void overBudgetEvictsTheLeastRecentlyUsedUnpinnedVersion() {
    ManualClock clock = new ManualClock();
    var residency = testKit.spawn(Residency.create(100, Set.of("pinned@1"), clock));
    TestProbe<Residency.Evict> pinned = testKit.createTestProbe();
    TestProbe<Residency.Evict> old = testKit.createTestProbe();
    TestProbe<Residency.Evict> recent = testKit.createTestProbe();
    TestProbe<Residency.Evict> fresh = testKit.createTestProbe();

    residency.tell(new Residency.Loaded("pinned@1", 30, pinned.getRef()));
    clock.millis = 10;
    residency.tell(new Residency.Loaded("old@1", 30, old.getRef()));
    clock.millis = 20;
    residency.tell(new Residency.Loaded("recent@1", 30, recent.getRef()));
    clock.millis = 30;
    residency.tell(new Residency.Used("old@1"));
    clock.millis = 40;
    residency.tell(new Residency.Loaded("fresh@1", 30, fresh.getRef()));

    recent.expectMessageClass(Residency.Evict.class);
    old.expectNoMessage(Duration.ofMillis(200));
    pinned.expectNoMessage(Duration.ZERO);
    fresh.expectNoMessage(Duration.ZERO);
  }

  @Test
  void withinBudgetNothingIsEvicted() {
    var residency = testKit.spawn(Residency.create(100, Set.of(), Clock.systemUTC()));
    TestProbe<Residency.Evict> a = testKit.createTestProbe();
    TestProbe<Residency.Evict> b = testKit.createTestProbe();
    residency.tell(new Residency.Loaded("a@1", 50, a.getRef()));
    residency.tell(new Residency.Loaded("b@1", 50, b.getRef()));
    a.expectNoMessage(Duration.ofMillis(200));
    b.expectNoMessage(Duration.ZERO);
    residency.tell(new Residency.Unloaded("a@1"));
    TestProbe<Residency.Evict> c = testKit.createTestProbe();
    residency.tell(new Residency.Loaded("c@1", 50, c.getRef()));
    b.expectNoMessage(Duration.ofMillis(200));
  }

  @Test
  void publishesWhatTheNodeHoldsAtEveryLoadAndUnload() {
    TestProbe<List<WorkerNodes.Resident>> published = testKit.createTestProbe();
    var residency =
        testKit.spawn(
            Residency.create(
                100,
                Set.of("a@1"),
                Clock.systemUTC(),
                new Residency.Heartbeat(Duration.ofHours(1), published.getRef()::tell)));
    assertEquals(List.of(), published.receiveMessage());
    TestProbe<Residency.Evict> runner = testKit.createTestProbe();
    residency.tell(new Residency.Loaded("b@1", 20, runner.getRef()));
    assertEquals(List.of(new WorkerNodes.Resident("b@1", 20, false)), published.receiveMessage());
    residency.tell(new Residency.Loaded("a@1", 30, runner.getRef()));
    assertEquals(
        List.of(
            new WorkerNodes.Resident("a@1", 30, true), new WorkerNodes.Resident("b@1", 20, false)),
        published.receiveMessage());
    residency.tell(new Residency.Unloaded("b@1"));
    assertEquals(List.of(new WorkerNodes.Resident("a@1", 30, true)), published.receiveMessage());
  }
}
