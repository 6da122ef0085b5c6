package io.retina.api.quota;

import io.retina.platform.cluster.LocalEntities;
import io.retina.platform.cluster.Stages;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Scheduler;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * The routes' handle on the tenants' gates: ask one to admit, peek at it, or tell it the quota
 * changed. A gate on this node is asked straight ({@link LocalEntities}), others through sharding.
 */
public final class TenantGates {
  /**
   * A gate answers from memory; longer means it is moving between nodes or its node is in trouble.
   */
  static final Duration ASK_TIMEOUT = Duration.ofSeconds(5);

  /**
   * How long a gate on this node has to answer before it is asked again through sharding. It
   * answers in microseconds, so no answer means it stopped as it was asked; one the node already
   * knows stopped is asked again at once. A gate that took a token and answered late costs the
   * tenant that token, never an admission.
   */
  static final Duration LOCAL_ASK_TIMEOUT = Duration.ofSeconds(1);

  private final ClusterSharding sharding;
  private final LocalEntities local;
  private final Scheduler scheduler;
  private final java.util.concurrent.Executor dispatcher;

  public TenantGates(ActorSystem<?> system) {
    this.sharding = ClusterSharding.get(system);
    this.local = LocalEntities.get(system);
    this.scheduler = system.scheduler();
    this.dispatcher = system.executionContext();
  }

  public CompletionStage<TenantGate.Decision> admit(UUID tenantId) {
    return ask(tenantId, TenantGate.Admit::new);
  }

  public CompletionStage<TenantGate.Decision> peek(UUID tenantId) {
    return ask(tenantId, TenantGate.Peek::new);
  }

  public void quotaChanged(UUID tenantId) {
    sharding
        .entityRefFor(TenantGate.ENTITY_KEY, tenantId.toString())
        .tell(new TenantGate.QuotaChanged());
  }

  private CompletionStage<TenantGate.Decision> ask(
      UUID tenantId, Function<ActorRef<TenantGate.Decision>, TenantGate.Command> question) {
    String id = tenantId.toString();
    ActorRef<TenantGate.Command> here = local.find(TenantGate.ENTITY_KEY, id);
    if (here == null) {
      return viaSharding(id, question);
    }
    // plain first: on Pekko's own stage the fallback would run on a new thread (Stages)
    return Stages.plain(
            AskPattern.ask(here, question::apply, LOCAL_ASK_TIMEOUT, scheduler), dispatcher)
        .exceptionallyCompose(e -> viaSharding(id, question));
  }

  private CompletionStage<TenantGate.Decision> viaSharding(
      String id, Function<ActorRef<TenantGate.Decision>, TenantGate.Command> question) {
    return Stages.plain(
        sharding.entityRefFor(TenantGate.ENTITY_KEY, id).ask(question::apply, ASK_TIMEOUT),
        dispatcher);
  }
}
