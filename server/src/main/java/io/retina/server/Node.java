package io.retina.server;

import com.typesafe.config.Config;
import io.retina.platform.jobs.JobLeases;
import io.retina.platform.jobs.JobRepository;
import io.retina.platform.jobs.JobSubmissions;
import io.retina.platform.metrics.NodeMetrics;
import io.retina.platform.models.BuiltinCatalog;
import io.retina.platform.models.ModelRepository;
import io.retina.platform.store.Database;
import io.retina.platform.tenants.TenantRepository;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Retina node: its store, its registered catalog, and an actor system playing the roles its
 * config names. {@link #start} returns once the node is serving; {@link #stop} (or SIGTERM) shuts
 * it down in order: stop taking requests, hand back or finish work, leave the cluster, close the
 * store.
 */
public final class Node {
  private static final Logger log = LoggerFactory.getLogger(Node.class);

  /** What the guardian needs to start the roles. */
  record Services(
      Config config,
      Set<String> roles,
      Database database,
      TenantRepository tenants,
      JobRepository jobs,
      JobSubmissions submissions,
      JobLeases leases,
      ModelRepository models,
      NodeMetrics metrics,
      Path modelCache,
      String adminToken) {}

  private final ActorSystem<Guardian.Command> system;
  private final Database database;
  private final int httpPort;

  private Node(ActorSystem<Guardian.Command> system, Database database, int httpPort) {
    this.system = system;
    this.database = database;
    this.httpPort = httpPort;
  }

  public static Node start(Config config) throws IOException {
    Set<String> roles = NodeConfig.roles(config);
    JitPolicy.apply(config);
    Path dataDir = Path.of(config.getString("retina.node.data-dir")).toAbsolutePath();
    Files.createDirectories(dataDir);
    // before the store starts: a node with an unusable admin token stops here, with the reason
    AdminToken.Resolved admin =
        AdminToken.resolve(config.getString("retina.node.admin-token"), dataDir);
    Database database = Database.open(config.getConfig("retina.store"));
    NodeMetrics metrics = new NodeMetrics();
    database.publishPoolMetrics(metrics.registry());
    try {
      TenantRepository tenants = new TenantRepository(database.tx());
      ModelRepository models = new ModelRepository(database.tx());
      Path modelCache = Path.of(config.getString("retina.workers.model-cache"));
      List<BuiltinCatalog.Entry> catalog = BuiltinCatalog.register(config, modelCache, models);
      log.info("catalog: {}", catalog.stream().map(e -> e.version().ref()).toList());
      Services services =
          new Services(
              config,
              roles,
              database,
              tenants,
              new JobRepository(database.tx()),
              new JobSubmissions(database.tx()),
              new JobLeases(database.tx()),
              models,
              metrics,
              modelCache,
              admin.token());
      CompletableFuture<Integer> bound = new CompletableFuture<>();
      ActorSystem<Guardian.Command> system =
          ActorSystem.create(Guardian.create(services, bound), "retina", config);
      CoordinatedShutdown.get(system)
          .addTask(
              CoordinatedShutdown.PhaseBeforeActorSystemTerminate(),
              "close-store",
              () -> {
                database.close();
                metrics.close();
                return CompletableFuture.completedFuture(Done.getInstance());
              });
      int port;
      try {
        port = bound.get(2, java.util.concurrent.TimeUnit.MINUTES);
      } catch (Exception e) {
        system.terminate();
        throw new IllegalStateException("the node did not start serving", e);
      }
      Node node = new Node(system, database, port);
      if (roles.contains("api")) {
        Welcome.print(config, port, admin, tenants);
      }
      return node;
    } catch (RuntimeException e) {
      database.close();
      metrics.close();
      throw e;
    }
  }

  /**
   * The port the HTTP server listens on: the API on an api node, only metrics and health on a
   * worker-only one.
   */
  public int httpPort() {
    return httpPort;
  }

  public ActorSystem<?> system() {
    return system;
  }

  public Database database() {
    return database;
  }

  /** Shuts the node down gracefully; completes when it is down. */
  public CompletionStage<Done> stop() {
    return CoordinatedShutdown.get(system).runAll(CoordinatedShutdown.unknownReason());
  }
}
