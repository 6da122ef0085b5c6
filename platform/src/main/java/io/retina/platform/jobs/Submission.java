package io.retina.platform.jobs;

/** What submitting a job came to, given its optional Idempotency-Key. */
public sealed interface Submission {
  /** A new job was stored. */
  record Created(Job job) implements Submission {}

  /** The key was used before for the same request: this is the job it created. */
  record Replayed(Job job) implements Submission {}

  /** The key's first request is still being answered. */
  record InFlight() implements Submission {}

  /** The key was used before for a different request. */
  record KeyReused() implements Submission {}

  /**
   * A tenant limit refused the job; nothing was stored.
   *
   * @param limit which limit: {@code concurrent-jobs} or {@code monthly-spend}
   * @param retryAfterSeconds when trying again may succeed
   */
  record OverQuota(String limit, String detail, long retryAfterSeconds) implements Submission {}
}
