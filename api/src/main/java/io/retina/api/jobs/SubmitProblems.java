package io.retina.api.jobs;

import io.retina.api.http.Problem;
import io.retina.api.quota.RateLimitHeaders;
import io.retina.api.quota.TenantGate;
import io.retina.platform.jobs.Submission;
import java.util.List;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;

/**
 * The one place where a submission's refusals become problems: the tenant's rate gate saying no or
 * not answering, and the store refusing the job (a tenant limit, an Idempotency-Key in flight or
 * reused). Every refusal a client may retry says when, in {@code Retry-After}. Stateless.
 */
final class SubmitProblems {
  private SubmitProblems() {}

  /** The tenant's gate did not answer in time. */
  static Problem gateUnavailable() {
    return new Problem(
            503,
            "admission-unavailable",
            "Service unavailable",
            "The tenant's admission gate did not answer; retry shortly.")
        .withHeader(RawHeader.create("Retry-After", "1"));
  }

  /** The gate refused: the tenant is over its rate, or its quota could not be read. */
  static Problem refusedByGate(TenantGate.Decision decision) {
    if (decision.admitted()) {
      throw new IllegalArgumentException("an admitted decision is no refusal");
    }
    if (!decision.known()) {
      return new Problem(
              503, "admission-unavailable", "Service unavailable", "The tenant's quota is unknown.")
          .withHeader(RawHeader.create("Retry-After", "1"));
    }
    Problem p =
        new Problem(
                429,
                "rate-limited",
                "Too many requests",
                "The tenant's rate is "
                    + decision.ratePerSecond()
                    + " jobs a second with bursts of "
                    + decision.burst()
                    + "; retry after the time in Retry-After.")
            .withHeader(
                RawHeader.create(
                    "Retry-After", Long.toString(RateLimitHeaders.retryAfterSeconds(decision))));
    RateLimitHeaders.of(decision).forEach(p::withHeader);
    return p;
  }

  /**
   * The store refused the job: {@link Submission.OverQuota}, {@link Submission.InFlight} or {@link
   * Submission.KeyReused}. {@code rateHeaders} go on a quota refusal, which is about the tenant's
   * limits too.
   */
  static Problem refusedByStore(Submission outcome, List<HttpHeader> rateHeaders) {
    if (outcome instanceof Submission.OverQuota over) {
      Problem p =
          over.limit().equals("monthly-spend")
              ? new Problem(429, "spend-cap-reached", "Too many requests", over.detail())
              : new Problem(429, "concurrency-limit", "Too many requests", over.detail());
      p.with("limit", over.limit())
          .withHeader(RawHeader.create("Retry-After", Long.toString(over.retryAfterSeconds())));
      rateHeaders.forEach(p::withHeader);
      return p;
    }
    if (outcome instanceof Submission.InFlight) {
      return Problem.conflict(
              "idempotency-key-in-flight",
              "A request with this Idempotency-Key is still being answered; retry shortly.")
          .withHeader(RawHeader.create("Retry-After", "1"));
    }
    if (outcome instanceof Submission.KeyReused) {
      return Problem.unprocessable(
          "idempotency-key-reused",
          "This Idempotency-Key was used for a different request (model, parameters or image).");
    }
    throw new IllegalArgumentException(outcome + " is no refusal");
  }
}
