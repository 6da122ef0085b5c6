package io.retina.workers.runners;

import io.retina.platform.cluster.Scaling;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;

/**
 * Decides, once a tick, whether a version needs one replica more or one fewer: more while it has
 * fewer than its minimum, has jobs and no replica, or its expected queue wait has stayed past its
 * target for {@code upAfter}; fewer when one has been idle for {@code idleBeforeDown} with nothing
 * queued. One change at a time and none within {@code cooldown} of the last: that, and the two
 * different conditions for up and down, keep it from flapping. Pure and not thread-safe: owned by
 * one runner, fed its observations.
 *
 * @param <R> how the runner names a replica
 */
public final class Autoscaler<R> {

  /** The autoscaler's terms, from {@code retina.workers.scaling}. */
  public record Settings(Duration upAfter, Duration idleBeforeDown, Duration cooldown) {}

  /** A replica that is loaded and holds no job, since {@code idleSinceMillis}. */
  record Idle<R>(R replica, long idleSinceMillis) {}

  /**
   * What the runner sees now: {@code replicas} placed and not leaving (loading or ready), of which
   * {@code starting} still load; the jobs {@code queued}; the {@code expectedWaitMillis} of a job
   * queued now; the idle replicas; and whether a replica was just unloaded to free memory for
   * another version (then the minimum is not restored until jobs come).
   */
  record Observation<R>(
      long nowMillis,
      Scaling scaling,
      int replicas,
      int starting,
      int queued,
      long expectedWaitMillis,
      List<Idle<R>> idle,
      boolean yieldedMemory) {}

  /** What to do. */
  sealed interface Decision<R> {}

  record Hold<R>() implements Decision<R> {}

  record Up<R>(String reason) implements Decision<R> {}

  record Down<R>(R replica, String reason) implements Decision<R> {}

  private final Settings settings;
  private long overTargetSince = -1;
  private long lastChange = Long.MIN_VALUE / 2;

  Autoscaler(Settings settings) {
    this.settings = settings;
  }

  Decision<R> decide(Observation<R> o) {
    Scaling s = o.scaling();
    boolean over = o.expectedWaitMillis() > s.targetWait().toMillis();
    if (!over) {
      overTargetSince = -1;
    } else if (overTargetSince < 0) {
      overTargetSince = o.nowMillis();
    }
    if (o.replicas() == 0 && o.queued() > 0) {
      return up(o, "jobs are waiting and the version has no replica");
    }
    if (o.replicas() < s.minReplicas() && !(o.yieldedMemory() && o.queued() == 0)) {
      return up(o, "below the minimum of " + s.minReplicas());
    }
    if (o.starting() > 0) {
      return new Hold<>(); // see what the replica being placed does first
    }
    boolean cooled = o.nowMillis() - lastChange >= settings.cooldown().toMillis();
    if (over
        && cooled
        && o.replicas() < s.maxReplicas()
        && o.nowMillis() - overTargetSince >= settings.upAfter().toMillis()) {
      return up(
          o,
          String.format(
              "expected wait %.1f s over the %.1f s target for %.1f s",
              o.expectedWaitMillis() / 1e3,
              s.targetWait().toMillis() / 1e3,
              (o.nowMillis() - overTargetSince) / 1e3));
    }
    if (o.replicas() > s.minReplicas() && o.queued() == 0 && cooled) {
      var longest =
          o.idle().stream()
              .filter(
                  i -> o.nowMillis() - i.idleSinceMillis() >= settings.idleBeforeDown().toMillis())
              .min(Comparator.comparingLong(Idle::idleSinceMillis));
      if (longest.isPresent()) {
        lastChange = o.nowMillis();
        return new Down<>(
            longest.get().replica(),
            String.format(
                "idle for %d s with nothing queued",
                (o.nowMillis() - longest.get().idleSinceMillis()) / 1000));
      }
    }
    return new Hold<>();
  }

  private Up<R> up(Observation<R> o, String reason) {
    lastChange = o.nowMillis();
    overTargetSince = -1;
    return new Up<>(reason);
  }
}
