package io.retina.platform.jobs;

import java.time.Duration;
import java.util.Map;
import java.util.UUID;

/**
 * An admitted request, ready to be stored: the image has been probed and the parameters resolved.
 * {@code deadline} counts from when the job is stored; null stores a job without one.
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
    Duration deadline) {

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
