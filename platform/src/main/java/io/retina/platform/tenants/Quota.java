package io.retina.platform.tenants;

/**
 * A tenant's effective limits: its plan's, with any per-tenant overrides applied.
 *
 * @param ratePerSecond sustained job admissions per second (token bucket refill)
 * @param burst admissions allowed at once on top of the sustained rate (bucket size)
 * @param maxConcurrentJobs jobs queued or running at once
 * @param maxPixels the largest image accepted, in pixels
 * @param monthlySpendCapMicros spend per calendar month (UTC) after which jobs are refused
 * @param weight the tenant's share of a model's queue relative to other tenants
 * @param maxDeadlineSeconds the longest deadline the tenant may set on a job, from its plan
 */
public record Quota(
    String plan,
    double ratePerSecond,
    int burst,
    int maxConcurrentJobs,
    long maxPixels,
    long monthlySpendCapMicros,
    int weight,
    long maxDeadlineSeconds) {

  /** {@link #maxDeadlineSeconds} as a duration. */
  public java.time.Duration maxDeadline() {
    return java.time.Duration.ofSeconds(maxDeadlineSeconds);
  }
}
