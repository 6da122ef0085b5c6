package io.retina.api;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter.MeterProvider;
import io.micrometer.core.instrument.Timer;
import io.retina.api.account.AccountRoutes;
import io.retina.api.admin.AdminRoutes;
import io.retina.api.http.BodyBudget;
import io.retina.api.http.Problem;
import io.retina.api.http.RequestTracing;
import io.retina.api.http.SecurityHeaders;
import io.retina.api.jobs.JobRoutes;
import io.retina.api.models.ModelRoutes;
import io.retina.api.ops.OpsRoutes;
import io.retina.api.training.TrainingRoutes;
import io.retina.api.webhooks.WebhookRoutes;
import io.retina.platform.metrics.NodeMetrics;
import io.retina.platform.tracing.Tracing;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.ExceptionHandler;
import org.apache.pekko.http.javadsl.server.MethodRejection;
import org.apache.pekko.http.javadsl.server.RejectionHandler;
import org.apache.pekko.http.javadsl.server.Route;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The API role's HTTP server: the tenant API ({@code /v1}), the admin API ({@code /admin}) and the
 * operations endpoints, with every failure rendered as problem+json.
 */
public final class ApiServer extends AllDirectives {
  private static final Logger log = LoggerFactory.getLogger(ApiServer.class);

  private final ApiContext api;
  private final ActorSystem<?> system;
  private final MeterProvider<Counter> requests;
  private final MeterProvider<Timer> latency;
  private final BodyBudget bodies;
  private final RequestTracing tracing;

  public ApiServer(ApiContext api, ActorSystem<?> system) {
    this.api = api;
    this.system = system;
    var registry = api.metrics().registry();
    this.requests =
        Counter.builder("retina.http.requests")
            .description("HTTP requests answered.")
            .withRegistry(registry);
    this.latency =
        Timer.builder("retina.http.request")
            .description("Time to answer an HTTP request.")
            .serviceLevelObjectives(NodeMetrics.LATENCY_BUCKETS)
            .withRegistry(registry);
    this.bodies = new BodyBudget(api.settings().maxBodyBytesInFlight());
    this.tracing = new RequestTracing(api.tracing());
    Gauge.builder("retina.http.body.in.flight", bodies::inFlight)
        .description("Bytes of request bodies this node holds in memory now.")
        .baseUnit("bytes")
        .register(registry);
  }

  public CompletionStage<ServerBinding> start() {
    return Http.get(system).newServerAt(api.settings().host(), api.settings().port()).bind(route());
  }

  /** The whole API; the routes are built once, errors are rendered per request. */
  public Route route() {
    Route jobs = new JobRoutes(api, system, bodies).route();
    Route models = new ModelRoutes(api).route();
    Route account = new AccountRoutes(api).route();
    Route admin = new AdminRoutes(api).route();
    Route ops = new OpsRoutes(api).route();
    Route webhooks = new WebhookRoutes(api).route();
    Route trainings = new TrainingRoutes(api, system, bodies).route();
    Route endpoints =
        handleRejections(
            rejections(),
            () ->
                concat(
                    pathPrefix("v1", () -> concat(jobs, models, account, webhooks, trainings)),
                    pathPrefix("admin", () -> admin),
                    ops));
    Route measured =
        extractRequest(
            request -> {
              long start = System.nanoTime();
              String path = request.getUri().path();
              return mapResponse(
                  response -> {
                    String method = request.method().value();
                    String status = Integer.toString(response.status().intValue());
                    requests.withTags("method", method, "status", status).increment();
                    latency
                        .withTags("method", method)
                        .record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
                    return SecurityHeaders.apply(path, response);
                  },
                  () ->
                      withRequestTimeoutResponse(
                          ApiServer::timedOut,
                          () ->
                              handleExceptions(
                                  exceptions(request),
                                  () -> {
                                    refuseNul(request);
                                    return endpoints;
                                  })));
            });
    return extractRequest(request -> tracing.traced(request, () -> measured));
  }

  /** What a client sees when its request took longer than {@code request-timeout}. */
  private static HttpResponse timedOut(HttpRequest request) {
    String path = request.getUri().path();
    return SecurityHeaders.apply(
        path,
        new Problem(
                503,
                "response-timeout",
                "Service unavailable",
                "The node did not answer in time; retry shortly.")
            .withHeader(RawHeader.create("Retry-After", "5"))
            .toResponse(path));
  }

  /**
   * PostgreSQL text cannot hold U+0000, so a name or description with one would fail in the store:
   * it is refused here for every path segment and query parameter alike.
   */
  private static void refuseNul(HttpRequest request) {
    var uri = request.getUri();
    boolean nul =
        java.util.stream.StreamSupport.stream(uri.pathSegments().spliterator(), false)
                .anyMatch(segment -> segment.indexOf('\u0000') >= 0)
            || uri.query().toList().stream()
                .anyMatch(
                    p -> p.first().indexOf('\u0000') >= 0 || p.second().indexOf('\u0000') >= 0);
    if (nul) {
      throw Problem.badRequest(
          "invalid-character", "Names, parameters and text may not contain U+0000 (NUL).");
    }
  }

  private ExceptionHandler exceptions(HttpRequest request) {
    return ExceptionHandler.newBuilder()
        .match(Throwable.class, e -> complete(render(unwrap(e), request)))
        .build();
  }

  private static Throwable unwrap(Throwable e) {
    Throwable t = e;
    while ((t instanceof CompletionException
            || t instanceof java.util.concurrent.ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  private static HttpResponse render(Throwable e, HttpRequest request) {
    String instance = request.getUri().path();
    if (e instanceof Problem p) {
      return p.toResponse(instance);
    }
    if (e instanceof org.apache.pekko.http.scaladsl.model.EntityStreamSizeException) {
      return Problem.tooLarge("payload-too-large", "The body is larger than this endpoint accepts.")
          .toResponse(instance);
    }
    if (e instanceof org.apache.pekko.http.scaladsl.model.EntityStreamException) {
      // the client stopped sending mid-body (it closed, or broke the framing): nobody's fault here
      return Problem.badRequest("bad-request", "The body ended before it was complete.")
          .toResponse(instance);
    }
    if (e instanceof org.apache.pekko.http.scaladsl.model.IllegalRequestException) {
      return Problem.badRequest("bad-request", e.getMessage()).toResponse(instance);
    }
    try (var logged = Tracing.logged(RequestTracing.context(request))) {
      log.error("unhandled failure on {} {}", request.method().value(), instance, e);
    }
    return new Problem(
            500, "internal-error", "Internal error", "The server failed to answer; it is logged.")
        .toResponse(instance);
  }

  private RejectionHandler rejections() {
    return RejectionHandler.newBuilder()
        .handleAll(
            MethodRejection.class,
            rs ->
                complete(
                    new Problem(
                            405,
                            "method-not-allowed",
                            "Method not allowed",
                            "Allowed: "
                                + rs.stream().map(r -> r.supported().value()).distinct().toList())
                        .withHeader(
                            RawHeader.create(
                                "Allow",
                                String.join(
                                    ", ",
                                    rs.stream()
                                        .map(r -> r.supported().value())
                                        .distinct()
                                        .toList())))
                        .toResponse(null)))
        .handleNotFound(
            complete(
                Problem.notFound("not-found", "No such endpoint; see /openapi.yaml.")
                    .toResponse(null)))
        .build()
        .withFallback(RejectionHandler.defaultHandler())
        .mapRejectionResponse(
            response -> {
              if (response
                  .entity()
                  .getContentType()
                  .mediaType()
                  .toString()
                  .contains("problem+json")) {
                return response;
              }
              String detail =
                  response.entity()
                          instanceof org.apache.pekko.http.javadsl.model.HttpEntity.Strict s
                      ? s.getData().utf8String()
                      : response.status().reason();
              int status = response.status().intValue();
              return new Problem(
                      status, Problem.slugFor(status), response.status().reason(), detail)
                  .toResponse(null)
                  .addHeaders(response.getHeaders());
            });
  }
}
