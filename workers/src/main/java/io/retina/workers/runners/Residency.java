package io.retina.workers.runners;

import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which model versions are loaded on this worker node, and how much memory their weights take. When
 * a load puts the node over its model-memory budget, the least recently used idle version that is
 * not pinned is asked to unload. One per worker node; its messages never leave the node.
 */
public final class Residency {
  private static final Logger log = LoggerFactory.getLogger(Residency.class);

  /** A message to the residency keeper. */
  public interface Command {}

  /** A runner loaded its version, whose weights take {@code bytes}. */
  public record Loaded(String version, long bytes, ActorRef<Evict> runner) implements Command {}

  /** A runner ran a job: its version was just used. */
  public record Used(String version) implements Command {}

  /** A runner unloaded its version. */
  public record Unloaded(String version) implements Command {}

  /** A runner's answer to whether it may be evicted now: only when it holds no work. */
  public record Idle(String version, boolean idle) implements Command {}

  /**
   * Asks a runner to unload its version if it is idle; it answers {@link Idle} to {@code replyTo}.
   */
  public record Evict(ActorRef<Idle> replyTo) {}

  private record Entry(long bytes, ActorRef<Evict> runner, long lastUsed) {}

  public static Behavior<Command> create(long budgetBytes, Set<String> pinned, Clock clock) {
    return Behaviors.setup(
        ctx -> {
          Map<String, Entry> loaded = new HashMap<>();
          ActorRef<Idle> idleReplies = ctx.messageAdapter(Idle.class, m -> m);
          return Behaviors.receive(Command.class)
              .onMessage(
                  Loaded.class,
                  m -> {
                    loaded.put(m.version(), new Entry(m.bytes(), m.runner(), clock.millis()));
                    evictIfOver(loaded, budgetBytes, pinned, m.version(), idleReplies);
                    return Behaviors.same();
                  })
              .onMessage(
                  Used.class,
                  m -> {
                    loaded.computeIfPresent(
                        m.version(), (v, e) -> new Entry(e.bytes(), e.runner(), clock.millis()));
                    return Behaviors.same();
                  })
              .onMessage(
                  Unloaded.class,
                  m -> {
                    loaded.remove(m.version());
                    return Behaviors.same();
                  })
              .onMessage(
                  Idle.class,
                  m -> {
                    if (m.idle()) {
                      log.info(
                          "{} unloaded to keep this node within its model-memory budget",
                          m.version());
                    }
                    return Behaviors.same();
                  })
              .build();
        });
  }

  /**
   * Asks the least recently used, unpinned versions other than the one just loaded to unload, until
   * what remains fits the budget. A version that is busy declines and stays; the node is then over
   * budget until the next load, which is logged.
   */
  private static void evictIfOver(
      Map<String, Entry> loaded,
      long budget,
      Set<String> pinned,
      String justLoaded,
      ActorRef<Idle> replyTo) {
    long total = loaded.values().stream().mapToLong(Entry::bytes).sum();
    var candidates =
        loaded.entrySet().stream()
            .filter(e -> !pinned.contains(e.getKey()) && !e.getKey().equals(justLoaded))
            .sorted(java.util.Comparator.comparingLong(e -> e.getValue().lastUsed()))
            .toList();
    for (var c : candidates) {
      if (total <= budget) {
        return;
      }
      c.getValue().runner().tell(new Evict(replyTo));
      total -= c.getValue().bytes();
    }
    if (total > budget) {
      log.warn(
          "models loaded here need about {} MB, over the {} MB budget, and none can be unloaded (pinned or in use)",
          total / 1_000_000,
          budget / 1_000_000);
    }
  }

  private Residency() {}
}
