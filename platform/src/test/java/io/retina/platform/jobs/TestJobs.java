package io.retina.platform.jobs;

import io.retina.platform.store.Database;
import io.retina.platform.tenants.Tenant;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;

/** Jobs for the store's tests: one shape of job, stored without limits or keys. */
final class TestJobs {
  private TestJobs() {}

  /** How long a test's idempotency key stays locked: longer than any test. */
  static final Duration LOCK = Duration.ofSeconds(30);

  /** The input every test job carries. */
  static final byte[] INPUT = {1, 2, 3};

  static NewJob newJob(Tenant t) {
    return newJob(t, null);
  }

  static NewJob newJob(Tenant t, Duration deadline) {
    return newJob(t, INPUT, deadline);
  }

  /** The test job with another input. */
  static NewJob withInput(Tenant t, byte[] input) {
    return newJob(t, input, null);
  }

  private static NewJob newJob(Tenant t, byte[] input, Duration deadline) {
    return new NewJob(
        t.id(),
        "echo",
        1,
        Map.of("scale", "2"),
        "image/png",
        2000,
        1000,
        "sha256-x",
        input,
        3,
        deadline);
  }

  static Job submit(JobSubmissions submissions, NewJob job) {
    return ((Submission.Created) submissions.submit(job, AdmissionLimits.NONE, null, null, LOCK))
        .job();
  }

  static Job submit(JobSubmissions submissions, Tenant t) {
    return submit(submissions, newJob(t));
  }

  /** How many usage ledger rows bill the job. */
  static long ledgerRows(Database db, UUID jobId) {
    return db.tx()
        .system()
        .call(
            c -> {
              try (var st =
                  c.prepareStatement("select count(*) from usage_ledger where job_id = ?")) {
                st.setObject(1, jobId);
                try (var rs = st.executeQuery()) {
                  rs.next();
                  return rs.getLong(1);
                }
              }
            });
  }
}
