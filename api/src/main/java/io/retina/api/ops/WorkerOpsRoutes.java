package io.retina.api.ops;

import io.retina.api.http.Responses;
import io.retina.platform.metrics.NodeMetrics;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * What a node without the api role serves on its HTTP port: {@code /metrics} for Prometheus, and
 * {@code /health/live} and {@code /health/ready} for probes. A worker's job, model and scaling
 * metrics are its own, so a worker tier that served nothing would be invisible to the scraper.
 * Nothing tenants or admins call is here.
 */
public final class WorkerOpsRoutes extends AllDirectives {
  private final NodeMetrics metrics;
  private final Supplier<List<String>> readiness;
  private final Executor blocking;

  public WorkerOpsRoutes(NodeMetrics metrics, Supplier<List<String>> readiness, Executor blocking) {
    this.metrics = metrics;
    this.readiness = readiness;
    this.blocking = blocking;
  }

  public Route route() {
    return concat(
        path(
            PathMatchers.segment("health").slash("live"),
            () -> get(() -> complete(Responses.ok(Map.of("status", "live"))))),
        path(
            PathMatchers.segment("health").slash("ready"),
            () ->
                get(
                    () ->
                        completeWithFuture(
                            CompletableFuture.supplyAsync(
                                () -> {
                                  List<String> problems = readiness.get();
                                  return problems.isEmpty()
                                      ? Responses.ok(Map.of("status", "ready"))
                                      : Responses.json(
                                          503, Map.of("status", "not-ready", "reasons", problems));
                                },
                                blocking)))),
        path(
            "metrics",
            () ->
                get(
                    () ->
                        complete(
                            HttpResponse.create()
                                .withEntity(
                                    ContentTypes.parse(NodeMetrics.CONTENT_TYPE),
                                    metrics
                                        .scrape()
                                        .getBytes(java.nio.charset.StandardCharsets.UTF_8))))));
  }
}
