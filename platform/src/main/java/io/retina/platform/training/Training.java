package io.retina.platform.training;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * A training as the tenant sees it: which private model version it makes, how far it has got (one
 * report per committed epoch in {@code history}) and, once it succeeded, its final report.
 *
 * @param modelVersion the version of {@code modelName} the result becomes
 * @param images every image of the dataset; {@code trainImages} of them train (the rest validate),
 *     known once a worker has split them
 * @param epochsDone epochs committed, each billed once
 */
public record Training(
    UUID id,
    UUID tenantId,
    String modelName,
    int modelVersion,
    String task,
    Status status,
    JsonNode settings,
    List<String> classes,
    int images,
    Integer trainImages,
    int epochsDone,
    JsonNode history,
    JsonNode report,
    int attempts,
    String errorType,
    String errorDetail,
    Instant createdAt,
    Instant startedAt,
    Instant finishedAt) {

  /** A training's lifecycle, as a job's. */
  public enum Status {
    QUEUED,
    RUNNING,
    SUCCEEDED,
    FAILED,
    CANCELED;

    public boolean finished() {
      return this == SUCCEEDED || this == FAILED || this == CANCELED;
    }

    public String dbValue() {
      return name().toLowerCase();
    }
  }

  /** What a training of {@code task} makes: a version of this task. */
  public static String modelTask(String task) {
    return switch (task) {
      case "classify" -> "classify";
      case "denoise" -> "denoise-trained";
      default -> throw new IllegalArgumentException("no training task " + task);
    };
  }

  /** {@code model@version}: what the tenant names in jobs once the training succeeded. */
  public String ref() {
    return modelName + "@" + modelVersion;
  }
}
