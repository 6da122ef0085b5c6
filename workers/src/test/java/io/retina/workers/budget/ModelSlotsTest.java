package io.retina.workers.budget;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class ModelSlotsTest {

  @Test
  void aRunWaitsForASlotAndTakesItWhenTheRunBeforeGivesItBack() throws Exception {
    ModelSlots slots = new ModelSlots(1);
    assertFalse(slots.used(), "no run has taken a slot yet");
    ModelSlots.Slot first = slots.take(WorkBudget.UNBOUNDED);
    assertTrue(slots.used());
    CompletableFuture<ModelSlots.Slot> second =
        CompletableFuture.supplyAsync(() -> slots.take(WorkBudget.UNBOUNDED));
    assertThrows(TimeoutException.class, () -> second.get(300, TimeUnit.MILLISECONDS));
    first.close();
    second.get(5, TimeUnit.SECONDS).close();
  }

  @Test
  void aSlotGivenBackTwiceCountsOnce() throws Exception {
    ModelSlots slots = new ModelSlots(1);
    ModelSlots.Slot first = slots.take(WorkBudget.UNBOUNDED);
    first.close();
    first.close();
    ModelSlots.Slot second = slots.take(WorkBudget.UNBOUNDED);
    CompletableFuture<ModelSlots.Slot> third =
        CompletableFuture.supplyAsync(() -> slots.take(WorkBudget.UNBOUNDED));
    assertThrows(TimeoutException.class, () -> third.get(300, TimeUnit.MILLISECONDS));
    second.close();
    third.get(5, TimeUnit.SECONDS).close();
  }

  @Test
  void aJobCanceledWhileItWaitsStopsAndTakesNothing() throws Exception {
    ModelSlots slots = new ModelSlots(1);
    ModelSlots.Slot held = slots.take(WorkBudget.UNBOUNDED);
    AtomicBoolean wanted = new AtomicBoolean(true);
    WorkBudget budget = WorkBudget.of(null, wanted::get, Duration.ZERO);
    CompletableFuture<ModelSlots.Slot> waiting =
        CompletableFuture.supplyAsync(() -> slots.take(budget));
    assertThrows(TimeoutException.class, () -> waiting.get(200, TimeUnit.MILLISECONDS));
    wanted.set(false);
    var stopped = assertThrows(Exception.class, () -> waiting.get(5, TimeUnit.SECONDS));
    assertTrue(stopped.getCause() instanceof WorkStoppedException, stopped.toString());
    assertEquals(
        WorkStoppedException.Reason.CANCELED, ((WorkStoppedException) stopped.getCause()).reason());
    held.close();
    // the canceled job took nothing: the one slot is free
    slots.take(WorkBudget.UNBOUNDED).close();
  }

  @Test
  void slotsAreTheThreadsOnlyWhileBoundAndTheWaitIsCounted() throws Exception {
    ModelSlots slots = new ModelSlots(1);
    assertSame(ModelSlots.NONE, ModelSlots.takeBound(WorkBudget.UNBOUNDED));
    ModelSlots.Slot held = slots.take(WorkBudget.UNBOUNDED);
    CompletableFuture<Long> waited =
        CompletableFuture.supplyAsync(
            () -> {
              try (var bound = slots.bind()) {
                ModelSlots.startCounting();
                ModelSlots.takeBound(WorkBudget.UNBOUNDED).close();
                return ModelSlots.waitedNanos();
              }
            });
    Thread.sleep(250);
    assertFalse(waited.isDone());
    held.close();
    long nanos = waited.get(5, TimeUnit.SECONDS);
    assertTrue(nanos >= TimeUnit.MILLISECONDS.toNanos(200), nanos + " ns");
    assertSame(ModelSlots.NONE, ModelSlots.takeBound(WorkBudget.UNBOUNDED));
  }

  @Test
  void slotsGoInTheOrderAskedThoughWaitersLookAtTheirBudgets() throws Exception {
    ModelSlots slots = new ModelSlots(1);
    ModelSlots.Slot held = slots.take(WorkBudget.UNBOUNDED);
    java.util.List<Integer> order =
        java.util.Collections.synchronizedList(new java.util.ArrayList<>());
    java.util.List<CompletableFuture<Void>> waiters = new java.util.ArrayList<>();
    WorkBudget watched = WorkBudget.of(null, () -> true, Duration.ZERO);
    var pool = java.util.concurrent.Executors.newFixedThreadPool(4);
    for (int i = 0; i < 4; i++) {
      int n = i;
      waiters.add(
          CompletableFuture.runAsync(
              () -> {
                try (ModelSlots.Slot s = slots.take(watched)) {
                  order.add(n);
                }
              },
              pool));
      Thread.sleep(120); // each asks after the one before, and all look at the budget while waiting
    }
    Thread.sleep(300);
    held.close();
    for (var w : waiters) {
      w.get(5, TimeUnit.SECONDS);
    }
    pool.shutdown();
    assertEquals(java.util.List.of(0, 1, 2, 3), order);
  }
}
