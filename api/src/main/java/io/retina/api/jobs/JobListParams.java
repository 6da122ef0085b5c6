package io.retina.api.jobs;

import io.retina.api.http.Problem;
import io.retina.platform.jobs.JobCursor;
import io.retina.platform.jobs.JobStatus;
import java.util.Optional;

/**
 * The query parameters a job list takes, for tenants' and the admin's lists alike: {@code status},
 * {@code cursor} and {@code limit}, each refused with its problem when malformed. Stateless.
 */
public final class JobListParams {
  private JobListParams() {}

  /** A job status by its name, or 400 {@code bad-status}. */
  public static JobStatus status(String value) {
    try {
      return JobStatus.fromDb(value);
    } catch (IllegalArgumentException e) {
      throw Problem.badRequest(
          "bad-status",
          "status is one of queued, running, succeeded, failed, canceled; not '" + value + "'.");
    }
  }

  /** The cursor a previous page gave, null for the first page, or 400 {@code bad-cursor}. */
  public static JobCursor cursor(Optional<String> value) {
    return value
        .map(
            c ->
                JobCursor.decode(c)
                    .orElseThrow(
                        () ->
                            Problem.badRequest(
                                "bad-cursor", "The cursor is not one this API gave.")))
        .orElse(null);
  }

  /** A page size from 1 to {@code max}, or 400 {@code bad-limit}. */
  public static int limit(String value, int max) {
    try {
      int n = Integer.parseInt(value);
      if (n < 1 || n > max) {
        throw new NumberFormatException();
      }
      return n;
    } catch (NumberFormatException e) {
      throw Problem.badRequest("bad-limit", "limit is a whole number from 1 to " + max + ".");
    }
  }
}
