package io.retina.platform.cluster;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.pubsub.Topic;

/**
 * The cluster-wide topic on which each version's runner says, about once a second, how loaded the
 * version is; API nodes read it to refuse submissions past a version's bound and to show tenants
 * the expected wait. A load older than {@link #STALE_AFTER} is ignored: a runner that stopped
 * reporting is not allowed to keep a version closed.
 */
public final class RunnerLoads {
  public static final String TOPIC = "retina-runner-loads";

  /** Runners report every second; three missed reports and the figure is no longer trusted. */
  public static final Duration STALE_AFTER = Duration.ofSeconds(3);

  /**
   * A version's load: {@code expectedWaitMillis} for a job submitted now, {@code millisPerJob} the
   * time one more job adds to it (the inverse of the replicas' measured throughput), and {@code
   * maxWaitMillis} the bound past which submissions are refused. Until a replica has measured its
   * service time ({@code measured} false) the figures are guesses and bound nothing.
   */
  public record Load(
      String runner,
      long expectedWaitMillis,
      long millisPerJob,
      long maxWaitMillis,
      boolean measured,
      int replicas,
      int queued,
      long reportedAtMillis)
      implements CborSerializable {}

  /** This node's latest view of every version's load. Thread-safe. */
  public static final class View {
    private final Map<String, Seen> loads = new ConcurrentHashMap<>();

    private record Seen(Load load, long receivedNanos, int submittedSince) {}

    /** The version's load, if a fresh report arrived. */
    public Optional<Load> of(RunnerId runner) {
      return fresh(runner).map(Seen::load);
    }

    private Optional<Seen> fresh(RunnerId runner) {
      Seen seen = loads.get(runner.toString());
      return seen == null || System.nanoTime() - seen.receivedNanos() > STALE_AFTER.toNanos()
          ? Optional.empty()
          : Optional.of(seen);
    }

    /**
     * The expected wait of a job submitted now: the last report plus what this node's own
     * submissions since then have added, so that a burst between two reports is counted.
     */
    public long expectedWaitMillis(RunnerId runner) {
      return fresh(runner)
          .map(
              s ->
                  s.load().expectedWaitMillis()
                      + (long) s.submittedSince() * s.load().millisPerJob())
          .orElse(0L);
    }

    /** Counts a submission this node accepted, until the next report includes it. */
    public void submitted(RunnerId runner) {
      loads.computeIfPresent(
          runner.toString(),
          (k, s) -> new Seen(s.load(), s.receivedNanos(), s.submittedSince() + 1));
    }

    /** Every version's fresh load. */
    public java.util.List<Load> all() {
      long now = System.nanoTime();
      return loads.values().stream()
          .filter(s -> now - s.receivedNanos() <= STALE_AFTER.toNanos())
          .map(Seen::load)
          .toList();
    }

    /** Records a report; exposed for tests, which have no runner to publish. */
    public void received(Load load) {
      loads.put(load.runner(), new Seen(load, System.nanoTime(), 0));
    }
  }

  private RunnerLoads() {}

  /** Spawns this node's handle on the topic. */
  public static ActorRef<Topic.Command<Load>> topic(ActorSystem<?> system) {
    return system.systemActorOf(
        Topic.create(Load.class, TOPIC), "runner-loads-topic", Props.empty());
  }

  /** Subscribes a fresh view to the topic and returns it. */
  public static View subscribe(ActorSystem<?> system, ActorRef<Topic.Command<Load>> topic) {
    View view = new View();
    Behavior<Load> listener =
        Behaviors.receiveMessage(
            load -> {
              view.received(load);
              return Behaviors.same();
            });
    ActorRef<Load> ref = system.systemActorOf(listener, "runner-loads-view", Props.empty());
    topic.tell(Topic.subscribe(ref));
    return view;
  }
}
