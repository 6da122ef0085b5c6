package io.retina.platform.cluster;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.StreamSupport;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.GetShardRegionState;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * The Pekko cluster as this node sees it, as meters: the members by status and how many are
 * unreachable, read from the cluster's state at each scrape; and, for each sharded entity type this
 * node hosts, its shards and entities here, as the shard region last said. Gauges only; nothing
 * here changes the cluster.
 */
public final class ClusterMetrics {

  /**
   * How often a shard region is asked what it holds: Prometheus's usual scrape interval, so a
   * scrape is at most one interval behind. Asking walks every shard, which is why it is not done
   * per scrape.
   */
  static final Duration SHARDS_EVERY = Duration.ofSeconds(15);

  private static final Duration ASK_TIMEOUT = Duration.ofSeconds(5);

  /** Every status a member can have, so each has a series (at 0) from the start. */
  private static final List<MemberStatus> STATUSES =
      List.of(
          MemberStatus.joining(),
          MemberStatus.weaklyUp(),
          MemberStatus.up(),
          MemberStatus.leaving(),
          MemberStatus.exiting(),
          MemberStatus.down(),
          MemberStatus.removed(),
          MemberStatus.shuttingDown(),
          MemberStatus.shutDown());

  private ClusterMetrics() {}

  /**
   * {@code retina_cluster_members{status}}: members this node knows, by status ({@code up}, {@code
   * weakly_up}, {@code leaving}...); {@code retina_cluster_unreachable_members}: those this node's
   * failure detector has marked unreachable.
   */
  public static void bindMembership(ActorSystem<?> system, MeterRegistry registry) {
    Cluster cluster = Cluster.get(system);
    for (MemberStatus status : STATUSES) {
      Gauge.builder("retina.cluster.members", () -> members(cluster, status))
          .description("Cluster members this node knows, by status.")
          .tag("status", label(status))
          .register(registry);
    }
    Gauge.builder(
            "retina.cluster.unreachable.members", () -> cluster.state().getUnreachable().size())
        .description("Cluster members this node's failure detector marks unreachable.")
        .register(registry);
  }

  /**
   * {@code retina_sharding_shards{entity_type}} and {@code retina_sharding_entities{entity_type}}:
   * the shards of {@code type} this node hosts and the entities alive in them, refreshed every
   * {@link #SHARDS_EVERY}. Call on a node that hosts the type, after its sharding is initialized.
   */
  public static void bindSharding(
      ActorSystem<?> system, MeterRegistry registry, EntityTypeKey<?> type) {
    bindSharding(system, registry, type, SHARDS_EVERY);
  }

  static void bindSharding(
      ActorSystem<?> system, MeterRegistry registry, EntityTypeKey<?> type, Duration every) {
    AtomicInteger shards = new AtomicInteger();
    AtomicInteger entities = new AtomicInteger();
    Gauge.builder("retina.sharding.shards", shards::get)
        .description("Shards of this entity type hosted on this node.")
        .tag("entity_type", type.name())
        .register(registry);
    Gauge.builder("retina.sharding.entities", entities::get)
        .description("Entities of this type alive on this node.")
        .tag("entity_type", type.name())
        .register(registry);
    var query = ClusterSharding.get(system).shardState();
    system
        .scheduler()
        .scheduleWithFixedDelay(
            Duration.ZERO,
            every,
            () ->
                AskPattern
                    .<org.apache.pekko.cluster.sharding.typed.ClusterShardingQuery,
                        ShardRegion.CurrentShardRegionState>
                        ask(
                            query,
                            replyTo -> new GetShardRegionState(type, replyTo),
                            ASK_TIMEOUT,
                            system.scheduler())
                    .thenAccept(
                        state -> {
                          shards.set(state.getShards().size());
                          entities.set(
                              state.getShards().stream()
                                  .mapToInt(s -> s.getEntityIds().size())
                                  .sum());
                        }),
            system.executionContext());
  }

  private static long members(Cluster cluster, MemberStatus status) {
    return StreamSupport.stream(cluster.state().getMembers().spliterator(), false)
        .filter(m -> m.status().equals(status))
        .count();
  }

  /**
   * {@code WeaklyUp} as {@code weakly_up}: Prometheus label values are conventionally snake case.
   */
  private static String label(MemberStatus status) {
    return status.toString().replaceAll("([a-z])([A-Z])", "$1_$2").toLowerCase(Locale.ROOT);
  }
}
