package io.retina.platform.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.ConfigFactory;
import io.retina.platform.metrics.NodeMetrics;
import java.time.Duration;
import java.time.Instant;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A one-node cluster on 127.0.0.1, seen through its meters. */
class ClusterMetricsTest {
  private static final EntityTypeKey<String> ECHO = EntityTypeKey.create(String.class, "Echo");

  private static ActorTestKit kit;
  private static final NodeMetrics metrics = new NodeMetrics();

  @BeforeAll
  static void formCluster() {
    kit =
        ActorTestKit.create(
            ConfigFactory.parseString(
                """
                pekko.actor.provider = cluster
                pekko.remote.artery.canonical.hostname = 127.0.0.1
                pekko.remote.artery.canonical.port = 0
                # leaving the cluster, handing off its shards, takes a node longer than the default
                pekko.actor.testkit.typed.system-shutdown-default = 30s
                """));
    Cluster cluster = Cluster.get(kit.system());
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
  }

  @AfterAll
  static void stop() {
    kit.shutdownTestKit();
    metrics.close();
  }

  @Test
  void membersAreCountedByStatus() {
    ClusterMetrics.bindMembership(kit.system(), metrics.registry());

    awaitSample("retina_cluster_members{status=\"up\"}", 1);
    awaitSample("retina_cluster_members{status=\"leaving\"}", 0);
    awaitSample("retina_cluster_unreachable_members", 0);
  }

  @Test
  void shardsAndEntitiesHostedHereAreCounted() {
    ClusterSharding sharding = ClusterSharding.get(kit.system());
    sharding.init(Entity.of(ECHO, ctx -> Behaviors.ignore()));
    sharding.entityRefFor(ECHO, "a").tell("hello");
    sharding.entityRefFor(ECHO, "b").tell("hello");

    ClusterMetrics.bindSharding(kit.system(), metrics.registry(), ECHO, Duration.ofMillis(200));

    awaitSample("retina_sharding_entities{entity_type=\"Echo\"}", 2);
  }

  private static void awaitSample(String series, double expected) {
    Instant until = Instant.now().plusSeconds(30);
    double last = Double.NaN;
    while (Instant.now().isBefore(until)) {
      last = sample(metrics.scrape(), series);
      if (last == expected) {
        return;
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
    assertEquals(expected, last, series + " in:\n" + metrics.scrape());
  }

  private static double sample(String text, String series) {
    for (String line : text.split("\n")) {
      if (line.startsWith(series + " ")) {
        return Double.parseDouble(line.substring(series.length() + 1));
      }
    }
    return Double.NaN;
  }
}
