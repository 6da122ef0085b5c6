package io.retina.api.jobs;

import io.retina.api.http.Problem;
import io.retina.platform.models.ModelVersion;
import java.util.Optional;

/**
 * Whether a model version can take one more job now. Admission asks it last, once the request
 * itself has been found valid, so a refusal here is about the service's load and never hides what
 * is wrong with a request. Called on the store executor for every submission; implementations are
 * thread-safe.
 */
@FunctionalInterface
public interface Capacity {
  /**
   * Empty to admit the job; otherwise the problem that refuses it (a 503 with a Retry-After, as a
   * rule), a new one for each call.
   */
  Optional<Problem> check(ModelVersion version);

  /** Counts a job of the version that was stored, until the version's next load report. */
  default void admitted(ModelVersion version) {}

  /** Admits every job: no per-model limit is enforced. */
  static Capacity unlimited() {
    return version -> Optional.empty();
  }
}
