package io.retina.api.admin;

import io.retina.api.ApiContext;
import io.retina.api.http.Responses;
import java.util.Map;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The admin API under {@code /admin}, behind the admin token: tenants, keys and quotas, plans,
 * invoices and the audit trail. Every change is recorded in the audit trail.
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
                              Long before = query.get("before").map(Long::valueOf).orElse(null);
                              int limit =
                                  Math.min(
                                      500, query.get("limit").map(Integer::parseInt).orElse(100));
                              return Responses.ok(
                                  Map.of("entries", api.audit().list(before, limit)));
                            }))));
  }
}
