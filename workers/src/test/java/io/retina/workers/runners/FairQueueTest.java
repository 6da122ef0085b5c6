package io.retina.workers.runners;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class FairQueueTest {
  static final UUID FLOODER = UUID.randomUUID();
  static final UUID LATECOMER = UUID.randomUUID();

  @Test
  void latecomerIsServedBetweenAFloodersJobs() {
    FairQueue q = new FairQueue();
    List<UUID> flood = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      UUID id = UUID.randomUUID();
      flood.add(id);
      q.add(id, FLOODER, 1);
    }
    List<UUID> late = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      UUID id = UUID.randomUUID();
      late.add(id);
      q.add(id, LATECOMER, 1);
    }
    int lastLate = -1;
    for (int taken = 0; taken < 110; taken++) {
      UUID next = q.poll().orElseThrow();
      if (late.contains(next)) {
        lastLate = taken;
      }
    }
    assertTrue(
        lastLate < 21, "the latecomer's 10 jobs are done within the first 21 taken: " + lastLate);
    assertTrue(q.poll().isEmpty());
  }

  @Test
  void heavierWeightGetsProportionallyMore() {
    FairQueue q = new FairQueue();
    UUID heavy = UUID.randomUUID();
    UUID light = UUID.randomUUID();
    List<UUID> heavyJobs = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      UUID h = UUID.randomUUID();
      heavyJobs.add(h);
      q.add(h, heavy, 4);
      q.add(UUID.randomUUID(), light, 1);
    }
    int heavyTaken = 0;
    for (int i = 0; i < 25; i++) {
      heavyTaken += heavyJobs.contains(q.poll().orElseThrow()) ? 1 : 0;
    }
    assertEquals(20, heavyTaken, "4:1 weights give 20 of 25");
  }

  @Test
  void repeatedHintIsIgnoredAndWithinATenantOrderIsFifo() {
    FairQueue q = new FairQueue();
    UUID a = UUID.randomUUID();
    UUID b = UUID.randomUUID();
    assertTrue(q.add(a, FLOODER, 1));
    assertTrue(q.add(b, FLOODER, 1));
    assertFalse(q.add(a, FLOODER, 1));
    assertEquals(2, q.size());
    assertEquals(a, q.poll().orElseThrow());
    assertEquals(b, q.poll().orElseThrow());
  }

  @Test
  void positionPredictsTheOrderWithoutChangingIt() {
    FairQueue q = new FairQueue();
    List<UUID> all = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      UUID id = UUID.randomUUID();
      all.add(id);
      q.add(id, i < 4 ? FLOODER : LATECOMER, 1);
    }
    List<Integer> predicted = all.stream().map(id -> q.position(id).orElseThrow()).toList();
    List<UUID> order = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      order.add(q.poll().orElseThrow());
    }
    for (int i = 0; i < 6; i++) {
      assertEquals(order.indexOf(all.get(i)), predicted.get(i));
    }
    assertTrue(q.position(UUID.randomUUID()).isEmpty());
  }
}
