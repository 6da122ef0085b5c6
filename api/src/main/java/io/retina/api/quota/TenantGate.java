package io.retina.api.quota;

import io.retina.platform.cluster.CborSerializable;
import io.retina.platform.cluster.LocalEntities;
import io.retina.platform.tenants.Quota;
import io.retina.platform.tenants.QuotaRepository;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.StashBuffer;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;

/**
 * The admission gate of one tenant (entity id: the tenant id), sharded over the api nodes so that
 * there is exactly one per tenant in the cluster: a token bucket holding the tenant's request rate
 * and burst. Every job submission on any node asks it first, so nodes together never admit faster
 * than the tenant's rate. Its quota is read from the store at start, every {@link #REFRESH}, and
 * when an admin changes it.
 */
public final class TenantGate {
  public static final EntityTypeKey<Command> ENTITY_KEY =
      EntityTypeKey.create(Command.class, "TenantGate");

  /**
   * Quota changes made without telling the gate (another node's admin call lost) still land this
   * soon.
   */
  static final Duration REFRESH = Duration.ofSeconds(30);

  /** A message to the gate. */
  public interface Command extends CborSerializable {}

  /** Asks to admit one job: takes a token if there is one. */
  public record Admit(ActorRef<Decision> replyTo) implements Command {}

  /** Asks for the bucket's state without taking a token. */
  public record Peek(ActorRef<Decision> replyTo) implements Command {}

  /** The tenant's quota changed: re-read it. */
  public record QuotaChanged() implements Command {}

  /**
   * The gate's answer.
   *
   * @param remaining whole tokens left after this decision
   * @param retryAfterMillis when refused, how long until a token is available
   * @param fullInMillis how long until the bucket is full again
   */
  public record Decision(
      boolean admitted,
      boolean known,
      int remaining,
      int burst,
      double ratePerSecond,
      long retryAfterMillis,
      long fullInMillis)
      implements CborSerializable {}

  private record Loaded(Quota quota, Throwable error) implements Command {}

  private record Refresh() implements Command {}

  /** Starts the gates' sharding; they live on api nodes. */
  public static void init(ActorSystem<?> system, QuotaRepository quotas, Executor store) {
    ClusterSharding.get(system)
        .init(
            Entity.of(ENTITY_KEY, ctx -> create(UUID.fromString(ctx.getEntityId()), quotas, store))
                .withRole("api"));
  }

  static Behavior<Command> create(UUID tenantId, QuotaRepository quotas, Executor store) {
    return Behaviors.withStash(
        1000,
        stash ->
            Behaviors.setup(
                ctx ->
                    Behaviors.withTimers(
                        timers -> {
                          LocalEntities.get(ctx.getSystem())
                              .started(ENTITY_KEY, tenantId.toString(), ctx.getSelf());
                          timers.startTimerWithFixedDelay(new Refresh(), REFRESH);
                          TenantGate gate = new TenantGate(ctx, tenantId, quotas, store);
                          gate.load();
                          return gate.loading(stash);
                        })));
  }

  private final ActorContext<Command> ctx;
  private final UUID tenantId;
  private final QuotaRepository quotas;
  private final Executor store;
  private Quota quota;
  private double tokens;
  private long lastRefillNanos;

  private TenantGate(
      ActorContext<Command> ctx, UUID tenantId, QuotaRepository quotas, Executor store) {
    this.ctx = ctx;
    this.tenantId = tenantId;
    this.quotas = quotas;
    this.store = store;
  }

  private void load() {
    ctx.pipeToSelf(
        CompletableFuture.supplyAsync(() -> quotas.effective(tenantId).orElse(null), store),
        (q, error) -> new Loaded(q, error));
  }

  private Behavior<Command> loading(StashBuffer<Command> stash) {
    return Behaviors.receive(Command.class)
        .onMessage(
            Loaded.class,
            m -> {
              if (m.error() != null) {
                ctx.getLog()
                    .warn(
                        "quota of tenant {} unreadable, retrying: {}",
                        tenantId,
                        m.error().toString());
                return Behaviors.same();
              }
              apply(m.quota());
              tokens = quota == null ? 0 : quota.burst();
              return stash.unstashAll(open());
            })
        .onMessage(
            Refresh.class,
            m -> {
              load();
              return Behaviors.same();
            })
        .onAnyMessage(
            m -> {
              stash.stash(m);
              return Behaviors.same();
            })
        .onSignal(PostStop.class, s -> stopped())
        .build();
  }

  private Behavior<Command> open() {
    return Behaviors.receive(Command.class)
        .onMessage(Admit.class, this::onAdmit)
        .onMessage(Peek.class, this::onPeek)
        .onMessage(QuotaChanged.class, m -> onReload())
        .onMessage(Refresh.class, m -> onReload())
        .onMessage(Loaded.class, this::onLoaded)
        .onSignal(PostStop.class, s -> stopped())
        .build();
  }

  private Behavior<Command> stopped() {
    LocalEntities.get(ctx.getSystem()).stopped(ENTITY_KEY, tenantId.toString(), ctx.getSelf());
    return Behaviors.same();
  }

  private Behavior<Command> onReload() {
    load();
    return Behaviors.same();
  }

  private Behavior<Command> onLoaded(Loaded m) {
    if (m.error() == null) {
      apply(m.quota());
    }
    return Behaviors.same();
  }

  private void apply(Quota q) {
    quota = q;
    if (q != null) {
      tokens = Math.min(tokens, q.burst());
    }
    lastRefillNanos = System.nanoTime();
  }

  private void refill() {
    long now = System.nanoTime();
    if (quota != null) {
      tokens =
          Math.min(quota.burst(), tokens + (now - lastRefillNanos) / 1e9 * quota.ratePerSecond());
    }
    lastRefillNanos = now;
  }

  private Behavior<Command> onAdmit(Admit m) {
    refill();
    boolean admitted = quota != null && tokens >= 1;
    if (admitted) {
      tokens -= 1;
    }
    m.replyTo().tell(decision(admitted));
    return Behaviors.same();
  }

  private Behavior<Command> onPeek(Peek m) {
    refill();
    m.replyTo().tell(decision(true));
    return Behaviors.same();
  }

  private Decision decision(boolean admitted) {
    if (quota == null) {
      return new Decision(false, false, 0, 0, 0, 0, 0);
    }
    double rate = quota.ratePerSecond();
    long retryAfter = tokens >= 1 ? 0 : (long) Math.ceil((1 - tokens) / rate * 1000);
    long fullIn = (long) Math.ceil((quota.burst() - tokens) / rate * 1000);
    return new Decision(
        admitted, true, (int) Math.floor(tokens), quota.burst(), rate, retryAfter, fullIn);
  }
}
