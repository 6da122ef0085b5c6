package io.retina.platform.jobs;

import java.time.Instant;
import java.util.Map;
import java.util.UUID;

/**
 * A tenant's request to run one model version on one image, as the store knows it (without
 * payloads). {@code deadlineAt} is when it must have finished by; null only for jobs stored before
 * jobs had deadlines.
 */
public record Job(
    UUID id,
    UUID tenantId,
    String modelName,
    int modelVersion,
    JobStatus status,
    Map<String, String> params,
    String inputMediaType,
    int inputWidth,
    int inputHeight,
    long inputBytes,
    String inputDigest,
    String outputMediaType,
    Long outputBytes,
    int attempts,
    int maxAttempts,
    String errorType,
    String errorDetail,
    Instant createdAt,
    Instant startedAt,
    Instant finishedAt,
    Double progress,
    Instant deadlineAt,
    Instant inputDeletedAt,
    Instant outputDeletedAt) {

  /** The same job, having done {@code fraction} of its work. */
  public Job withProgress(double fraction) {
    return new Job(
        id,
        tenantId,
        modelName,
        modelVersion,
        status,
        params,
        inputMediaType,
        inputWidth,
        inputHeight,
        inputBytes,
        inputDigest,
        outputMediaType,
        outputBytes,
        attempts,
        maxAttempts,
        errorType,
        errorDetail,
        createdAt,
        startedAt,
        finishedAt,
        fraction,
        deadlineAt,
        inputDeletedAt,
        outputDeletedAt);
  }

  public String modelRef() {
    return modelName + "@" + modelVersion;
  }

  public long pixels() {
    return (long) inputWidth * inputHeight;
  }
}
