package io.retina.api.admin;

import io.retina.api.ApiContext;
import io.retina.api.http.JsonBodies;
import io.retina.api.http.Problem;
import io.retina.api.http.Responses;
import io.retina.platform.store.StoreException;
import io.retina.platform.tenants.ApiKey;
import io.retina.platform.tenants.Tenant;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.Location;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The admin API under {@code /admin}, behind the admin token: tenants and their API keys. A key's
 * secret is in the response that issues it and nowhere else, ever.
 */
public final class AdminRoutes extends AllDirectives {
  private static final Duration BODY_TIMEOUT = Duration.ofSeconds(10);
  private static final String NAME_PATTERN = "[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}";

  private final ApiContext api;

  public AdminRoutes(ApiContext api) {
    this.api = api;
  }

  public Route route() {
    return pathPrefix(
        "tenants",
        () ->
            concat(
                pathEndOrSingleSlash(
                    () ->
                        concat(
                            post(() -> withBody(this::createTenant)),
                            get(
                                () ->
                                    admin(
                                        r ->
                                            Responses.ok(
                                                api.tenants().list().stream()
                                                    .map(AdminRoutes::tenant)
                                                    .toList()))))),
                pathPrefix(
                    PathMatchers.segment(),
                    id ->
                        concat(
                            pathEnd(() -> get(() -> admin(r -> Responses.ok(tenant(find(id)))))),
                            pathPrefix(
                                "keys",
                                () ->
                                    concat(
                                        pathEnd(
                                            () ->
                                                concat(
                                                    post(
                                                        () ->
                                                            withBody(
                                                                (r, body) -> issueKey(id, body))),
                                                    get(
                                                        () ->
                                                            admin(
                                                                r ->
                                                                    Responses.ok(
                                                                        api
                                                                            .tenants()
                                                                            .listKeys(find(id).id())
                                                                            .stream()
                                                                            .map(AdminRoutes::key)
                                                                            .toList()))))),
                                        path(
                                            PathMatchers.segment(),
                                            keyId ->
                                                delete(
                                                    () -> admin(r -> revokeKey(id, keyId))))))))));
  }

  private Route admin(Function<HttpRequest, HttpResponse> handler) {
    return extractRequest(
        request ->
            completeWithFuture(
                CompletableFuture.supplyAsync(
                    () -> {
                      api.auth().admin(request);
                      return handler.apply(request);
                    },
                    api.store())));
  }

  private interface BodyHandler {
    HttpResponse handle(HttpRequest request, com.fasterxml.jackson.databind.JsonNode body);
  }

  private Route withBody(BodyHandler handler) {
    return withSizeLimit(
        JsonBodies.MAX_BYTES,
        () ->
            extractStrictEntity(
                BODY_TIMEOUT,
                JsonBodies.MAX_BYTES,
                entity -> admin(request -> handler.handle(request, JsonBodies.object(entity)))));
  }

  private HttpResponse createTenant(
      HttpRequest request, com.fasterxml.jackson.databind.JsonNode body) {
    String name = JsonBodies.text(body, "name", 64);
    if (!name.matches(NAME_PATTERN)) {
      throw Problem.unprocessable(
              "invalid-field",
              "A tenant name is letters, digits, space, '.', '_' or '-', up to 64.")
          .with("field", "name");
    }
    try {
      Tenant t = api.tenants().create(name);
      return Responses.json(201, tenant(t)).addHeader(Location.create("/admin/tenants/" + t.id()));
    } catch (StoreException e) {
      if ("23505".equals(e.sqlState())) {
        throw Problem.conflict("tenant-exists", "A tenant named '" + name + "' exists already.");
      }
      throw e;
    }
  }

  private HttpResponse issueKey(String tenantId, com.fasterxml.jackson.databind.JsonNode body) {
    Tenant t = find(tenantId);
    String name = JsonBodies.text(body, "name", 64);
    var issued = api.tenants().issueKey(t.id(), name);
    Map<String, Object> json = key(issued.key());
    json.put("secret", issued.secret());
    return Responses.json(201, json);
  }

  private HttpResponse revokeKey(String tenantId, String keyId) {
    Tenant t = find(tenantId);
    UUID id =
        uuid(keyId).orElseThrow(() -> Problem.notFound("key-not-found", "No key " + keyId + "."));
    if (!api.tenants().revokeKey(t.id(), id)) {
      throw Problem.notFound("key-not-found", "No key " + keyId + ".");
    }
    return HttpResponse.create().withStatus(204);
  }

  private Tenant find(String id) {
    return uuid(id)
        .flatMap(api.tenants()::find)
        .orElseThrow(() -> Problem.notFound("tenant-not-found", "No tenant " + id + "."));
  }

  private static java.util.Optional<UUID> uuid(String id) {
    try {
      return java.util.Optional.of(UUID.fromString(id));
    } catch (IllegalArgumentException e) {
      return java.util.Optional.empty();
    }
  }

  static Map<String, Object> tenant(Tenant t) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", t.id().toString());
    m.put("name", t.name());
    m.put("status", t.status().dbValue());
    m.put("createdAt", t.createdAt().toString());
    return m;
  }

  static Map<String, Object> key(ApiKey k) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", k.id().toString());
    m.put("tenantId", k.tenantId().toString());
    m.put("name", k.name());
    m.put("prefix", k.prefix());
    m.put("createdAt", k.createdAt().toString());
    m.put("lastUsedAt", k.lastUsedAt() == null ? null : k.lastUsedAt().toString());
    m.put("revokedAt", k.revokedAt() == null ? null : k.revokedAt().toString());
    return m;
  }
}
