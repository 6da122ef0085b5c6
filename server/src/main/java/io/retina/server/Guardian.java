package io.retina.server;

import com.typesafe.config.Config;
import io.micrometer.core.instrument.Gauge;
import io.retina.api.ApiContext;
import io.retina.api.ApiServer;
import io.retina.api.ApiSettings;
import io.retina.api.auth.Authenticator;
import io.retina.api.jobs.JobWaiters;
import io.retina.api.jobs.RunnerCapacity;
import io.retina.api.ops.WorkerOpsRoutes;
import io.retina.api.quota.TenantGate;
import io.retina.api.quota.TenantGates;
import io.retina.platform.audit.AuditRepository;
import io.retina.platform.billing.UsageRepository;
import io.retina.platform.cluster.ClusterMetrics;
import io.retina.platform.cluster.JobEvents;
import io.retina.platform.cluster.Membership;
import io.retina.platform.cluster.RunnerClient;
import io.retina.platform.cluster.RunnerId;
import io.retina.platform.cluster.RunnerLoads;
import io.retina.platform.cluster.RunnerProtocol;
import io.retina.platform.cluster.Scaling;
import io.retina.platform.cluster.ScalingStore;
import io.retina.platform.cluster.WorkerNodes;
import io.retina.platform.jobs.JobAdminQueries;
import io.retina.platform.jobs.JobRetention;
import io.retina.platform.models.ModelArchive;
import io.retina.platform.models.ModelRepository;
import io.retina.platform.tenants.QuotaRepository;
import io.retina.platform.tracing.Tracing;
import io.retina.platform.training.TrainingRepository;
import io.retina.platform.webhooks.WebhookSender;
import io.retina.platform.webhooks.WebhookSettings;
import io.retina.platform.webhooks.WebhookStore;
import io.retina.workers.devices.Devices;
import io.retina.workers.models.ArtifactStore;
import io.retina.workers.models.ModelLoader;
import io.retina.workers.recovery.Sweeper;
import io.retina.workers.runners.Autoscaler;
import io.retina.workers.runners.ModelRunner;
import io.retina.workers.runners.ReplicaHost;
import io.retina.workers.runners.Residency;
import io.retina.workers.runners.WorkerContext;
import io.retina.workers.runners.WorkerMetrics;
import io.retina.workers.tfjs.GraphInspector;
import io.retina.workers.training.TrainingWorker;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's root actor: joins the cluster, then starts what the node's roles call for: the model
 * runners and the sweeper on a worker, the HTTP server on an api node (a worker-only node serves
 * only its metrics and health there). Completes {@code bound} with the HTTP port once the node
 * serves.
 */
final class Guardian {
  private static final Logger log = LoggerFactory.getLogger(Guardian.class);

  /** The guardian takes no messages; it only owns the node's actors. */
  interface Command {}

  private Guardian() {}

  static Behavior<Command> create(Node.Services s, CompletableFuture<Integer> bound) {
    return Behaviors.setup(
        ctx -> {
          ActorSystem<?> system = ctx.getSystem();
          Cluster cluster = Cluster.get(system);
          if (s.config().getStringList("pekko.cluster.seed-nodes").isEmpty()) {
            cluster.manager().tell(Join.create(cluster.selfMember().address()));
          }
          ClusterMetrics.bindMembership(system, s.metrics().registry());
          Executor blocking =
              system
                  .dispatchers()
                  .lookup(DispatcherSelector.fromConfig("retina-blocking-dispatcher"));
          Executor store =
              system.dispatchers().lookup(DispatcherSelector.fromConfig("retina-store-dispatcher"));
          var topic = JobEvents.topic(system);
          var loads = RunnerLoads.topic(system);
          String nodeName = cluster.selfMember().address().toString();
          Tracing tracing = NodeTracing.start(system, s.config(), nodeName, s.roles());

          if (s.roles().contains("worker")) {
            var w = s.config().getConfig("retina.workers");
            var device = Devices.current();
            ctx.getLog().info("worker runs models on {}", device.description());
            Gauge.builder("retina.worker.gpu", () -> device.kind().equals("gpu") ? 1 : 0)
                .description("1 when this worker runs models on a GPU, 0 on the CPU.")
                .register(s.metrics().registry());
            var scaling = w.getConfig("scaling");
            WorkerContext worker =
                new WorkerContext(
                    s.leases(),
                    new ModelLoader(s.models(), s.modelCache(), nodeName),
                    new ScalingStore(s.database().tx()),
                    Scaling.defaults(scaling),
                    new Autoscaler.Settings(
                        scaling.getDuration("up-after"),
                        scaling.getDuration("idle-before-down"),
                        scaling.getDuration("cooldown")),
                    w.getDuration("lease"),
                    w.getInt("parallelism"),
                    w.getInt("pipeline"),
                    batching(w.getString("batching"), device),
                    blocking,
                    nodeName,
                    device.kind(),
                    topic,
                    loads,
                    ctx.spawn(residency(s, nodeName, device, blocking), "model-residency"),
                    new WorkerMetrics(s.metrics().registry()),
                    tracing);
            var host = ctx.spawn(ReplicaHost.create(worker), "replica-host");
            drainOnShutdown(system, host);
            ModelRunner.init(system, worker);
            preload(system, s.models(), w.getString("preload"), blocking);
            ClusterMetrics.bindSharding(system, s.metrics().registry(), RunnerProtocol.ENTITY_KEY);
            pruneUploads(system, s, nodeName, w.getDuration("prune-uploads-every"), blocking);
            if (w.getBoolean("training.enabled")) {
              startTrainer(system, s, nodeName, w.getConfig("training"));
            }
            Sweeper.init(
                system,
                s.leases(),
                new Sweeper.Settings(
                    w.getDuration("sweeper.interval"),
                    w.getDuration("sweeper.unclaimed-after"),
                    w.getInt("sweeper.batch")),
                blocking);
          } else {
            RunnerClient.initProxy(system);
          }

          if (s.roles().contains("api")) {
            var sharding = ClusterSharding.get(system);
            var quotas = new QuotaRepository(s.database().tx());
            var runnerLoads = RunnerLoads.subscribe(system, loads);
            TenantGate.init(system, quotas, store);
            ClusterMetrics.bindSharding(system, s.metrics().registry(), TenantGate.ENTITY_KEY);
            var webhooks = new WebhookStore(s.database().tx());
            var webhookSettings = WebhookSettings.from(s.config().getConfig("retina.webhooks"));
            startWebhookSender(system, webhooks, webhookSettings, nodeName, s);
            var retention = new JobRetention(s.database().tx());
            purgeImages(
                system, retention, s.config().getDuration("retina.retention.purge-every"), store);
            ApiContext api =
                new ApiContext(
                    ApiSettings.from(s.config()),
                    new Authenticator(s.tenants(), s.adminToken()),
                    s.tenants(),
                    quotas,
                    new UsageRepository(s.database().tx()),
                    new AuditRepository(s.database().tx()),
                    new TenantGates(system),
                    s.jobs(),
                    s.submissions(),
                    new JobAdminQueries(s.database().tx()),
                    s.models(),
                    new GraphInspector(),
                    new RunnerCapacity(runnerLoads),
                    new RunnerClient(system),
                    runnerLoads,
                    new ScalingStore(s.database().tx()),
                    Scaling.defaults(s.config().getConfig("retina.workers.scaling")),
                    new JobWaiters(system, topic),
                    s.metrics(),
                    () -> readiness(s, cluster),
                    new WorkerNodes(s.database().tx()),
                    () -> Membership.of(system),
                    webhooks,
                    webhookSettings,
                    retention,
                    new TrainingRepository(s.database().tx()),
                    new io.retina.platform.overview.PlatformOverview(s.database().tx()),
                    store,
                    tracing);
            new ApiServer(api, system).start().whenComplete(reportBinding(bound, system));
          } else {
            // a worker-only node serves its metrics and health on the HTTP port, nothing else
            var settings = ApiSettings.from(s.config());
            org.apache.pekko.http.javadsl.Http.get(system)
                .newServerAt(settings.host(), settings.port())
                .bind(
                    new WorkerOpsRoutes(s.metrics(), () -> readiness(s, cluster), blocking).route())
                .whenComplete(reportBinding(bound, system));
          }
          return Behaviors.empty();
        });
  }

  /**
   * Completes {@code bound} with the port the HTTP server bound, or its failure; a bound server
   * stops with the node's coordinated shutdown.
   */
  private static java.util.function.BiConsumer<
          org.apache.pekko.http.javadsl.ServerBinding, Throwable>
      reportBinding(CompletableFuture<Integer> bound, ActorSystem<?> system) {
    return (binding, error) -> {
      if (error != null) {
        bound.completeExceptionally(error);
      } else {
        binding.addToCoordinatedShutdown(java.time.Duration.ofSeconds(10), system);
        bound.complete(binding.localAddress().getPort());
      }
    };
  }

  /**
   * Deletes, now and then, finished jobs' images whose retention period is over, a batch at a time
   * until none is due; every api node does, each skipping the jobs another is purging. A failed
   * pass is logged and the next one retries.
   */
  private static void purgeImages(
      ActorSystem<?> system, JobRetention retention, Duration every, Executor store) {
    system
        .scheduler()
        .scheduleWithFixedDelay(
            every,
            every,
            () -> {
              try {
                JobRetention.Purged p;
                do {
                  p = retention.purge(PURGE_BATCH);
                  if (p.inputs() + p.outputs() > 0) {
                    log.info(
                        "retention: deleted {} inputs and {} results of finished jobs",
                        p.inputs(),
                        p.outputs());
                  }
                } while (p.more());
              } catch (Exception e) {
                log.warn("could not purge finished jobs' images: {}", e.toString());
              }
            },
            org.apache.pekko.dispatch.ExecutionContexts.fromExecutor(store));
  }

  /**
   * Has the runner of each model named in {@code names} (comma-separated, {@code
   * retina.workers.preload}) place and load its active version now, so that its first jobs do not
   * wait for the load. Every worker node asks as it starts; a runner whose replicas are already
   * placed does nothing more. A name without an active version is logged and skipped.
   */
  private static void preload(
      ActorSystem<?> system, ModelRepository models, String names, Executor blocking) {
    var runners = new RunnerClient(system);
    for (String name : NodeConfig.commaSeparated(names)) {
      CompletableFuture.supplyAsync(() -> models.findActive(name), blocking)
          .whenComplete(
              (version, error) -> {
                if (error != null) {
                  log.warn(
                      "preload of '{}': its active version not read: {}", name, error.toString());
                } else if (version.isEmpty()) {
                  log.warn("preload of '{}': no model of that name has an active version", name);
                } else {
                  log.info("preloading {}", version.get().ref());
                  runners.prepare(RunnerId.of(version.get()), "preloaded as a worker node started");
                }
              });
    }
  }

  /** Jobs one purge pass handles, for each kind of image. */
  private static final int PURGE_BATCH = 500;

  /**
   * Sends the store's due webhook deliveries from this node, beside any other api node's sender,
   * until the node stops; a delivery this node had claimed when it stopped is sent by another after
   * its lease.
   */
  private static void startWebhookSender(
      ActorSystem<?> system,
      WebhookStore webhooks,
      WebhookSettings settings,
      String nodeName,
      Node.Services s) {
    WebhookSender sender =
        new WebhookSender(webhooks, settings, nodeName, s.metrics().registry()).start();
    CoordinatedShutdown.get(system)
        .addTask(
            CoordinatedShutdown.PhaseServiceUnbind(),
            "stop-webhook-sender",
            () -> {
              sender.close();
              return CompletableFuture.completedFuture(org.apache.pekko.Done.getInstance());
            });
  }

  /**
   * On shutdown, before this node's shards hand off, its replicas hand back what they have not
   * started and finish what they have; the phase's timeout (cluster.conf) bounds the wait. Before
   * the handoff, not during it: a draining replica's last reports to its runner would otherwise
   * wait in a shard region that is closing, and hold up its closing.
   */
  /**
   * Starts this worker's trainer; a stopping node lets the training in progress reach its epoch's
   * end and hands it back, so another worker resumes it at once rather than when its lease ends.
   */
  private static void startTrainer(
      ActorSystem<?> system, Node.Services s, String nodeName, Config t) {
    TrainingWorker trainer =
        new TrainingWorker(
            new TrainingRepository(s.database().tx()),
            s.modelCache(),
            nodeName,
            new TrainingWorker.Settings(
                t.getDuration("poll"),
                t.getDuration("lease"),
                t.getLong("price-per-image-micros"),
                t.getLong("price-per-megapixel-micros")));
    trainer.start();
    CoordinatedShutdown.get(system)
        .addTask(
            CoordinatedShutdown.PhaseBeforeClusterShutdown(),
            "hand-back-training",
            () ->
                CompletableFuture.supplyAsync(
                    () -> {
                      trainer.stop(Duration.ofSeconds(50));
                      trainer.close();
                      return org.apache.pekko.Done.getInstance();
                    }));
  }

  private static void drainOnShutdown(
      ActorSystem<?> system, org.apache.pekko.actor.typed.ActorRef<ReplicaHost.Command> host) {
    CoordinatedShutdown.get(system)
        .addTask(
            CoordinatedShutdown.PhaseBeforeClusterShutdown(),
            "drain-replicas",
            () ->
                AskPattern.ask(
                    host, ReplicaHost.DrainAll::new, Duration.ofSeconds(55), system.scheduler()));
  }

  /**
   * This worker node's residency keeper, which also writes the node's heartbeat (device, versions
   * in memory) to the store for the admin API; a failed write is logged and the next beat retries.
   */
  private static Behavior<Residency.Command> residency(
      Node.Services s, String nodeName, Devices.Device device, Executor blocking) {
    var r = s.config().getConfig("retina.workers.residency");
    long budget = r.getBytes("memory-budget");
    Duration every = r.getDuration("heartbeat");
    WorkerNodes nodes = new WorkerNodes(s.database().tx());
    List<String> roles = s.roles().stream().sorted().toList();
    Residency.Heartbeat heartbeat =
        new Residency.Heartbeat(
            every,
            resident -> {
              var beat =
                  new WorkerNodes.Beat(
                      nodeName,
                      roles,
                      device.kind(),
                      device.description(),
                      budget,
                      resident,
                      every,
                      Instant.now());
              CompletableFuture.runAsync(() -> nodes.beat(beat), blocking)
                  .exceptionally(
                      e -> {
                        log.warn("could not write this node's heartbeat: {}", e.toString());
                        return null;
                      });
            });
    return Residency.create(
        budget,
        Set.copyOf(NodeConfig.commaSeparated(r.getString("pinned"))),
        Clock.systemUTC(),
        heartbeat);
  }

  /**
   * Removes, now and then, the unpacked uploads of retired versions and of versions that failed to
   * load here ({@link ArtifactStore#prune}); a failed pass is logged and the next one retries.
   */
  private static void pruneUploads(
      ActorSystem<?> system, Node.Services s, String nodeName, Duration every, Executor blocking) {
    ArtifactStore artifacts = new ArtifactStore(s.models());
    system
        .scheduler()
        .scheduleWithFixedDelay(
            every,
            every,
            () -> {
              try {
                int removed = artifacts.prune(s.modelCache(), nodeName);
                if (removed > 0) {
                  log.info("removed {} unpacked uploads no longer needed here", removed);
                }
              } catch (Exception e) {
                log.warn("could not prune unpacked uploads: {}", e.toString());
              }
            },
            org.apache.pekko.dispatch.ExecutionContexts.fromExecutor(blocking));
  }

  /** Whether to batch: {@code on}, {@code off}, or {@code auto} (on when models run on a GPU). */
  static boolean batching(String setting, Devices.Device device) {
    return switch (setting.trim().toLowerCase()) {
      case "on", "true" -> true;
      case "off", "false" -> false;
      case "auto" -> device.kind().equals("gpu");
      default ->
          throw new IllegalArgumentException(
              "retina.workers.batching is on, off or auto, not '" + setting + "'");
    };
  }

  /** Why this node is not ready to serve, if it isn't: empty when ready. */
  static List<String> readiness(Node.Services s, Cluster cluster) {
    List<String> reasons = new ArrayList<>();
    if (!s.database().isReachable()) {
      reasons.add("the store is unreachable");
    }
    if (cluster.selfMember().status() != MemberStatus.up()) {
      reasons.add("not yet an active cluster member");
    }
    if (s.roles().contains("worker") && reasons.isEmpty()) {
      for (var v : s.models().listServable()) {
        if (ModelArchive.isStored(v) || ModelArchive.hasNoArtifact(v)) {
          // uploaded artifacts live in the store and are fetched when first needed; some tasks
          // need no artifact at all
          continue;
        }
        String root = v.artifact().get("root");
        if (!Files.isRegularFile(s.modelCache().resolve(root).resolve(".verified"))) {
          reasons.add("model " + v.ref() + " has no verified artifact in " + s.modelCache());
        }
      }
    }
    return reasons;
  }
}
