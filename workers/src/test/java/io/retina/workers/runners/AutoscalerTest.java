package io.retina.workers.runners;

import static org.junit.jupiter.api.Assertions.*;

import io.retina.platform.cluster.Scaling;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The scaling rules alone, on observations the test makes up, with time in the test's hands. */
class AutoscalerTest {
  static final Autoscaler.Settings TERMS =
      new Autoscaler.Settings(Duration.ofSeconds(3), Duration.ofSeconds(30), Duration.ofSeconds(5));

  static final Scaling ONE_TO_THREE =
      new Scaling(1, 3, Duration.ofSeconds(2), Duration.ofSeconds(30), "any");

  final Autoscaler<String> scaler = new Autoscaler<>(TERMS);

  static Autoscaler.Observation<String> seen(
      long at, int replicas, int starting, int queued, long waitMillis, String... idle) {
    return new Autoscaler.Observation<>(
        at,
        ONE_TO_THREE,
        replicas,
        starting,
        queued,
        waitMillis,
        java.util.Arrays.stream(idle).map(r -> new Autoscaler.Idle<>(r, 0)).toList(),
        false);
  }

  @Test
  void addsAReplicaOnlyOnceTheWaitHasStayedOverTargetForAWhile() {
    assertInstanceOf(Autoscaler.Hold.class, scaler.decide(seen(1_000, 1, 0, 20, 5_000)));
    assertInstanceOf(Autoscaler.Hold.class, scaler.decide(seen(3_000, 1, 0, 20, 5_000)));
    var up = scaler.decide(seen(4_000, 1, 0, 20, 5_000));
    assertInstanceOf(Autoscaler.Up.class, up);
    assertTrue(
        ((Autoscaler.Up<String>) up).reason().contains("over the 2.0 s target"), up.toString());
  }

  @Test
  void aShortBurstOverTargetAddsNothing() {
    scaler.decide(seen(1_000, 1, 0, 20, 5_000));
    scaler.decide(seen(2_000, 1, 0, 20, 5_000));
    scaler.decide(seen(3_000, 1, 0, 0, 0)); // drained before the 3 s were up
    assertInstanceOf(Autoscaler.Hold.class, scaler.decide(seen(4_500, 1, 0, 20, 5_000)));
  }

  @Test
  void neverGoesPastTheMaximumNorAddsWhileOneIsStillLoading() {
    scaler.decide(seen(0, 3, 0, 50, 9_000));
    assertInstanceOf(Autoscaler.Hold.class, scaler.decide(seen(10_000, 3, 0, 50, 9_000)));
    Autoscaler<String> other = new Autoscaler<>(TERMS);
    other.decide(seen(0, 2, 1, 50, 9_000));
    assertInstanceOf(Autoscaler.Hold.class, other.decide(seen(10_000, 2, 1, 50, 9_000)));
  }

  @Test
  void drainsTheLongestIdleReplicaButKeepsTheMinimum() {
    var observation =
        new Autoscaler.Observation<>(
            60_000,
            ONE_TO_THREE,
            3,
            0,
            0,
            0,
            List.of(new Autoscaler.Idle<>("a", 50_000), new Autoscaler.Idle<>("b", 20_000)),
            false);
    var down = scaler.decide(observation);
    assertEquals("b", ((Autoscaler.Down<String>) down).replica());
    // one replica left: it stays, however long it idles
    assertInstanceOf(Autoscaler.Hold.class, scaler.decide(seen(600_000, 1, 0, 0, 0, "a")));
  }

  @Test
  void doesNotDrainRightAfterAddingNorWhileJobsAreQueued() {
    scaler.decide(seen(0, 1, 0, 20, 5_000));
    assertInstanceOf(Autoscaler.Up.class, scaler.decide(seen(3_000, 1, 0, 20, 5_000)));
    // within the cooldown an idle replica stays
    assertInstanceOf(Autoscaler.Hold.class, scaler.decide(seen(4_000, 2, 0, 0, 0, "a")));
    // with jobs queued it stays too
    assertInstanceOf(Autoscaler.Hold.class, scaler.decide(seen(40_000, 2, 0, 3, 100, "a")));
    assertInstanceOf(Autoscaler.Down.class, scaler.decide(seen(40_000, 2, 0, 0, 0, "a")));
  }

  @Test
  void restoresTheMinimumUnlessTheReplicaYieldedItsMemoryAndNothingWaits() {
    assertInstanceOf(Autoscaler.Up.class, scaler.decide(seen(0, 0, 0, 0, 0)));
    var yielded =
        new Autoscaler.Observation<String>(10_000, ONE_TO_THREE, 0, 0, 0, 0, List.of(), true);
    assertInstanceOf(Autoscaler.Hold.class, scaler.decide(yielded));
    var jobsCame =
        new Autoscaler.Observation<String>(11_000, ONE_TO_THREE, 0, 0, 2, 2_000, List.of(), true);
    assertInstanceOf(Autoscaler.Up.class, scaler.decide(jobsCame));
  }
}
