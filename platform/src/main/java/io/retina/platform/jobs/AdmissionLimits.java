package io.retina.platform.jobs;

/**
 * The tenant limits checked inside the submitting transaction, under a per-tenant lock, so that any
 * number of API nodes together never admit past them.
 */
public record AdmissionLimits(int maxConcurrentJobs, long monthlySpendCapMicros) {
  /** No limit at all: for internal submissions and tests of other behaviour. */
  public static final AdmissionLimits NONE = new AdmissionLimits(Integer.MAX_VALUE, Long.MAX_VALUE);
}
