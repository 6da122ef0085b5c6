package io.retina.platform.jobs;

import java.time.Duration;
import java.util.Map;
import java.util.UUID;

/**
 * An admitted request, ready to be stored: the image has been probed and the parameters resolved.
 * {@code deadline} counts from when the job is stored; null stores a job without one. {@code
 * webhook} is where the job's own events go, already checked; null for none.
 */
public record NewJob(
    UUID tenantId,
    String modelName,
    int modelVersion,
    Map<String, String> params,
    String inputMediaType,
    int inputWidth,
    int inputHeight,
    String inputDigest,
    byte[] input,
    int maxAttempts,
    Duration deadline,
    Webhook webhook) {

  /**
   * A job's own webhook: the URL and the events ({@code start}, {@code progress}, {@code
   * completed}) it gets.
   */
  public record Webhook(String url, java.util.List<String> events) {
    public Webhook {
      events = java.util.List.copyOf(events);
    }
  }

  /** A job without a webhook. */
  public NewJob(
      UUID tenantId,
      String modelName,
      int modelVersion,
      Map<String, String> params,
      String inputMediaType,
      int inputWidth,
      int inputHeight,
      String inputDigest,
      byte[] input,
      int maxAttempts,
      Duration deadline) {
    this(
        tenantId,
        modelName,
        modelVersion,
        params,
        inputMediaType,
        inputWidth,
        inputHeight,
        inputDigest,
        input,
        maxAttempts,
        deadline,
        null);
  }

  public NewJob {
    params = Map.copyOf(params);
    if (deadline != null && (deadline.isNegative() || deadline.isZero())) {
      throw new IllegalArgumentException("a deadline is positive, not " + deadline);
    }
  }

  /** A job without a deadline. */
  public NewJob(
      UUID tenantId,
      String modelName,
      int modelVersion,
      Map<String, String> params,
      String inputMediaType,
      int inputWidth,
      int inputHeight,
      String inputDigest,
      byte[] input,
      int maxAttempts) {
    this(
        tenantId,
        modelName,
        modelVersion,
        params,
        inputMediaType,
        inputWidth,
        inputHeight,
        inputDigest,
        input,
        maxAttempts,
        null);
  }
}
