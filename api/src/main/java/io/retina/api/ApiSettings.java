package io.retina.api;

import com.typesafe.config.Config;
import java.time.Duration;

/** The API tier's limits, from {@code retina.http}. Immutable. */
public record ApiSettings(
    String host,
    int port,
    long maxBodyBytes,
    long maxBodyBytesInFlight,
    long maxPixels,
    int maxSide,
    Duration maxWait,
    int defaultPageSize,
    int maxPageSize,
    Duration idempotencyLock,
    int maxAttempts,
    Duration defaultDeadline) {

  public static ApiSettings from(Config config) {
    Config http = config.getConfig("retina.http");
    return new ApiSettings(
        http.getString("host"),
        http.getInt("port"),
        http.getBytes("max-body-bytes"),
        http.getBytes("max-body-bytes-in-flight"),
        http.getLong("max-pixels"),
        http.getInt("max-side"),
        http.getDuration("max-wait"),
        http.getInt("default-page-size"),
        http.getInt("max-page-size"),
        http.getDuration("idempotency-lock"),
        config.getInt("retina.workers.max-attempts"),
        http.getDuration("default-deadline"));
  }
}
