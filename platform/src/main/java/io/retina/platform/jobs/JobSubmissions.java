package io.retina.platform.jobs;

import io.retina.platform.store.Json;
import io.retina.platform.store.Rows;
import io.retina.platform.store.Tx;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Optional;
import java.util.UUID;

/**
 * Where tenants' jobs enter the store. A submission is checked against its Idempotency-Key and the
 * tenant's concurrency and spend limits in the transaction that stores it, so that any number of
 * API nodes together never admit past a limit, and one key never stores two jobs. Nothing is stored
 * for a refused submission. Thread-safe.
 */
public final class JobSubmissions {
  private final Tx tx;

  public JobSubmissions(Tx tx) {
    this.tx = tx;
  }

  /**
   * Stores a job (with its input) and its idempotency record, in one transaction, unless the key or
   * a limit says otherwise. With a key, the request holds it for {@code keyLock}: repeats meanwhile
   * are {@link Submission.InFlight} until {@link #releaseKey}, then replay the job.
   *
   * @param idempotencyKey null for a request without one
   * @param requestDigest what makes two requests with one key the same request
   */
  public Submission submit(
      NewJob job,
      AdmissionLimits limits,
      String idempotencyKey,
      String requestDigest,
      Duration keyLock) {
    return submit(job, limits, idempotencyKey, requestDigest, keyLock, null);
  }

  /**
   * As {@link #submit(NewJob, AdmissionLimits, String, String, Duration)}, storing with the job the
   * W3C {@code traceparent} its execution's spans continue (null for an untraced submission).
   */
  public Submission submit(
      NewJob job,
      AdmissionLimits limits,
      String idempotencyKey,
      String requestDigest,
      Duration keyLock,
      String traceparent) {
    return tx.forTenant(job.tenantId())
        .call(
            c -> {
              if (idempotencyKey != null) {
                Optional<Submission> earlier =
                    claimKey(c, job.tenantId(), idempotencyKey, requestDigest, keyLock);
                if (earlier.isPresent()) {
                  c.rollback();
                  return earlier.get();
                }
              }
              // the job first, then the tenant's lock and count (the job among them): the lock is
              // held for the count and the commit only, not for the insert too, so a tenant's
              // submissions wait that much less for each other. A refused one is rolled back, its
              // cost no more than an admitted one's; the tenant's rate bounds both.
              Job stored = insert(c, job, traceparent);
              Optional<Submission> refused = checkLimits(c, job.tenantId(), limits);
              if (refused.isPresent()) {
                c.rollback();
                return refused.get();
              }
              if (idempotencyKey != null) {
                try (var st =
                    c.prepareStatement(
                        "update idempotency_keys set job_id = ? where tenant_id = ? and key = ?")) {
                  st.setObject(1, stored.id());
                  st.setObject(2, job.tenantId());
                  st.setString(3, idempotencyKey);
                  st.executeUpdate();
                }
              }
              return new Submission.Created(stored);
            });
  }

  /** The request that held the key has been answered: repeats now replay its job. */
  public void releaseKey(UUID tenantId, String key) {
    tx.forTenant(tenantId)
        .run(
            c -> {
              try (var st =
                  c.prepareStatement(
                      "update idempotency_keys set locked_until = null where tenant_id = ? and key = ?")) {
                st.setObject(1, tenantId);
                st.setString(2, key);
                st.executeUpdate();
              }
            });
  }

  /**
   * Takes the key for this request, or says what an earlier request with the key came to. A key
   * whose lock expired without a job (its node died before storing one) is taken over.
   */
  private static Optional<Submission> claimKey(
      Connection c, UUID tenantId, String key, String digest, Duration lock) throws SQLException {
    try (var st =
        c.prepareStatement(
            "insert into idempotency_keys (tenant_id, key, request_digest, locked_until)"
                + " values (?, ?, ?, now() + ?::interval) on conflict do nothing")) {
      st.setObject(1, tenantId);
      st.setString(2, key);
      st.setString(3, digest);
      st.setString(4, Rows.interval(lock));
      if (st.executeUpdate() == 1) {
        return Optional.empty();
      }
    }
    try (var st =
        c.prepareStatement(
            "select request_digest, job_id, locked_until > now() as locked from idempotency_keys"
                + " where tenant_id = ? and key = ? for update")) {
      st.setObject(1, tenantId);
      st.setString(2, key);
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        if (!rs.getString("request_digest").equals(digest)) {
          return Optional.of(new Submission.KeyReused());
        }
        if (rs.getBoolean("locked")) {
          return Optional.of(new Submission.InFlight());
        }
        UUID jobId = Rows.uuid(rs, "job_id");
        if (jobId != null) {
          return Optional.of(
              new Submission.Replayed(JobRows.find(c, tenantId, jobId).orElseThrow()));
        }
      }
    }
    try (var st =
        c.prepareStatement(
            "update idempotency_keys set locked_until = now() + ?::interval"
                + " where tenant_id = ? and key = ?")) {
      st.setString(1, Rows.interval(lock));
      st.setObject(2, tenantId);
      st.setString(3, key);
      st.executeUpdate();
    }
    return Optional.empty();
  }

  /**
   * Checks the tenant's concurrency and spend limits under a per-tenant transaction lock, so that
   * concurrent submissions on any nodes are counted one after another. The transaction has inserted
   * its job already: it is one of the unfinished ones counted.
   */
  private static Optional<Submission> checkLimits(
      Connection c, UUID tenantId, AdmissionLimits limits) throws SQLException {
    if (limits.equals(AdmissionLimits.NONE)) {
      return Optional.empty();
    }
    long unfinished;
    long spent;
    // two statements, sent together: the count runs after the lock is held, with a snapshot taken
    // then (each statement of a read-committed transaction takes its own), so it sees every job an
    // earlier holder of the lock committed
    try (var st = c.prepareStatement(LOCK_THEN_COUNT)) {
      st.setString(1, tenantId.toString());
      st.setObject(2, tenantId);
      st.setObject(3, tenantId);
      st.execute();
      if (!st.getMoreResults()) {
        throw new SQLException("the count after the tenant's lock gave no rows");
      }
      try (ResultSet rs = st.getResultSet()) {
        rs.next();
        unfinished = rs.getLong(1);
        spent = rs.getLong(2);
      }
    }
    long before = unfinished - 1; // this submission's own job is counted
    if (before >= limits.maxConcurrentJobs()) {
      return Optional.of(
          new Submission.OverQuota(
              "concurrent-jobs",
              "The tenant has "
                  + before
                  + " jobs queued or running; its limit is "
                  + limits.maxConcurrentJobs()
                  + ".",
              2));
    }
    if (spent >= limits.monthlySpendCapMicros()) {
      ZonedDateTime now = ZonedDateTime.now(ZoneOffset.UTC);
      ZonedDateTime nextMonth =
          now.toLocalDate().withDayOfMonth(1).plusMonths(1).atStartOfDay(ZoneOffset.UTC);
      return Optional.of(
          new Submission.OverQuota(
              "monthly-spend",
              "The tenant has spent "
                  + spent
                  + " micros this month; its cap is "
                  + limits.monthlySpendCapMicros()
                  + ".",
              Duration.between(now, nextMonth).toSeconds()));
    }
    return Optional.empty();
  }

  /**
   * The tenant's spend in the current calendar month (UTC), in micros: its at most 8 rows of {@code
   * tenant_monthly_spend}, which every ledger row adds to in the same statement.
   */
  private static final String SPENT_THIS_MONTH =
      "select coalesce(sum(amount_micros), 0) from tenant_monthly_spend where tenant_id = ?"
          + " and month = date_trunc('month', now() at time zone 'UTC')::date";

  /**
   * The tenant's transaction lock, then its unfinished jobs and its spend this month: two
   * statements in one round trip.
   */
  private static final String LOCK_THEN_COUNT =
      "select pg_advisory_xact_lock(hashtextextended(?, 0)); select ("
          + JobRepository.UNFINISHED
          + "), ("
          + SPENT_THIS_MONTH
          + ")";

  /**
   * Inserts the job and its input, in one statement; the job comes back as stored, defaults and
   * all.
   */
  private static Job insert(Connection c, NewJob job, String traceparent) throws SQLException {
    try (var st =
        c.prepareStatement(
            "with job as (insert into jobs (id, tenant_id, model_name, model_version, status,"
                + " params, input_media_type, input_width, input_height, input_bytes, input_digest,"
                + " max_attempts, deadline_at, webhook_url, webhook_events, trace_parent)"
                + " values (?, ?, ?, ?, 'queued', ?::jsonb, ?, ?, ?, ?, ?, ?, now() + ?::interval,"
                + " ?, ?, ?)"
                + " returning "
                + JobRows.COLUMNS
                + "), input as (insert into job_payloads (job_id, kind, tenant_id, bytes)"
                + " select id, 'input', tenant_id, ? from job)"
                + " select * from job")) {
      st.setObject(1, UUID.randomUUID());
      st.setObject(2, job.tenantId());
      st.setString(3, job.modelName());
      st.setInt(4, job.modelVersion());
      st.setString(5, Json.write(job.params()));
      st.setString(6, job.inputMediaType());
      st.setInt(7, job.inputWidth());
      st.setInt(8, job.inputHeight());
      st.setLong(9, job.input().length);
      st.setString(10, job.inputDigest());
      st.setInt(11, job.maxAttempts());
      st.setString(12, job.deadline() == null ? null : Rows.interval(job.deadline()));
      st.setString(13, job.webhook() == null ? null : job.webhook().url());
      st.setArray(
          14,
          job.webhook() == null ? null : c.createArrayOf("text", job.webhook().events().toArray()));
      st.setString(15, traceparent);
      st.setBytes(16, job.input());
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        return JobRows.job(rs);
      }
    }
  }
}
