package io.retina.platform.jobs;

import io.retina.platform.store.Json;
import io.retina.platform.store.Rows;
import io.retina.platform.store.Tx;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Optional;
import java.util.UUID;
import org.postgresql.util.PSQLException;

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
    if (idempotencyKey == null) {
      return tx.forTenant(job.tenantId()).single(c -> insertChecked(c, job, limits, traceparent));
    }
    return tx.forTenant(job.tenantId())
        .call(
            c -> {
              Optional<Submission> earlier =
                  claimKey(c, job.tenantId(), idempotencyKey, requestDigest, keyLock);
              if (earlier.isPresent()) {
                c.rollback();
                return earlier.get();
              }
              Job stored = insert(c, job, traceparent);
              try (var st =
                  c.prepareStatement(
                      "update idempotency_keys set job_id = ? where tenant_id = ? and key = ?")) {
                st.setObject(1, stored.id());
                st.setObject(2, job.tenantId());
                st.setString(3, idempotencyKey);
                st.executeUpdate();
              }
              if (!limits.equals(AdmissionLimits.NONE)) {
                try (var st = c.prepareStatement(CHECK_LIMITS)) {
                  setLimits(st, 1, job.tenantId(), limits);
                  st.execute();
                } catch (SQLException e) {
                  Optional<Submission> refused = refusal(e, limits);
                  if (refused.isEmpty()) {
                    throw e;
                  }
                  c.rollback();
                  return refused.get();
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
   * The tenant's concurrency and spend limits, checked by the store ({@code check_job_limits},
   * migration V26) under a per-tenant transaction lock, so that concurrent submissions on any nodes
   * are counted one after another. Runs after the job's insert, in its transaction: the job is one
   * of those counted. Raises {@link #OVER_CONCURRENT_JOBS} or {@link #OVER_SPEND_CAP}.
   */
  private static final String CHECK_LIMITS = "select check_job_limits(?, ?, ?)";

  private static final String OVER_CONCURRENT_JOBS = "RT001";
  private static final String OVER_SPEND_CAP = "RT002";

  private static void setLimits(
      PreparedStatement st, int first, UUID tenantId, AdmissionLimits limits) throws SQLException {
    st.setObject(first, tenantId);
    st.setLong(first + 1, limits.maxConcurrentJobs());
    st.setLong(first + 2, limits.monthlySpendCapMicros());
  }

  /**
   * Stores the job without an idempotency key in one round trip: its insert and, under limits,
   * their check, sent as one batch that the store runs as one transaction, committed as the check
   * returns (rolled back if it raises). The tenant's lock is held for the count and the commit
   * only.
   */
  private static Submission insertChecked(
      Connection c, NewJob job, AdmissionLimits limits, String traceparent) throws SQLException {
    boolean checked = !limits.equals(AdmissionLimits.NONE);
    try (var st = c.prepareStatement(INSERT + (checked ? "; " + CHECK_LIMITS : ""))) {
      setInsert(st, c, job, traceparent);
      if (checked) {
        setLimits(st, INSERT_PARAMETERS + 1, job.tenantId(), limits);
      }
      st.execute();
      try (ResultSet rs = st.getResultSet()) {
        rs.next();
        return new Submission.Created(JobRows.job(rs));
      }
    } catch (SQLException e) {
      Optional<Submission> refused = refusal(e, limits);
      if (refused.isEmpty()) {
        throw e;
      }
      return refused.get();
    }
  }

  /** The limit {@code e} says the submission is over, or empty when it is another failure. */
  private static Optional<Submission> refusal(SQLException e, AdmissionLimits limits) {
    String state = e.getSQLState();
    if (!OVER_CONCURRENT_JOBS.equals(state) && !OVER_SPEND_CAP.equals(state)) {
      return Optional.empty();
    }
    long figure = Long.parseLong(serverDetail(e));
    if (OVER_CONCURRENT_JOBS.equals(state)) {
      return Optional.of(
          new Submission.OverQuota(
              "concurrent-jobs",
              "The tenant has "
                  + figure
                  + " jobs queued or running; its limit is "
                  + limits.maxConcurrentJobs()
                  + ".",
              2));
    }
    ZonedDateTime now = ZonedDateTime.now(ZoneOffset.UTC);
    ZonedDateTime nextMonth =
        now.toLocalDate().withDayOfMonth(1).plusMonths(1).atStartOfDay(ZoneOffset.UTC);
    return Optional.of(
        new Submission.OverQuota(
            "monthly-spend",
            "The tenant has spent "
                + figure
                + " micros this month; its cap is "
                + limits.monthlySpendCapMicros()
                + ".",
            Duration.between(now, nextMonth).toSeconds()));
  }

  private static String serverDetail(SQLException e) {
    if (e instanceof PSQLException p && p.getServerErrorMessage() != null) {
      return p.getServerErrorMessage().getDetail();
    }
    throw new IllegalStateException("a limit's refusal without its figure", e);
  }

  /**
   * Inserts the job and its input, in one statement; the job comes back as stored, defaults and
   * all.
   */
  private static final String INSERT =
      "with job as (insert into jobs (id, tenant_id, model_name, model_version, status,"
          + " params, input_media_type, input_width, input_height, input_bytes, input_digest,"
          + " max_attempts, deadline_at, webhook_url, webhook_events, trace_parent)"
          + " values (?, ?, ?, ?, 'queued', ?::jsonb, ?, ?, ?, ?, ?, ?, now() + ?::interval,"
          + " ?, ?, ?)"
          + " returning "
          + JobRows.COLUMNS
          + "), input as (insert into job_payloads (job_id, kind, tenant_id, bytes)"
          + " select id, 'input', tenant_id, ? from job)"
          + " select * from job";

  private static final int INSERT_PARAMETERS = 16;

  private static Job insert(Connection c, NewJob job, String traceparent) throws SQLException {
    try (var st = c.prepareStatement(INSERT)) {
      setInsert(st, c, job, traceparent);
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        return JobRows.job(rs);
      }
    }
  }

  private static void setInsert(PreparedStatement st, Connection c, NewJob job, String traceparent)
      throws SQLException {
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
  }
}
