package io.retina.workers.runners;

import io.retina.platform.cluster.CborSerializable;
import io.retina.platform.cluster.RunnerId;
import io.retina.platform.cluster.RunnerProtocol;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * Hosts this worker node's replicas: the runners find it through the receptionist, ask it how much
 * room it has, and have it start a replica of their version. It holds at most one replica of a
 * version (the node has one device), refuses versions that need a GPU on a CPU node, and drains
 * every replica when the node shuts down. One per worker node.
 */
public final class ReplicaHost {

  /** The receptionist key every worker node's host registers under. */
  public static final ServiceKey<Command> KEY = ServiceKey.create(Command.class, "replica-hosts");

  /** A message to a replica host. */
  public interface Command extends CborSerializable {}

  /** Asks what this node could offer a replica of {@code runner}. */
  public record Describe(RunnerId runner, ActorRef<Offer> replyTo) implements Command {}

  /**
   * A node's answer: its device ("cpu" or "gpu"), its free model memory, whether it already holds a
   * replica of the version asked about, and how many replicas it holds in all.
   */
  public record Offer(
      ActorRef<Command> host,
      String node,
      String device,
      long freeBytes,
      boolean holdsVersion,
      int replicas)
      implements CborSerializable {}

  /** Asks the host to start a replica of {@code runner}; it answers {@link Placed}. */
  public record StartReplica(RunnerId runner, ActorRef<Placed> replyTo) implements Command {}

  /** Whether a replica was started, and where; {@code reason} says why not. */
  public record Placed(RunnerId runner, String node, boolean started, String reason)
      implements CborSerializable {}

  /** This node shuts down: drain every replica, then answer. Local only. */
  public record DrainAll(ActorRef<Done> replyTo) implements Command {}

  private record Described(Describe request, long freeBytes) implements Command {}

  public static Behavior<Command> create(WorkerContext worker) {
    return Behaviors.setup(
        ctx -> {
          ctx.getSystem().receptionist().tell(Receptionist.register(KEY, ctx.getSelf()));
          return new ReplicaHost(ctx, worker).behavior();
        });
  }

  private final ActorContext<Command> ctx;
  private final WorkerContext worker;
  private final Map<RunnerId, ActorRef<Replica.Command>> replicas = new HashMap<>();
  private ActorRef<Done> drained;

  private ReplicaHost(ActorContext<Command> ctx, WorkerContext worker) {
    this.ctx = ctx;
    this.worker = worker;
  }

  private Behavior<Command> behavior() {
    return Behaviors.receive(Command.class)
        .onMessage(Describe.class, this::onDescribe)
        .onMessage(Described.class, this::onDescribed)
        .onMessage(StartReplica.class, this::onStartReplica)
        .onMessage(DrainAll.class, this::onDrainAll)
        .onSignal(Terminated.class, this::onTerminated)
        .build();
  }

  private Behavior<Command> onDescribe(Describe m) {
    ctx.ask(
        Residency.Free.class,
        worker.residency(),
        Duration.ofSeconds(1),
        Residency.GetFree::new,
        (free, error) -> new Described(m, error != null ? 0 : free.bytes()));
    return Behaviors.same();
  }

  private Behavior<Command> onDescribed(Described m) {
    m.request()
        .replyTo()
        .tell(
            new Offer(
                ctx.getSelf(),
                worker.nodeName(),
                worker.device(),
                m.freeBytes(),
                replicas.containsKey(m.request().runner()),
                replicas.size()));
    return Behaviors.same();
  }

  private Behavior<Command> onStartReplica(StartReplica m) {
    RunnerId id = m.runner();
    String refused = null;
    if (drained != null) {
      refused = "the node is shutting down";
    } else if (replicas.containsKey(id)) {
      refused = "the node already runs a replica of " + id;
    }
    if (refused == null) {
      var runner =
          ClusterSharding.get(ctx.getSystem())
              .entityRefFor(RunnerProtocol.ENTITY_KEY, id.toString());
      ActorRef<Replica.Command> replica =
          ctx.spawn(Replica.create(id, runner, worker), "replica-" + childName(id));
      ctx.watch(replica);
      replicas.put(id, replica);
    }
    m.replyTo().tell(new Placed(id, worker.nodeName(), refused == null, refused));
    return Behaviors.same();
  }

  /** An actor name for the version: its id with every character outside [A-Za-z0-9-] escaped. */
  private static String childName(RunnerId id) {
    StringBuilder name = new StringBuilder();
    for (char c : id.toString().toCharArray()) {
      if (Character.isLetterOrDigit(c) && c < 128 || c == '-') {
        name.append(c);
      } else {
        name.append('_').append(Integer.toHexString(c)).append('_');
      }
    }
    return name + "-" + System.nanoTime();
  }

  private Behavior<Command> onDrainAll(DrainAll m) {
    drained = m.replyTo();
    replicas.values().forEach(r -> r.tell(new Replica.Drain("the node is shutting down")));
    return doneIfEmpty();
  }

  private Behavior<Command> onTerminated(Terminated t) {
    replicas.values().removeIf(r -> r.equals(t.getRef()));
    return doneIfEmpty();
  }

  private Behavior<Command> doneIfEmpty() {
    if (drained != null && replicas.isEmpty()) {
      drained.tell(Done.getInstance());
    }
    return Behaviors.same();
  }
}
