package io.retina.api.account;

import io.retina.api.ApiContext;
import io.retina.api.http.Problem;
import io.retina.api.http.Responses;
import io.retina.api.quota.RateLimitHeaders;
import io.retina.platform.billing.UsageRepository;
import io.retina.platform.tenants.Quota;
import io.retina.platform.tenants.Tenant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * A tenant's view of its account: {@code GET /v1/quota} (limits and what remains) and {@code GET
 * /v1/usage}.
 */
public final class AccountRoutes extends AllDirectives {
  private final ApiContext api;

  public AccountRoutes(ApiContext api) {
    this.api = api;
  }

  public Route route() {
    return concat(
        path("quota", () -> get(() -> extractRequest(r -> completeWithFuture(quota(r))))),
        path("usage", () -> get(() -> extractRequest(r -> completeWithFuture(usage(r))))));
  }

  private CompletionStage<HttpResponse> quota(HttpRequest request) {
    return CompletableFuture.supplyAsync(() -> api.auth().tenant(request), api.store())
        .thenCompose(
            tenant ->
                api.gates()
                    .peek(tenant.id())
                    .thenApplyAsync(decision -> quotaBody(tenant, decision), api.store()));
  }

  private HttpResponse quotaBody(Tenant tenant, io.retina.api.quota.TenantGate.Decision decision) {
    Quota q = api.quotas().effective(tenant.id()).orElseThrow();
    long unfinished = api.jobs().unfinished(tenant.id());
    long spent = api.usage().spentThisMonth(tenant.id());
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("plan", q.plan());
    body.put(
        "rate",
        Map.of(
            "perSecond", q.ratePerSecond(),
            "burst", q.burst(),
            "remaining", decision.remaining(),
            "fullInSeconds", Math.ceil(decision.fullInMillis() / 1000.0)));
    body.put("concurrentJobs", Map.of("limit", q.maxConcurrentJobs(), "inUse", unfinished));
    body.put("maxPixels", Math.min(q.maxPixels(), api.settings().maxPixels()));
    body.put(
        "monthlySpend",
        Map.of(
            "capMicros", q.monthlySpendCapMicros(),
            "spentMicros", spent,
            "remainingMicros", Math.max(0, q.monthlySpendCapMicros() - spent),
            "month", YearMonth.now(ZoneOffset.UTC).toString()));
    return Responses.ok(body).addHeaders(RateLimitHeaders.of(decision));
  }

  private CompletionStage<HttpResponse> usage(HttpRequest request) {
    return CompletableFuture.supplyAsync(
        () -> {
          Tenant tenant = api.auth().tenant(request);
          YearMonth month = month(request.getUri().query().get("month").orElse(null));
          UsageRepository.Usage u = api.usage().usage(tenant.id(), month);
          Map<String, Object> body = new LinkedHashMap<>();
          body.put("month", month.toString());
          body.put("total", line(u.total()));
          body.put("byModel", lines(u.byModel(), "model"));
          body.put("byDay", lines(u.byDay(), "day"));
          return Responses.ok(body);
        },
        api.store());
  }

  /** {@code YYYY-MM}, or the current UTC month when absent. */
  public static YearMonth month(String value) {
    if (value == null) {
      return YearMonth.now(ZoneOffset.UTC);
    }
    try {
      YearMonth month = YearMonth.parse(value);
      // YearMonth reaches the year 999999999; PostgreSQL's dates and any real invoice do not
      if (month.getYear() < 1970 || month.getYear() > 9999) {
        throw new DateTimeParseException("out of range", value, 0);
      }
      return month;
    } catch (DateTimeParseException e) {
      throw Problem.badRequest("bad-month", "month is YYYY-MM, e.g. 2026-11; not '" + value + "'.");
    }
  }

  public static Map<String, Object> line(UsageRepository.Line l) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("jobs", l.jobs());
    m.put("megapixels", l.megapixels());
    m.put("amountMicros", l.amountMicros());
    return m;
  }

  public static List<Map<String, Object>> lines(List<UsageRepository.Line> lines, String keyName) {
    return lines.stream()
        .map(
            l -> {
              Map<String, Object> m = new LinkedHashMap<>();
              m.put(keyName, l.key());
              m.putAll(line(l));
              return m;
            })
        .toList();
  }
}
