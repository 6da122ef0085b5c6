package io.retina.api.account;

import com.fasterxml.jackson.databind.JsonNode;
import io.retina.api.ApiContext;
import io.retina.api.http.JsonBodies;
import io.retina.api.http.Problem;
import io.retina.api.http.Responses;
import io.retina.api.quota.RateLimitHeaders;
import io.retina.platform.billing.UsageRepository;
import io.retina.platform.jobs.JobRetention;
import io.retina.platform.tenants.Quota;
import io.retina.platform.tenants.Tenant;
import java.time.Duration;
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
 * A tenant's view of its account: {@code GET /v1/quota} (limits and what remains), {@code GET
 * /v1/usage}, and {@code GET} and {@code PUT /v1/retention} (how long its images are kept).
 */
public final class AccountRoutes extends AllDirectives {
  private final ApiContext api;

  public AccountRoutes(ApiContext api) {
    this.api = api;
  }

  public Route route() {
    return concat(
        path("quota", () -> get(() -> extractRequest(r -> completeWithFuture(quota(r))))),
        path("usage", () -> get(() -> extractRequest(r -> completeWithFuture(usage(r))))),
        path(
            "retention",
            () ->
                concat(
                    get(() -> extractRequest(r -> completeWithFuture(retention(r, null)))),
                    put(
                        () ->
                            withSizeLimit(
                                JsonBodies.MAX_BYTES,
                                () ->
                                    extractStrictEntity(
                                        Duration.ofSeconds(10),
                                        JsonBodies.MAX_BYTES,
                                        entity ->
                                            extractRequest(
                                                r ->
                                                    completeWithFuture(retention(r, entity)))))))));
  }

  /**
   * The tenant's retention periods; with a body, first sets them: {@code resultsSeconds} and {@code
   * inputsSeconds}, each 0 to 30 days in seconds, or null for the plan's.
   */
  private CompletionStage<HttpResponse> retention(
      HttpRequest request, org.apache.pekko.http.javadsl.model.HttpEntity.Strict entity) {
    return CompletableFuture.supplyAsync(
        () -> {
          Tenant tenant = api.auth().tenant(request);
          JobRetention.Periods periods;
          if (entity == null) {
            periods = api.retention().periods(tenant.id());
          } else {
            JsonNode body = JsonBodies.object(entity);
            periods =
                api.retention()
                    .set(
                        tenant.id(), period(body, "resultsSeconds"), period(body, "inputsSeconds"));
          }
          Map<String, Object> out = new LinkedHashMap<>();
          out.put("resultsSeconds", periods.results().toSeconds());
          out.put("resultsFrom", periods.ownResults() ? "tenant" : "plan");
          out.put("inputsSeconds", periods.inputs().toSeconds());
          out.put("inputsFrom", periods.ownInputs() ? "tenant" : "plan");
          return Responses.ok(out);
        },
        api.store());
  }

  private static Duration period(JsonNode body, String field) {
    JsonNode v = body.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    long max = JobRetention.MAX_KEPT.toSeconds();
    if (!v.isIntegralNumber() || v.asLong() < 0 || v.asLong() > max) {
      throw Problem.unprocessable(
              "invalid-field",
              field + " is a whole number of seconds from 0 to " + max + " (30 days), or null.")
          .with("field", field);
    }
    return Duration.ofSeconds(v.asLong());
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
    m.put("imageEpochs", l.imageEpochs());
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
