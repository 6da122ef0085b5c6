package io.retina.api.quota;

import java.util.List;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;

/**
 * The IETF {@code RateLimit-Policy} and {@code RateLimit} headers
 * (draft-ietf-httpapi-ratelimit-headers, structured-field form) for a tenant's token bucket: the
 * policy's quota is the burst and its window the time the bucket takes to refill from empty; {@code
 * r} is what remains and {@code t} the seconds until full.
 */
public final class RateLimitHeaders {
  private RateLimitHeaders() {}

  public static List<HttpHeader> of(TenantGate.Decision d) {
    if (!d.known()) {
      return List.of();
    }
    long window = Math.max(1, (long) Math.ceil(d.burst() / d.ratePerSecond()));
    long reset = (long) Math.ceil(d.fullInMillis() / 1000.0);
    return List.of(
        RawHeader.create("RateLimit-Policy", "\"burst\";q=" + d.burst() + ";w=" + window),
        RawHeader.create("RateLimit", "\"burst\";r=" + d.remaining() + ";t=" + reset));
  }

  /** Seconds to put in {@code Retry-After} for a refusal: at least one. */
  public static long retryAfterSeconds(TenantGate.Decision d) {
    return Math.max(1, (long) Math.ceil(d.retryAfterMillis() / 1000.0));
  }
}
