package io.retina.api.jobs;

import static org.junit.jupiter.api.Assertions.*;

import io.retina.api.http.Problem;
import io.retina.api.quota.RateLimitHeaders;
import io.retina.api.quota.TenantGate;
import io.retina.platform.jobs.Submission;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.junit.jupiter.api.Test;

/** The problems a client sees when its submission is refused, and when it may retry. */
class SubmitProblemsTest {
  static final TenantGate.Decision EMPTY_BUCKET =
      new TenantGate.Decision(false, true, 0, 50, 10, 1500, 5000);

  static Optional<String> header(Problem p, String name) {
    HttpResponse r = p.toResponse(null);
    return r.getHeader(name).map(HttpHeader::value);
  }

  @Test
  void aTenantOverItsRateIsToldItsRateAndWhenToRetry() {
    Problem p = SubmitProblems.refusedByGate(EMPTY_BUCKET);

    assertEquals(429, p.status());
    assertEquals("/problems/rate-limited", p.type());
    assertEquals(Optional.of("2"), header(p, "Retry-After"), "1.5 s rounded up");
    assertTrue(header(p, "RateLimit").isPresent());
    assertTrue(header(p, "RateLimit-Policy").isPresent());
  }

  @Test
  void aTenantWhoseQuotaIsUnknownIsAskedToRetryShortly() {
    Problem p = SubmitProblems.refusedByGate(new TenantGate.Decision(false, false, 0, 0, 0, 0, 0));

    assertEquals(503, p.status());
    assertEquals("/problems/admission-unavailable", p.type());
    assertEquals(Optional.of("1"), header(p, "Retry-After"));
  }

  @Test
  void aGateThatDoesNotAnswerIsAskedAgainShortly() {
    Problem p = SubmitProblems.gateUnavailable();

    assertEquals(503, p.status());
    assertEquals(Optional.of("1"), header(p, "Retry-After"));
  }

  @Test
  void aSpendCapRefusalNamesTheLimitAndWhenItResets() {
    var over = new Submission.OverQuota("monthly-spend", "spent it all", 86_400);
    var admitted = new TenantGate.Decision(true, true, 3, 50, 10, 0, 4700);

    Problem p = SubmitProblems.refusedByStore(over, RateLimitHeaders.of(admitted));

    assertEquals(429, p.status());
    assertEquals("/problems/spend-cap-reached", p.type());
    assertEquals(Optional.of("86400"), header(p, "Retry-After"));
    assertTrue(header(p, "RateLimit").isPresent(), "the tenant's rate is still told");
  }

  @Test
  void aConcurrencyRefusalIsItsOwnProblem() {
    var over = new Submission.OverQuota("concurrent-jobs", "too many", 2);

    Problem p = SubmitProblems.refusedByStore(over, List.of());

    assertEquals("/problems/concurrency-limit", p.type());
    assertEquals(Optional.of("2"), header(p, "Retry-After"));
  }

  @Test
  void aKeyStillInFlightIsAConflictToRetryAndAReusedKeyIsNot() {
    Problem inFlight = SubmitProblems.refusedByStore(new Submission.InFlight(), List.of());
    Problem reused = SubmitProblems.refusedByStore(new Submission.KeyReused(), List.of());

    assertEquals(409, inFlight.status());
    assertEquals(Optional.of("1"), header(inFlight, "Retry-After"));
    assertEquals(422, reused.status());
    assertEquals(Optional.empty(), header(reused, "Retry-After"));
  }

  @Test
  void aStoredJobIsNoRefusal() {
    assertThrows(
        IllegalArgumentException.class,
        () -> SubmitProblems.refusedByStore(new Submission.Created(null), List.of()));
  }
}
