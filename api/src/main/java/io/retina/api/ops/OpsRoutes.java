package io.retina.api.ops;

import io.retina.api.ApiContext;
import io.retina.api.http.Responses;
import io.retina.platform.metrics.NodeMetrics;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Operations endpoints, unauthenticated: liveness, readiness, Prometheus metrics, the OpenAPI
 * description and the admin console's static files (the console itself asks for the admin token).
 */
public final class OpsRoutes extends AllDirectives {
  /** Chart.js from its WebJar (web's dependency), for the console's overview; no CDN. */
  static final String CHART_JS = "META-INF/resources/webjars/chart.js/4.4.1/dist/chart.umd.js";

  private final ApiContext api;

  public OpsRoutes(ApiContext api) {
    this.api = api;
  }

  /** Prometheus's text exposition format, version 0.0.4, as its scrapers ask for it. */
  private static final ContentType METRICS_TYPE = ContentTypes.parse(NodeMetrics.CONTENT_TYPE);

  public Route route() {
    return concat(
        path(
            PathMatchers.segment("health").slash("live"),
            () -> get(() -> complete(Responses.ok(Map.of("status", "live"))))),
        path(PathMatchers.segment("health").slash("ready"), () -> get(this::ready)),
        path(
            "metrics",
            () ->
                get(
                    () ->
                        complete(
                            HttpResponse.create()
                                .withEntity(
                                    METRICS_TYPE,
                                    api.metrics()
                                        .scrape()
                                        .getBytes(java.nio.charset.StandardCharsets.UTF_8))))),
        path(
            "openapi.yaml",
            () ->
                get(
                    () ->
                        getFromResource(
                            "openapi/openapi.yaml",
                            ContentTypes.create(
                                MediaTypes.applicationWithOpenCharset("yaml"),
                                org.apache.pekko.http.javadsl.model.HttpCharsets.UTF_8)))),
        pathSingleSlash(
            () ->
                get(
                    () ->
                        redirect(
                            org.apache.pekko.http.javadsl.model.Uri.create("/console/"),
                            org.apache.pekko.http.javadsl.model.StatusCodes.FOUND))),
        path(
            "console",
            () ->
                get(
                    () ->
                        redirect(
                            org.apache.pekko.http.javadsl.model.Uri.create("/console/"),
                            org.apache.pekko.http.javadsl.model.StatusCodes.MOVED_PERMANENTLY))),
        pathPrefix(
            "console",
            () ->
                get(
                    () ->
                        concat(
                            pathSingleSlash(() -> getFromResource("web/index.html")),
                            path(
                                PathMatchers.segment("vendor").slash("chart.umd.js"),
                                () -> getFromResource(CHART_JS)),
                            getFromResourceDirectory("web")))));
  }

  /**
   * 200 when this node can serve, 503 with the reasons when it can't. A node that serves but has an
   * active version some node failed to load answers 200 with status {@code degraded} and names each
   * such version, the node and the reason, so that a broken model is seen before a tenant's job
   * fails on it.
   */
  private Route ready() {
    return completeWithFuture(
        CompletableFuture.supplyAsync(
            () -> {
              List<String> problems = api.readiness().get();
              if (!problems.isEmpty()) {
                return Responses.json(503, Map.of("status", "not-ready", "reasons", problems));
              }
              List<Map<String, Object>> degraded =
                  api.models().loads().degraded().stream()
                      .map(
                          l ->
                              Map.<String, Object>of(
                                  "model", l.modelName() + "@" + l.version(),
                                  "node", l.node(),
                                  "reason", l.detail(),
                                  "since", l.at().toString()))
                      .toList();
              return Responses.ok(
                  Map.of(
                      "status", degraded.isEmpty() ? "ready" : "degraded", "degraded", degraded));
            },
            api.store()));
  }
}
