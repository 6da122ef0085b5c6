package io.retina.api.webhooks;

import com.fasterxml.jackson.databind.JsonNode;
import io.retina.api.ApiContext;
import io.retina.api.http.Ids;
import io.retina.api.http.JsonBodies;
import io.retina.api.http.Problem;
import io.retina.api.http.Responses;
import io.retina.platform.tenants.Tenant;
import io.retina.platform.webhooks.WebhookStore;
import io.retina.platform.webhooks.WebhookTargets;
import io.retina.platform.webhooks.Webhooks;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * A tenant's webhooks under {@code /v1/webhooks}: the secret that signs its jobs' own webhooks, the
 * endpoints it registers for all its jobs, and every delivery with its attempts, which it can send
 * again. Another tenant's endpoint or delivery reads as missing.
 */
public final class WebhookRoutes extends AllDirectives {
  private static final Duration BODY_TIMEOUT = Duration.ofSeconds(10);

  /** The longest grace a rotation may ask for. */
  private static final Duration MAX_GRACE = Duration.ofDays(7);

  private static final int DEFAULT_PAGE = 50;
  private static final int MAX_PAGE = 200;

  private final ApiContext api;

  public WebhookRoutes(ApiContext api) {
    this.api = api;
  }

  public Route route() {
    return pathPrefix(
        "webhooks",
        () ->
            concat(
                pathPrefix(
                    "secret",
                    () ->
                        concat(
                            pathEnd(() -> get(() -> tenant(this::secret))),
                            path("rotate", () -> post(() -> withBody(this::rotateSecret))))),
                pathPrefix(
                    "endpoints",
                    () ->
                        concat(
                            pathEndOrSingleSlash(
                                () ->
                                    concat(
                                        get(() -> tenant(this::endpoints)),
                                        post(() -> withBody(this::createEndpoint)))),
                            pathPrefix(
                                PathMatchers.segment(),
                                id ->
                                    concat(
                                        pathEnd(
                                            () ->
                                                concat(
                                                    get(() -> tenant((r, t) -> endpoint(t, id))),
                                                    delete(
                                                        () ->
                                                            tenant(
                                                                (r, t) -> deleteEndpoint(t, id))))),
                                        path(
                                            "secret",
                                            () ->
                                                get(() -> tenant((r, t) -> endpointSecret(t, id)))),
                                        path(
                                            "rotate",
                                            () ->
                                                post(
                                                    () ->
                                                        withBody(
                                                            (r, t, b) ->
                                                                rotateEndpoint(t, id, b)))),
                                        path(
                                            "enable",
                                            () ->
                                                post(
                                                    () ->
                                                        tenant(
                                                            (r, t) -> enableEndpoint(t, id)))))))),
                pathPrefix(
                    "deliveries",
                    () ->
                        concat(
                            pathEndOrSingleSlash(() -> get(() -> tenant(this::deliveries))),
                            pathPrefix(
                                PathMatchers.segment(),
                                id ->
                                    concat(
                                        pathEnd(() -> get(() -> tenant((r, t) -> delivery(t, id)))),
                                        path(
                                            "redeliver",
                                            () ->
                                                post(
                                                    () ->
                                                        tenant((r, t) -> redeliver(t, id))))))))));
  }

  // ---- the tenant's signing secret ----

  private HttpResponse secret(HttpRequest request, Tenant tenant) {
    return Responses.ok(secretJson(api.webhooks().signingSecret(tenant.id())));
  }

  private HttpResponse rotateSecret(HttpRequest request, Tenant tenant, JsonNode body) {
    return Responses.ok(secretJson(api.webhooks().rotateSigningSecret(tenant.id(), grace(body))));
  }

  // ---- endpoints ----

  private HttpResponse endpoints(HttpRequest request, Tenant tenant) {
    return Responses.ok(
        Map.of(
            "endpoints",
            api.webhooks().endpoints(tenant.id()).stream()
                .map(WebhookRoutes::endpointJson)
                .toList()));
  }

  private HttpResponse createEndpoint(HttpRequest request, Tenant tenant, JsonNode body) {
    if (body == null) {
      throw Problem.badRequest("bad-json", "Send the endpoint as a JSON object with its url.");
    }
    String url = JsonBodies.text(body, "url", WebhookTargets.MAX_LENGTH);
    try {
      WebhookTargets.check(url, api.webhookSettings().policy());
    } catch (WebhookTargets.Refused e) {
      throw Problem.unprocessable("invalid-webhook", e.getMessage()).with("field", "url");
    }
    List<String> events;
    JsonNode given = body.get("events");
    if (given == null || given.isNull()) {
      events = Webhooks.EVENTS;
    } else {
      if (!given.isArray() || given.isEmpty()) {
        throw Problem.unprocessable(
                "invalid-field", "events is a non-empty list of " + Webhooks.EVENTS + ".")
            .with("field", "events");
      }
      List<String> named = new ArrayList<>();
      given.forEach(e -> named.add(e.asText()));
      try {
        events = Webhooks.parseEvents(String.join(",", named));
      } catch (IllegalArgumentException e) {
        throw Problem.unprocessable(
                "invalid-field", "events are from " + Webhooks.EVENTS + "; " + e.getMessage() + ".")
            .with("field", "events");
      }
    }
    String description = "";
    if (body.hasNonNull("description")) {
      if (!body.get("description").isTextual() || body.get("description").asText().length() > 256) {
        throw Problem.unprocessable(
                "invalid-field", "description is text of at most 256 characters.")
            .with("field", "description");
      }
      description = body.get("description").asText();
    }
    WebhookStore.CreatedEndpoint created =
        api.webhooks()
            .createEndpoint(tenant.id(), url, events, description)
            .orElseThrow(
                () ->
                    Problem.conflict(
                            "too-many-endpoints",
                            "A tenant has at most "
                                + WebhookStore.MAX_ENDPOINTS
                                + " webhook endpoints; delete one first.")
                        .with("limit", WebhookStore.MAX_ENDPOINTS));
    Map<String, Object> json = endpointJson(created.endpoint());
    json.put("secret", created.secret());
    return Responses.json(201, json)
        .addHeader(
            org.apache.pekko.http.javadsl.model.headers.Location.create(
                "/v1/webhooks/endpoints/" + created.endpoint().id()));
  }

  private HttpResponse endpoint(Tenant tenant, String id) {
    return Responses.ok(
        endpointJson(
            found(Ids.parse(id).flatMap(u -> api.webhooks().endpoint(tenant.id(), u)), id)));
  }

  private HttpResponse deleteEndpoint(Tenant tenant, String id) {
    if (!Ids.parse(id).map(u -> api.webhooks().deleteEndpoint(tenant.id(), u)).orElse(false)) {
      throw noEndpoint(id);
    }
    return HttpResponse.create().withStatus(StatusCodes.NO_CONTENT);
  }

  private HttpResponse endpointSecret(Tenant tenant, String id) {
    return Responses.ok(
        secretJson(
            found(Ids.parse(id).flatMap(u -> api.webhooks().endpointSecret(tenant.id(), u)), id)));
  }

  private HttpResponse rotateEndpoint(Tenant tenant, String id, JsonNode body) {
    Duration grace = grace(body);
    return Responses.ok(
        secretJson(
            found(
                Ids.parse(id)
                    .flatMap(u -> api.webhooks().rotateEndpointSecret(tenant.id(), u, grace)),
                id)));
  }

  private HttpResponse enableEndpoint(Tenant tenant, String id) {
    return Responses.ok(
        endpointJson(
            found(Ids.parse(id).flatMap(u -> api.webhooks().enableEndpoint(tenant.id(), u)), id)));
  }

  // ---- deliveries ----

  private HttpResponse deliveries(HttpRequest request, Tenant tenant) {
    var query = request.getUri().query();
    UUID job =
        query
            .get("job")
            .map(
                j ->
                    Ids.parse(j)
                        .orElseThrow(
                            () ->
                                Problem.badRequest(
                                    "bad-parameter", "job is a job id, not '" + j + "'.")))
            .orElse(null);
    int limit = DEFAULT_PAGE;
    if (query.get("limit").isPresent()) {
      String l = query.get("limit").get();
      try {
        limit = Integer.parseInt(l);
      } catch (NumberFormatException e) {
        limit = -1;
      }
      if (limit < 1 || limit > MAX_PAGE) {
        throw Problem.badRequest(
            "bad-parameter", "limit is 1 to " + MAX_PAGE + ", not '" + l + "'.");
      }
    }
    return Responses.ok(
        Map.of(
            "deliveries",
            api.webhooks().deliveries(tenant.id(), job, limit).stream()
                .map(d -> deliveryJson(d, false))
                .toList()));
  }

  private HttpResponse delivery(Tenant tenant, String id) {
    WebhookStore.Delivery d =
        Ids.parse(id)
            .flatMap(u -> api.webhooks().delivery(tenant.id(), u))
            .orElseThrow(() -> noDelivery(id));
    Map<String, Object> json = deliveryJson(d, true);
    json.put(
        "attempts",
        api.webhooks().attempts(tenant.id(), d.id()).stream()
            .map(
                a -> {
                  Map<String, Object> m = new LinkedHashMap<>();
                  m.put("attempt", a.attempt());
                  m.put("startedAt", a.startedAt().toString());
                  m.put("latencyMs", a.latencyMs());
                  m.put("statusCode", a.statusCode());
                  m.put("response", a.responseExcerpt());
                  m.put("error", a.error());
                  return m;
                })
            .toList());
    return Responses.ok(json);
  }

  private HttpResponse redeliver(Tenant tenant, String id) {
    WebhookStore.Delivery d =
        Ids.parse(id)
            .flatMap(u -> api.webhooks().redeliver(tenant.id(), u))
            .orElseThrow(() -> noDelivery(id));
    return Responses.json(202, deliveryJson(d, false));
  }

  // ---- JSON ----

  private static Map<String, Object> secretJson(WebhookStore.Secret s) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("secret", s.secret());
    m.put(
        "previousSecretValidUntil",
        s.previousValidUntil() == null ? null : s.previousValidUntil().toString());
    return m;
  }

  private static Map<String, Object> endpointJson(WebhookStore.Endpoint e) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", e.id().toString());
    m.put("url", e.url());
    m.put("events", e.events());
    m.put("description", e.description());
    m.put("enabled", e.enabled());
    m.put("disabledReason", e.disabledReason());
    m.put("failingSince", e.failingSince() == null ? null : e.failingSince().toString());
    m.put(
        "previousSecretValidUntil",
        e.previousSecretValidUntil() == null ? null : e.previousSecretValidUntil().toString());
    m.put("createdAt", e.createdAt().toString());
    return m;
  }

  private static Map<String, Object> deliveryJson(WebhookStore.Delivery d, boolean withBody) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", d.id().toString());
    m.put("jobId", d.jobId().toString());
    m.put("endpointId", d.endpointId() == null ? null : d.endpointId().toString());
    m.put("url", d.url());
    m.put("event", d.event());
    m.put("status", d.status());
    m.put("attemptCount", d.attempts());
    m.put("nextAttemptAt", d.status().equals("pending") ? d.nextAttemptAt().toString() : null);
    m.put("lastStatusCode", d.lastStatusCode());
    m.put("lastError", d.lastError());
    m.put("createdAt", d.createdAt().toString());
    m.put("finishedAt", d.finishedAt() == null ? null : d.finishedAt().toString());
    if (withBody) {
      m.put("body", d.body());
    }
    return m;
  }

  // ---- plumbing ----

  private Duration grace(JsonNode body) {
    if (body == null || !body.has("graceSeconds")) {
      return api.webhookSettings().graceDefault();
    }
    JsonNode g = body.get("graceSeconds");
    if (!g.canConvertToLong()
        || !g.isIntegralNumber()
        || g.asLong() < 0
        || g.asLong() > MAX_GRACE.toSeconds()) {
      throw Problem.unprocessable(
              "invalid-field",
              "graceSeconds is a whole number of seconds from 0 to " + MAX_GRACE.toSeconds() + ".")
          .with("field", "graceSeconds");
    }
    return Duration.ofSeconds(g.asLong());
  }

  private static <T> T found(Optional<T> value, String id) {
    return value.orElseThrow(() -> noEndpoint(id));
  }

  private static Problem noEndpoint(String id) {
    return Problem.notFound("webhook-endpoint-not-found", "No webhook endpoint " + id + ".");
  }

  private static Problem noDelivery(String id) {
    return Problem.notFound("webhook-delivery-not-found", "No webhook delivery " + id + ".");
  }

  private interface TenantHandler {
    HttpResponse handle(HttpRequest request, Tenant tenant);
  }

  private interface BodyHandler {
    HttpResponse handle(HttpRequest request, Tenant tenant, JsonNode body);
  }

  /** Authenticates the tenant and answers on the store executor. */
  private Route tenant(TenantHandler handler) {
    return extractRequest(
        request ->
            completeWithFuture(
                CompletableFuture.supplyAsync(
                    () -> handler.handle(request, api.auth().tenant(request)), api.store())));
  }

  /** Like {@link #tenant}, with a small JSON object body, which may be absent (null). */
  private Route withBody(BodyHandler handler) {
    return withSizeLimit(
        JsonBodies.MAX_BYTES,
        () ->
            extractStrictEntity(
                BODY_TIMEOUT,
                JsonBodies.MAX_BYTES,
                entity ->
                    extractRequest(
                        request -> completeWithFuture(handle(request, entity, handler)))));
  }

  private CompletionStage<HttpResponse> handle(
      HttpRequest request, HttpEntity.Strict entity, BodyHandler handler) {
    return CompletableFuture.supplyAsync(
        () -> {
          Tenant tenant = api.auth().tenant(request);
          JsonNode body = entity.getData().isEmpty() ? null : JsonBodies.object(entity);
          return handler.handle(request, tenant, body);
        },
        api.store());
  }
}
