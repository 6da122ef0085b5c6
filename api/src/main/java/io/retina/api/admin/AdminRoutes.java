package io.retina.api.admin;

import io.retina.api.ApiContext;
import io.retina.api.http.Responses;
import java.util.Map;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The admin API under {@code /admin}, behind the admin token: tenants, keys and quotas, plans,
 * invoices, the model registry, jobs across tenants, the worker nodes and the audit trail. Every
 * change is recorded in the audit trail.
 */
public final class AdminRoutes extends AdminDirectives {
  private final TenantAdminRoutes tenants;
  private final BillingAdminRoutes billing;

  public AdminRoutes(ApiContext api) {
    super(api);
    this.tenants = new TenantAdminRoutes(api);
    this.billing = new BillingAdminRoutes(api);
  }

  public Route route() {
    return concat(
        tenants.route(),
        billing.route(),
        new ModelAdminRoutes(api).route(),
        new ScalingAdminRoutes(api).route(),
        new WorkerAdminRoutes(api).route(),
        new JobAdminRoutes(api).route(),
        new TrainingAdminRoutes(api).route(),
        new OverviewAdminRoutes(api).route(),
        path(
            "storage",
            () ->
                get(
                    () ->
                        admin(
                            r ->
                                Responses.ok(
                                    Map.of(
                                        "tenants",
                                        api.retention().storage().stream()
                                            .map(
                                                st ->
                                                    Map.of(
                                                        "tenantId", st.tenantId().toString(),
                                                        "inputBytes", st.inputBytes(),
                                                        "outputBytes", st.outputBytes(),
                                                        "jobsHoldingImages", st.jobsHoldingData()))
                                            .toList()))))),
        path(
            "webhook-endpoints",
            () ->
                get(
                    () ->
                        admin(
                            r ->
                                Responses.ok(
                                    Map.of(
                                        "endpoints",
                                        api.webhooks().allEndpoints(500).stream()
                                            .map(AdminRoutes::endpointJson)
                                            .toList()))))),
        path(
            "plans",
            () -> get(() -> admin(r -> Responses.ok(Map.of("plans", api.quotas().plans()))))),
        path(
            "audit",
            () ->
                get(
                    () ->
                        admin(
                            r -> {
                              var query = r.getUri().query();
                              Long before =
                                  query
                                      .get("before")
                                      .map(v -> number(v, "before", 1, Long.MAX_VALUE))
                                      .orElse(null);
                              int limit =
                                  (int)
                                      (long)
                                          query
                                              .get("limit")
                                              .map(v -> number(v, "limit", 1, 500))
                                              .orElse(100L);
                              return Responses.ok(
                                  Map.of("entries", api.audit().list(before, limit)));
                            }))));
  }

  /** An endpoint as the admin sees it: whose, where, and whether it is failing or disabled. */
  private static Map<String, Object> endpointJson(
      io.retina.platform.webhooks.WebhookStore.Endpoint e) {
    Map<String, Object> m = new java.util.LinkedHashMap<>();
    m.put("id", e.id().toString());
    m.put("tenantId", e.tenantId().toString());
    m.put("url", e.url());
    m.put("events", e.events());
    m.put("enabled", e.enabled());
    m.put("disabledReason", e.disabledReason());
    m.put("failingSince", e.failingSince() == null ? null : e.failingSince().toString());
    m.put("createdAt", e.createdAt().toString());
    return m;
  }
}
