package io.retina.api.ops;

import io.retina.api.ApiContext;
import io.retina.api.http.Responses;
import io.retina.platform.metrics.MetricsRegistry;
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
  private final ApiContext api;

  public OpsRoutes(ApiContext api) {
    this.api = api;
  }

  /** Prometheus's text exposition format, version 0.0.4, as its scrapers ask for it. */
  private static final ContentType METRICS_TYPE = ContentTypes.parse(MetricsRegistry.CONTENT_TYPE);

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
                            getFromResourceDirectory("web")))));
  }

  private Route ready() {
    return completeWithFuture(
        CompletableFuture.supplyAsync(
            () -> {
              List<String> problems = api.readiness().get();
              return problems.isEmpty()
                  ? Responses.ok(Map.of("status", "ready"))
                  : Responses.json(503, Map.of("status", "not-ready", "reasons", problems));
            },
            api.store()));
  }
}
