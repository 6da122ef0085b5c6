package io.retina.platform.tenants;

/** Per-tenant replacements for plan limits; a null field keeps the plan's value. */
public record QuotaOverrides(
    Double ratePerSecond,
    Integer burst,
    Integer maxConcurrentJobs,
    Long maxPixels,
    Long monthlySpendCapMicros) {

  public static final QuotaOverrides NONE = new QuotaOverrides(null, null, null, null, null);
}
