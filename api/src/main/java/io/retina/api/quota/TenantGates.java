package io.retina.api.quota;

import io.retina.platform.cluster.Stages;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * The routes' handle on the tenants' gates: ask one to admit, peek at it, or tell it the quota
 * changed.
 */
public final class TenantGates {
  /**
   * A gate answers from memory; longer means it is moving between nodes or its node is in trouble.
   */
  static final Duration ASK_TIMEOUT = Duration.ofSeconds(5);

  private final ClusterSharding sharding;
  private final java.util.concurrent.Executor dispatcher;

  public TenantGates(ActorSystem<?> system) {
    this.sharding = ClusterSharding.get(system);
    this.dispatcher = system.executionContext();
  }

  public CompletionStage<TenantGate.Decision> admit(UUID tenantId) {
    return Stages.plain(
        sharding
            .entityRefFor(TenantGate.ENTITY_KEY, tenantId.toString())
            .ask(TenantGate.Admit::new, ASK_TIMEOUT),
        dispatcher);
  }

  public CompletionStage<TenantGate.Decision> peek(UUID tenantId) {
    return Stages.plain(
        sharding
            .entityRefFor(TenantGate.ENTITY_KEY, tenantId.toString())
            .ask(TenantGate.Peek::new, ASK_TIMEOUT),
        dispatcher);
  }

  public void quotaChanged(UUID tenantId) {
    sharding
        .entityRefFor(TenantGate.ENTITY_KEY, tenantId.toString())
        .tell(new TenantGate.QuotaChanged());
  }
}
