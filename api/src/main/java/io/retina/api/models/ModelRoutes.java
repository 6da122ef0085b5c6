package io.retina.api.models;

import io.retina.api.ApiContext;
import io.retina.api.http.Responses;
import io.retina.platform.cluster.RunnerId;
import io.retina.platform.models.ModelVersion;
import io.retina.platform.tenants.Tenant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code GET /v1/models}: the catalog a tenant can call, with each version's parameters and price.
 */
public final class ModelRoutes extends AllDirectives {
  private final ApiContext api;

  public ModelRoutes(ApiContext api) {
    this.api = api;
  }

  public Route route() {
    return path(
        "models",
        () ->
            get(
                () ->
                    extractRequest(
                        request ->
                            completeWithFuture(
                                CompletableFuture.supplyAsync(
                                    () -> {
                                      Tenant tenant = api.auth().tenant(request);
                                      return Responses.ok(Map.of("models", catalog(tenant)));
                                    },
                                    api.store())))));
  }

  /** The versions the tenant may run: published ones, and staged ones it is a canary of. */
  private List<Map<String, Object>> catalog(Tenant tenant) {
    Map<String, String> descriptions = api.models().descriptions();
    return api.models().listFor(tenant.id()).stream()
        .map(v -> version(v, descriptions.get(v.ref())))
        .toList();
  }

  private Map<String, Object> version(ModelVersion v, String description) {
    Map<String, Object> m = ModelVersionJson.common(v);
    m.put("description", description);
    m.put("parameters", v.parameters());
    m.put("price", ModelVersionJson.price(v));
    // how long a job submitted now would wait to start, from the version's runner; 0 when idle
    m.put(
        "expectedWaitSeconds",
        Math.round(api.runnerLoads().expectedWaitMillis(RunnerId.of(v)) / 100.0) / 10.0);
    return m;
  }
}
