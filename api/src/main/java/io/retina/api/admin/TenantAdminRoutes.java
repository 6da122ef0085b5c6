package io.retina.api.admin;

import com.fasterxml.jackson.databind.JsonNode;
import io.retina.api.ApiContext;
import io.retina.api.http.JsonBodies;
import io.retina.api.http.Problem;
import io.retina.api.http.Responses;
import io.retina.platform.store.StoreException;
import io.retina.platform.tenants.ApiKey;
import io.retina.platform.tenants.QuotaOverrides;
import io.retina.platform.tenants.Tenant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.Location;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Tenants, their API keys and their quotas under {@code /admin/tenants}. A key's secret is in the
 * response that issues it and nowhere else, ever. Suspending or deleting a tenant stops its keys at
 * once on every node: keys are checked against the store on every request.
 */
final class TenantAdminRoutes extends AdminDirectives {
  private static final String NAME_PATTERN = "[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}";

  TenantAdminRoutes(ApiContext api) {
    super(api);
  }

  Route route() {
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
                                                    .map(TenantAdminRoutes::tenant)
                                                    .toList()))))),
                pathPrefix(PathMatchers.segment(), this::oneTenant)));
  }

  private Route oneTenant(String id) {
    return concat(
        pathEnd(
            () ->
                concat(
                    get(() -> admin(r -> Responses.ok(tenant(find(id))))),
                    patch(() -> withBody((r, body) -> updateTenant(id, body))),
                    delete(() -> admin(r -> deleteTenant(id))))),
        path(
            "quota",
            () ->
                concat(
                    get(() -> admin(r -> quota(find(id)))),
                    put(() -> withBody((r, body) -> setQuota(id, body))))),
        pathPrefix(
            "keys",
            () ->
                concat(
                    pathEnd(
                        () ->
                            concat(
                                post(() -> withBody((r, body) -> issueKey(id, body))),
                                get(
                                    () ->
                                        admin(
                                            r ->
                                                Responses.ok(
                                                    api.tenants().listKeys(find(id).id()).stream()
                                                        .map(TenantAdminRoutes::key)
                                                        .toList()))))),
                    pathPrefix(
                        PathMatchers.segment(),
                        keyId ->
                            concat(
                                pathEnd(() -> delete(() -> admin(r -> revokeKey(id, keyId)))),
                                path(
                                    "rotate",
                                    () -> post(() -> admin(r -> rotateKey(id, keyId)))))))));
  }

  private HttpResponse createTenant(HttpRequest request, JsonNode body) {
    String name = JsonBodies.text(body, "name", 64);
    if (!name.matches(NAME_PATTERN)) {
      throw Problem.unprocessable(
              "invalid-field",
              "A tenant name is letters, digits, space, '.', '_' or '-', up to 64.")
          .with("field", "name");
    }
    String plan = body.hasNonNull("plan") ? knownPlan(body.get("plan").asText()) : null;
    Tenant t;
    try {
      t = api.tenants().create(name);
    } catch (StoreException e) {
      if ("23505".equals(e.sqlState())) {
        throw Problem.conflict("tenant-exists", "A tenant named '" + name + "' exists already.");
      }
      throw e;
    }
    if (plan != null) {
      api.tenants().setPlan(t.id(), plan);
      t = api.tenants().find(t.id()).orElseThrow();
    }
    api.audit()
        .record(
            ACTOR,
            "tenant.create",
            "tenant",
            t.id().toString(),
            Map.of("name", name, "plan", t.plan()));
    return Responses.json(201, tenant(t)).addHeader(Location.create("/admin/tenants/" + t.id()));
  }

  private HttpResponse updateTenant(String id, JsonNode body) {
    Tenant t = find(id);
    if (t.status() == Tenant.Status.DELETED) {
      throw Problem.conflict("tenant-deleted", "The tenant was deleted; it cannot be changed.");
    }
    String status = body.hasNonNull("status") ? body.get("status").asText() : null;
    if (status != null && !status.equals("active") && !status.equals("suspended")) {
      throw Problem.unprocessable("invalid-field", "status is 'active' or 'suspended'.")
          .with("field", "status");
    }
    String plan = body.hasNonNull("plan") ? knownPlan(body.get("plan").asText()) : null;
    if (status == null && plan == null) {
      throw Problem.unprocessable("invalid-field", "Send 'status' and/or 'plan' to change.");
    }
    Map<String, Object> changes = new LinkedHashMap<>();
    if (status != null) {
      api.tenants().setStatus(t.id(), Tenant.Status.valueOf(status.toUpperCase()));
      changes.put("status", status);
    }
    if (plan != null) {
      api.tenants().setPlan(t.id(), plan);
      changes.put("plan", plan);
      api.gates().quotaChanged(t.id());
    }
    api.audit().record(ACTOR, "tenant.update", "tenant", t.id().toString(), changes);
    return Responses.ok(tenant(api.tenants().find(t.id()).orElseThrow()));
  }

  /** The plan named, if it exists; a 422 otherwise. */
  private String knownPlan(String plan) {
    boolean known = api.quotas().plans().stream().anyMatch(p -> p.plan().equals(plan));
    if (!known) {
      throw Problem.unprocessable(
              "invalid-field", "No plan '" + plan + "'; GET /admin/plans lists them.")
          .with("field", "plan");
    }
    return plan;
  }

  private HttpResponse deleteTenant(String id) {
    Tenant t = find(id);
    if (!api.tenants().delete(t.id())) {
      return HttpResponse.create().withStatus(204);
    }
    api.gates().quotaChanged(t.id());
    api.audit()
        .record(ACTOR, "tenant.delete", "tenant", t.id().toString(), Map.of("name", t.name()));
    return HttpResponse.create().withStatus(204);
  }

  private HttpResponse quota(Tenant t) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("effective", api.quotas().effective(t.id()).orElseThrow());
    body.put("overrides", api.quotas().overrides(t.id()));
    return Responses.ok(body);
  }

  private HttpResponse setQuota(String id, JsonNode body) {
    Tenant t = find(id);
    QuotaOverrides o =
        new QuotaOverrides(
            positiveDouble(body, "ratePerSecond"),
            positiveInt(body, "burst"),
            positiveInt(body, "maxConcurrentJobs"),
            positiveLong(body, "maxPixels"),
            body.hasNonNull("monthlySpendCapMicros")
                ? nonNegativeLong(body, "monthlySpendCapMicros")
                : null);
    api.quotas().setOverrides(t.id(), o);
    api.gates().quotaChanged(t.id());
    api.audit().record(ACTOR, "quota.set", "tenant", t.id().toString(), Map.of("overrides", o));
    return quota(t);
  }

  private static Double positiveDouble(JsonNode body, String field) {
    JsonNode v = body.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    // the column keeps three decimals: 0.001 a second (one job in about 17 minutes) is the least
    if (!v.isNumber() || v.asDouble() < 0.001 || v.asDouble() > 1e6) {
      throw invalidNumber(field);
    }
    return v.asDouble();
  }

  private static Integer positiveInt(JsonNode body, String field) {
    JsonNode v = body.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.canConvertToInt() || !v.isIntegralNumber() || v.asInt() <= 0) {
      throw invalidNumber(field);
    }
    return v.asInt();
  }

  private static Long positiveLong(JsonNode body, String field) {
    Long v = nonNegativeLong(body, field);
    if (v != null && v == 0) {
      throw invalidNumber(field);
    }
    return v;
  }

  private static Long nonNegativeLong(JsonNode body, String field) {
    JsonNode v = body.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < 0) {
      throw invalidNumber(field);
    }
    return v.asLong();
  }

  private static Problem invalidNumber(String field) {
    return Problem.unprocessable(
            "invalid-field", "'" + field + "' must be a positive number or null.")
        .with("field", field);
  }

  private HttpResponse issueKey(String tenantId, JsonNode body) {
    Tenant t = find(tenantId);
    if (t.status() == Tenant.Status.DELETED) {
      throw Problem.conflict("tenant-deleted", "The tenant was deleted; it can have no new keys.");
    }
    String name = JsonBodies.text(body, "name", 64);
    var issued = api.tenants().issueKey(t.id(), name);
    api.audit()
        .record(
            ACTOR,
            "key.issue",
            "api_key",
            issued.key().id().toString(),
            Map.of("tenant", t.id().toString(), "name", name));
    return Responses.json(201, withSecret(issued));
  }

  private HttpResponse revokeKey(String tenantId, String keyId) {
    Tenant t = find(tenantId);
    UUID id = uuid(keyId).orElseThrow(() -> keyNotFound(keyId));
    if (!api.tenants().revokeKey(t.id(), id)) {
      throw keyNotFound(keyId);
    }
    api.audit().record(ACTOR, "key.revoke", "api_key", keyId, Map.of("tenant", t.id().toString()));
    return HttpResponse.create().withStatus(204);
  }

  private HttpResponse rotateKey(String tenantId, String keyId) {
    Tenant t = find(tenantId);
    UUID id = uuid(keyId).orElseThrow(() -> keyNotFound(keyId));
    var issued = api.tenants().rotateKey(t.id(), id).orElseThrow(() -> keyNotFound(keyId));
    api.audit()
        .record(
            ACTOR,
            "key.rotate",
            "api_key",
            keyId,
            Map.of("tenant", t.id().toString(), "replacement", issued.key().id().toString()));
    return Responses.json(201, withSecret(issued));
  }

  private static Map<String, Object> withSecret(
      io.retina.platform.tenants.TenantRepository.IssuedKey issued) {
    Map<String, Object> json = key(issued.key());
    json.put("secret", issued.secret());
    return json;
  }

  private static Problem keyNotFound(String keyId) {
    return Problem.notFound("key-not-found", "No key " + keyId + " of this tenant.");
  }

  private Tenant find(String id) {
    return uuid(id)
        .flatMap(api.tenants()::find)
        .orElseThrow(() -> Problem.notFound("tenant-not-found", "No tenant " + id + "."));
  }

  static Map<String, Object> tenant(Tenant t) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", t.id().toString());
    m.put("name", t.name());
    m.put("status", t.status().dbValue());
    m.put("plan", t.plan());
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
