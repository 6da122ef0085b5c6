package io.retina.api.admin;

import io.retina.api.ApiContext;
import io.retina.api.http.Responses;
import io.retina.platform.cluster.WorkerNodes;
import io.retina.platform.overview.PlatformOverview;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code GET /admin/overview}: the platform at a glance, as the console's first view draws it.
 * Jobs, latency, queue wait and failures over the last {@code minutes} (default 60), each worker
 * node's replicas and model memory from its last heartbeat, and this month's revenue by day and top
 * tenants.
 */
final class OverviewAdminRoutes extends AdminDirectives {
  private static final long DEFAULT_MINUTES = 60;
  private static final long MAX_MINUTES = 24 * 60;

  OverviewAdminRoutes(ApiContext api) {
    super(api);
  }

  Route route() {
    return path("overview", () -> get(() -> admin(this::overview)));
  }

  private HttpResponse overview(HttpRequest request) {
    long minutes =
        request
            .getUri()
            .query()
            .get("minutes")
            .map(v -> number(v, "minutes", 1, MAX_MINUTES))
            .orElse(DEFAULT_MINUTES);
    PlatformOverview.Overview o = api.overview().read(Duration.ofMinutes(minutes));
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("from", o.from().toString());
    body.put("to", o.to().toString());
    body.put("minutes", minutes);
    body.put(
        "jobsPerMinute",
        o.jobsPerMinute().stream()
            .map(
                m ->
                    Map.of(
                        "minute", m.minute().toString(),
                        "queued", m.queued(),
                        "running", m.running(),
                        "succeeded", m.succeeded(),
                        "failed", m.failed(),
                        "canceled", m.canceled()))
            .toList());
    body.put(
        "latencyByModel",
        o.latencyByModel().stream()
            .map(
                l ->
                    Map.of(
                        "model", l.model(),
                        "jobs", l.jobs(),
                        "p50Ms", round(l.p50Ms()),
                        "p95Ms", round(l.p95Ms()),
                        "queueWaitP50Ms", round(l.queueP50Ms()),
                        "queueWaitP95Ms", round(l.queueP95Ms())))
            .toList());
    body.put(
        "failuresByType",
        o.failuresByType().stream().map(f -> Map.of("type", f.type(), "jobs", f.jobs())).toList());
    body.put("workers", workers(api.workerNodes().all(), Instant.now()));
    body.put("month", o.month().toString());
    body.put(
        "revenueByDay",
        o.revenueByDay().stream()
            .map(d -> Map.of("day", d.day().toString(), "amountMicros", d.amountMicros()))
            .toList());
    body.put(
        "topTenants",
        o.topTenants().stream()
            .map(
                t ->
                    Map.of(
                        "tenantId", t.tenantId().toString(),
                        "tenantName", t.tenantName(),
                        "amountMicros", t.amountMicros()))
            .toList());
    return Responses.ok(body);
  }

  /** Each worker node's model versions in memory (one replica each) and their weights' bytes. */
  private static List<Map<String, Object>> workers(List<WorkerNodes.Beat> beats, Instant now) {
    return beats.stream()
        .filter(b -> b.roles().contains("worker"))
        .map(
            b -> {
              Map<String, Object> w = new LinkedHashMap<>();
              w.put("node", b.node());
              w.put("device", b.device());
              w.put("replicas", b.resident().size());
              w.put(
                  "memoryBytes",
                  b.resident().stream().mapToLong(WorkerNodes.Resident::bytes).sum());
              w.put("memoryBudgetBytes", b.memoryBudgetBytes());
              w.put("late", b.late(now));
              return w;
            })
        .toList();
  }

  private static double round(double ms) {
    return Math.round(ms * 10) / 10.0;
  }
}
