package io.retina.platform.webhooks;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * How a node sends webhooks ({@code retina.webhooks} in the node's configuration).
 *
 * @param policy which URLs are allowed beyond public https ones
 * @param retryPeriod how long a delivery is retried, from when it was first due (or redelivered)
 * @param firstRetry the wait after the first failed attempt; each further failure doubles it
 * @param maxBackoff the longest wait between two attempts
 * @param pollInterval how often the node looks for due deliveries
 * @param senders deliveries this node sends at once
 * @param lease how long a claimed delivery is this node's before another node may send it again
 * @param requestTimeout how long a receiver has to answer
 * @param disableAfter an endpoint that has failed every delivery for this long is disabled
 * @param graceDefault how long a rotated secret keeps signing when the rotation names no period
 */
public record WebhookSettings(
    WebhookTargets.Policy policy,
    Duration retryPeriod,
    Duration firstRetry,
    Duration maxBackoff,
    Duration pollInterval,
    int senders,
    Duration lease,
    Duration requestTimeout,
    Duration disableAfter,
    Duration graceDefault) {

  public static WebhookSettings from(Config c) {
    return new WebhookSettings(
        new WebhookTargets.Policy(c.getBoolean("allow-http"), c.getBoolean("allow-private")),
        c.getDuration("retry-period"),
        c.getDuration("first-retry"),
        c.getDuration("max-backoff"),
        c.getDuration("poll-interval"),
        c.getInt("senders"),
        c.getDuration("lease"),
        c.getDuration("request-timeout"),
        c.getDuration("disable-after"),
        c.getDuration("rotation-grace"));
  }

  /**
   * The wait before the next attempt after {@code failures} failed ones: {@link #firstRetry}
   * doubled for each failure after the first, at most {@link #maxBackoff}, then a random part of it
   * taken off (up to half), so that deliveries that failed together do not retry together.
   */
  public Duration backoff(int failures, double random) {
    double base = firstRetry.toMillis() * Math.pow(2, Math.max(0, Math.min(failures - 1, 30)));
    double capped = Math.min(base, maxBackoff.toMillis());
    return Duration.ofMillis(Math.round(capped * (1 - random / 2)));
  }
}
