package io.retina.workers.runners;

import io.retina.platform.cluster.WorkerNodes;
import java.time.Clock;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which model versions are loaded on this worker node, and how much memory their weights take. When
 * a load puts the node over its model-memory budget, the least recently used idle version that is
 * not pinned is asked to unload. With a {@link Heartbeat}, it publishes what the node holds at
 * every load and unload and at every beat, for operators to see. One per worker node; its messages
 * never leave the node.
 */
public final class Residency {
  private static final Logger log = LoggerFactory.getLogger(Residency.class);

  /** A message to the residency keeper. */
  public interface Command {}

  /** A replica loaded its version, whose weights take {@code bytes}. */
  public record Loaded(String version, long bytes, ActorRef<Evict> runner) implements Command {}

  /** A replica ran a job: its version was just used. */
  public record Used(String version) implements Command {}

  /** A replica unloaded its version. */
  public record Unloaded(String version) implements Command {}

  /** A replica's answer to whether it may be evicted now: only when it holds no work. */
  public record Idle(String version, boolean idle) implements Command {}

  /** Asks how much of the model-memory budget is free now; answered with {@link Free}. */
  public record GetFree(ActorRef<Free> replyTo) implements Command {}

  /** The budget left after the versions loaded here (negative when over). */
  public record Free(long bytes) {}

  /**
   * Asks a replica to unload its version if it is idle; it answers {@link Idle} to {@code replyTo}.
   */
  public record Evict(ActorRef<Idle> replyTo) {}

  /**
   * Where and how often to publish the versions this node holds. {@code publish} is called on the
   * keeper's thread and must not block (hand the write to another executor).
   */
  public record Heartbeat(Duration every, Consumer<List<WorkerNodes.Resident>> publish) {}

  /** Time to publish again. */
  private enum Beat implements Command {
    INSTANCE
  }

  private record Entry(long bytes, ActorRef<Evict> runner, long lastUsed) {}

  /** A keeper that publishes nothing. */
  public static Behavior<Command> create(long budgetBytes, Set<String> pinned, Clock clock) {
    return create(budgetBytes, pinned, clock, null);
  }

  public static Behavior<Command> create(
      long budgetBytes, Set<String> pinned, Clock clock, Heartbeat heartbeat) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers -> {
                  Map<String, Entry> loaded = new HashMap<>();
                  Runnable publish =
                      heartbeat == null
                          ? () -> {}
                          : () -> heartbeat.publish().accept(resident(loaded, pinned));
                  if (heartbeat != null) {
                    timers.startTimerWithFixedDelay(Beat.INSTANCE, heartbeat.every());
                    publish.run();
                  }
                  return behavior(ctx, loaded, budgetBytes, pinned, clock, publish);
                }));
  }

  private static Behavior<Command> behavior(
      ActorContext<Command> ctx,
      Map<String, Entry> loaded,
      long budgetBytes,
      Set<String> pinned,
      Clock clock,
      Runnable publish) {
    ActorRef<Idle> idleReplies = ctx.messageAdapter(Idle.class, m -> m);
    return Behaviors.receive(Command.class)
        .onMessage(
            Loaded.class,
            m -> {
              loaded.put(m.version(), new Entry(m.bytes(), m.runner(), clock.millis()));
              evictIfOver(loaded, budgetBytes, pinned, m.version(), idleReplies);
              publish.run();
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
              if (loaded.remove(m.version()) != null) {
                publish.run();
              }
              return Behaviors.same();
            })
        .onMessage(
            GetFree.class,
            m -> {
              long used = loaded.values().stream().mapToLong(Entry::bytes).sum();
              m.replyTo().tell(new Free(budgetBytes - used));
              return Behaviors.same();
            })
        .onMessageEquals(
            Beat.INSTANCE,
            () -> {
              publish.run();
              return Behaviors.same();
            })
        .onMessage(
            Idle.class,
            m -> {
              if (m.idle()) {
                log.info(
                    "{} unloaded to keep this node within its model-memory budget", m.version());
              }
              return Behaviors.same();
            })
        .build();
  }

  /** The versions held now, by name, with their size and whether they are pinned. */
  private static List<WorkerNodes.Resident> resident(
      Map<String, Entry> loaded, Set<String> pinned) {
    return loaded.entrySet().stream()
        .map(
            e ->
                new WorkerNodes.Resident(
                    e.getKey(), e.getValue().bytes(), pinned.contains(e.getKey())))
        .sorted(Comparator.comparing(WorkerNodes.Resident::version))
        .toList();
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
            .sorted(Comparator.comparingLong(e -> e.getValue().lastUsed()))
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
