package io.retina.platform.jobs;

import com.fasterxml.jackson.core.type.TypeReference;
import io.retina.platform.store.Json;
import io.retina.platform.store.Rows;
import io.retina.platform.store.Tx;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * Jobs, their payloads and idempotency records in PostgreSQL: the source of truth of the job
 * contract. Tenant-facing reads are scoped by tenant id. Worker-facing writes are fenced by the
 * attempt number a worker claimed, so a stale or duplicated execution can never overwrite or bill a
 * job twice. Thread-safe.
 */
public final class JobRepository {
  static final String COLUMNS =
      "id, tenant_id, model_name, model_version, status, params, input_media_type, input_width,"
          + " input_height, input_bytes, input_digest, output_media_type, output_bytes, attempts,"
          + " max_attempts, error_type, error_detail, created_at, started_at, finished_at, progress,"
          + " deadline_at";

  private final Tx tx;

  public JobRepository(Tx tx) {
    this.tx = tx;
  }

  /**
   * A claimed job: the attempt number fences everything the claimant writes. {@code timeLeft} is
   * how long the job had until its deadline when it was claimed, by the store's clock (so that a
   * worker's clock need not agree with it); null when the job has no deadline.
   */
  public record Claim(Job job, int attempt, Duration timeLeft) {}

  /** Stores a job (with its input) and its idempotency record, in one transaction. */
  public Submission submit(
      NewJob job,
      AdmissionLimits limits,
      String idempotencyKey,
      String requestDigest,
      Duration keyLock) {
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
              Optional<Submission> refused = checkLimits(c, job.tenantId(), limits);
              if (refused.isPresent()) {
                c.rollback();
                return refused.get();
              }
              Job stored = insert(c, job);
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

  /**
   * Takes the key for this request, or says what an earlier request with the key came to. A key
   * whose lock expired without a job (its node died before storing one) is taken over.
   */
  private Optional<Submission> claimKey(
      Connection c, UUID tenantId, String key, String digest, Duration lock) throws SQLException {
    try (var st =
        c.prepareStatement(
            "insert into idempotency_keys (tenant_id, key, request_digest, locked_until)"
                + " values (?, ?, ?, now() + ?::interval) on conflict do nothing")) {
      st.setObject(1, tenantId);
      st.setString(2, key);
      st.setString(3, digest);
      st.setString(4, lock.toMillis() + " milliseconds");
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
          return Optional.of(new Submission.Replayed(find(c, tenantId, jobId).orElseThrow()));
        }
      }
    }
    try (var st =
        c.prepareStatement(
            "update idempotency_keys set locked_until = now() + ?::interval"
                + " where tenant_id = ? and key = ?")) {
      st.setString(1, lock.toMillis() + " milliseconds");
      st.setObject(2, tenantId);
      st.setString(3, key);
      st.executeUpdate();
    }
    return Optional.empty();
  }

  /**
   * Checks the tenant's concurrency and spend limits under a per-tenant transaction lock, so that
   * concurrent submissions on any nodes are counted one after another.
   */
  private static Optional<Submission> checkLimits(
      Connection c, UUID tenantId, AdmissionLimits limits) throws SQLException {
    if (limits.equals(AdmissionLimits.NONE)) {
      return Optional.empty();
    }
    try (var st = c.prepareStatement("select pg_advisory_xact_lock(hashtextextended(?, 0))")) {
      st.setString(1, tenantId.toString());
      st.execute();
    }
    try (var st =
        c.prepareStatement(
            "select count(*) from jobs where tenant_id = ? and status in ('queued', 'running')")) {
      st.setObject(1, tenantId);
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        long unfinished = rs.getLong(1);
        if (unfinished >= limits.maxConcurrentJobs()) {
          return Optional.of(
              new Submission.OverQuota(
                  "concurrent-jobs",
                  "The tenant has "
                      + unfinished
                      + " jobs queued or running; its limit is "
                      + limits.maxConcurrentJobs()
                      + ".",
                  2));
        }
      }
    }
    try (var st =
        c.prepareStatement(
            "select coalesce(sum(amount_micros), 0) from usage_ledger where tenant_id = ?"
                + " and recorded_at >= date_trunc('month', now() at time zone 'UTC') at time zone 'UTC'")) {
      st.setObject(1, tenantId);
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        long spent = rs.getLong(1);
        if (spent >= limits.monthlySpendCapMicros()) {
          var now = java.time.ZonedDateTime.now(java.time.ZoneOffset.UTC);
          var next =
              now.toLocalDate()
                  .withDayOfMonth(1)
                  .plusMonths(1)
                  .atStartOfDay(java.time.ZoneOffset.UTC);
          return Optional.of(
              new Submission.OverQuota(
                  "monthly-spend",
                  "The tenant has spent "
                      + spent
                      + " micros this month; its cap is "
                      + limits.monthlySpendCapMicros()
                      + ".",
                  Duration.between(now, next).toSeconds()));
        }
      }
    }
    return Optional.empty();
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

  private Job insert(Connection c, NewJob job) throws SQLException {
    UUID id = UUID.randomUUID();
    try (var st =
        c.prepareStatement(
            "insert into jobs (id, tenant_id, model_name, model_version, status, params,"
                + " input_media_type, input_width, input_height, input_bytes, input_digest,"
                + " max_attempts, deadline_at)"
                + " values (?, ?, ?, ?, 'queued', ?::jsonb, ?, ?, ?, ?, ?, ?, now() + ?::interval)")) {
      st.setObject(1, id);
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
      st.setString(12, job.deadline() == null ? null : job.deadline().toMillis() + " milliseconds");
      st.executeUpdate();
    }
    try (var st =
        c.prepareStatement(
            "insert into job_payloads (job_id, kind, tenant_id, bytes) values (?, 'input', ?, ?)")) {
      st.setObject(1, id);
      st.setObject(2, job.tenantId());
      st.setBytes(3, job.input());
      st.executeUpdate();
    }
    return find(c, job.tenantId(), id).orElseThrow();
  }

  /** A tenant's job; another tenant's id reads exactly like a missing one. */
  public Optional<Job> find(UUID tenantId, UUID jobId) {
    return tx.forTenant(tenantId).call(c -> find(c, tenantId, jobId));
  }

  private static Optional<Job> find(Connection c, UUID tenantId, UUID jobId) throws SQLException {
    try (var st =
        c.prepareStatement("select " + COLUMNS + " from jobs where id = ? and tenant_id = ?")) {
      st.setObject(1, jobId);
      st.setObject(2, tenantId);
      try (ResultSet rs = st.executeQuery()) {
        return rs.next() ? Optional.of(job(rs)) : Optional.empty();
      }
    }
  }

  /** One page of a tenant's jobs, newest first, after the cursor's position. */
  public JobPage list(UUID tenantId, JobStatus status, JobCursor after, int limit) {
    return tx.forTenant(tenantId)
        .call(
            c -> {
              StringBuilder sql =
                  new StringBuilder("select " + COLUMNS + " from jobs where tenant_id = ?");
              if (status != null) {
                sql.append(" and status = ?");
              }
              if (after != null) {
                sql.append(" and (created_at, id) < (?, ?)");
              }
              sql.append(" order by created_at desc, id desc limit ?");
              try (var st = c.prepareStatement(sql.toString())) {
                int i = 1;
                st.setObject(i++, tenantId);
                if (status != null) {
                  st.setString(i++, status.dbValue());
                }
                if (after != null) {
                  st.setTimestamp(i++, Rows.timestamp(after.createdAt()));
                  st.setObject(i++, after.id());
                }
                st.setInt(i, limit + 1);
                List<Job> jobs = new ArrayList<>();
                try (ResultSet rs = st.executeQuery()) {
                  while (rs.next()) {
                    jobs.add(job(rs));
                  }
                }
                if (jobs.size() <= limit) {
                  return new JobPage(jobs, null);
                }
                Job last = jobs.get(limit - 1);
                return new JobPage(
                    jobs.subList(0, limit), new JobCursor(last.createdAt(), last.id()));
              }
            });
  }

  /** How many of the tenant's jobs are queued or running. */
  public long unfinished(UUID tenantId) {
    return tx.forTenant(tenantId)
        .call(
            c -> {
              try (var st =
                  c.prepareStatement(
                      "select count(*) from jobs where tenant_id = ?"
                          + " and status in ('queued', 'running')")) {
                st.setObject(1, tenantId);
                try (ResultSet rs = st.executeQuery()) {
                  rs.next();
                  return rs.getLong(1);
                }
              }
            });
  }

  /** How many queued jobs of the same model version were submitted before this one. */
  public long queuePosition(Job job) {
    return tx.system()
        .call(
            c -> {
              try (var st =
                  c.prepareStatement(
                      "select count(*) from jobs where status = 'queued' and model_name = ?"
                          + " and model_version = ? and (created_at, id) < (?, ?)")) {
                st.setString(1, job.modelName());
                st.setInt(2, job.modelVersion());
                st.setTimestamp(3, Rows.timestamp(job.createdAt()));
                st.setObject(4, job.id());
                try (ResultSet rs = st.executeQuery()) {
                  rs.next();
                  return rs.getLong(1);
                }
              }
            });
  }

  /**
   * Cancels a tenant's job that has not finished. A running job's worker finds its fence gone and
   * its result is discarded. Returns the job as it now is, or empty if the tenant has no such job.
   */
  public Optional<Job> cancel(UUID tenantId, UUID jobId) {
    return tx.forTenant(tenantId)
        .call(
            c -> {
              JobCancellation.cancelUnfinished(
                  c, tenantId, jobId, "canceled at the tenant's request");
              return find(c, tenantId, jobId);
            });
  }

  /** The job's input image. */
  public Optional<byte[]> input(UUID jobId) {
    return payload(null, jobId, "input");
  }

  /** A tenant's job's output, if it has one. */
  public Optional<byte[]> output(UUID tenantId, UUID jobId) {
    return payload(tenantId, jobId, "output");
  }

  private Optional<byte[]> payload(UUID tenantId, UUID jobId, String kind) {
    return (tenantId == null ? tx.system() : tx.forTenant(tenantId))
        .call(
            c -> {
              String sql = "select bytes from job_payloads where job_id = ? and kind = ?";
              try (var st =
                  c.prepareStatement(tenantId == null ? sql : sql + " and tenant_id = ?")) {
                st.setObject(1, jobId);
                st.setString(2, kind);
                if (tenantId != null) {
                  st.setObject(3, tenantId);
                }
                try (ResultSet rs = st.executeQuery()) {
                  return rs.next() ? Optional.of(rs.getBytes(1)) : Optional.empty();
                }
              }
            });
  }

  /**
   * Claims a job for execution: a queued job, or a running one whose lease expired, whose attempts
   * are not used up. Empty if someone else holds it, it finished, or it was canceled. A job whose
   * deadline has passed is not claimed but failed, {@code deadline-exceeded}, in the same
   * transaction.
   */
  public Optional<Claim> claim(UUID jobId, String owner, Duration lease) {
    return tx.system()
        .call(
            c -> {
              try (var st =
                  c.prepareStatement(
                      "update jobs set status = 'failed', error_type = 'deadline-exceeded',"
                          + " error_detail = ?, finished_at = now(), lease_owner = null,"
                          + " lease_expires_at = null where id = ? and deadline_at <= now()"
                          + " and (status = 'queued' or (status = 'running' and lease_expires_at < now()))")) {
                st.setString(1, DEADLINE_PASSED_QUEUED);
                st.setObject(2, jobId);
                if (st.executeUpdate() == 1) {
                  return Optional.empty();
                }
              }
              try (var st =
                  c.prepareStatement(
                      "update jobs set status = 'running', attempts = attempts + 1, lease_owner = ?,"
                          + " lease_expires_at = now() + ?::interval, progress = null,"
                          + " started_at = coalesce(started_at, now())"
                          + " where id = ? and attempts < max_attempts and (status = 'queued'"
                          + " or (status = 'running' and lease_expires_at < now()))"
                          + " returning "
                          + COLUMNS
                          + ", (extract(epoch from deadline_at - now()) * 1000)::bigint as left_ms")) {
                st.setString(1, owner);
                st.setString(2, lease.toMillis() + " milliseconds");
                st.setObject(3, jobId);
                try (ResultSet rs = st.executeQuery()) {
                  if (!rs.next()) {
                    return Optional.empty();
                  }
                  Job job = job(rs);
                  Long left = Rows.nullableLong(rs, "left_ms");
                  return Optional.of(
                      new Claim(
                          job, job.attempts(), left == null ? null : Duration.ofMillis(left)));
                }
              }
            });
  }

  /** What a job failed for its deadline before it started is told. */
  private static final String DEADLINE_PASSED_QUEUED =
      "the job's deadline passed before a worker could start it";

  /**
   * Whether the job is still running at this attempt: false once it was canceled, failed by the
   * sweeper, or claimed again. A worker asks between steps of long work, so that a cancel frees it.
   */
  public boolean stillHeld(UUID jobId, int attempt) {
    return tx.system()
        .call(
            c -> {
              try (var st =
                  c.prepareStatement(
                      "select 1 from jobs where id = ? and attempts = ? and status = 'running'")) {
                st.setObject(1, jobId);
                st.setInt(2, attempt);
                try (ResultSet rs = st.executeQuery()) {
                  return rs.next();
                }
              }
            });
  }

  /**
   * Records how far the attempt has got, {@code fraction} of its work (0..1), while the job is
   * still running at this attempt; false if the fence moved on.
   */
  public boolean reportProgress(UUID jobId, int attempt, double fraction) {
    if (!(fraction >= 0 && fraction <= 1)) {
      throw new IllegalArgumentException("progress is a fraction from 0 to 1, not " + fraction);
    }
    return tx.system()
        .call(
            c -> {
              try (var st =
                  c.prepareStatement(
                      "update jobs set progress = ?"
                          + " where id = ? and attempts = ? and status = 'running'")) {
                st.setFloat(1, (float) fraction);
                st.setObject(2, jobId);
                st.setInt(3, attempt);
                return st.executeUpdate() == 1;
              }
            });
  }

  /** Extends the lease of a job still held at this attempt; false if the fence moved on. */
  public boolean renewLease(UUID jobId, int attempt, Duration lease) {
    return tx.system()
        .call(
            c -> {
              try (var st =
                  c.prepareStatement(
                      "update jobs set lease_expires_at = now() + ?::interval"
                          + " where id = ? and attempts = ? and status = 'running'")) {
                st.setString(1, lease.toMillis() + " milliseconds");
                st.setObject(2, jobId);
                st.setInt(3, attempt);
                return st.executeUpdate() == 1;
              }
            });
  }

  /**
   * Commits a success exactly once: the output, the final state and the usage ledger row in one
   * transaction, only if the job is still running at this attempt. False if the fence moved on
   * (canceled, reclaimed).
   */
  public boolean succeed(
      Claim claim, String outputMediaType, byte[] output, String outputDigest, long priceMicros) {
    Job job = claim.job();
    return tx.system()
        .call(
            c -> {
              try (var st =
                  c.prepareStatement(
                      "update jobs set status = 'succeeded', output_media_type = ?, output_bytes = ?,"
                          + " output_digest = ?, finished_at = now(), lease_owner = null,"
                          + " lease_expires_at = null where id = ? and attempts = ? and status = 'running'")) {
                st.setString(1, outputMediaType);
                st.setLong(2, output.length);
                st.setString(3, outputDigest);
                st.setObject(4, job.id());
                st.setInt(5, claim.attempt());
                if (st.executeUpdate() != 1) {
                  c.rollback();
                  return false;
                }
              }
              try (var st =
                  c.prepareStatement(
                      "insert into job_payloads (job_id, kind, tenant_id, bytes) values (?, 'output', ?, ?)")) {
                st.setObject(1, job.id());
                st.setObject(2, job.tenantId());
                st.setBytes(3, output);
                st.executeUpdate();
              }
              try (var st =
                  c.prepareStatement(
                      "insert into usage_ledger (job_id, tenant_id, model_name, model_version, megapixels,"
                          + " amount_micros) values (?, ?, ?, ?, ?, ?)")) {
                st.setObject(1, job.id());
                st.setObject(2, job.tenantId());
                st.setString(3, job.modelName());
                st.setInt(4, job.modelVersion());
                st.setBigDecimal(5, java.math.BigDecimal.valueOf(job.pixels()).movePointLeft(6));
                st.setLong(6, priceMicros);
                st.executeUpdate();
              }
              return true;
            });
  }

  /**
   * Records a failure that retrying won't cure, fenced like a success. Nothing is billed. The
   * detail is stored as the tenant will read it ({@link JobErrorDetail}).
   */
  public boolean fail(Claim claim, String errorType, String detail) {
    return tx.system()
        .call(
            c -> {
              try (var st =
                  c.prepareStatement(
                      "update jobs set status = 'failed', error_type = ?, error_detail = ?,"
                          + " finished_at = now(), lease_owner = null, lease_expires_at = null"
                          + " where id = ? and attempts = ? and status = 'running'")) {
                st.setString(1, errorType);
                st.setString(2, JobErrorDetail.forTenant(detail));
                st.setObject(3, claim.job().id());
                st.setInt(4, claim.attempt());
                return st.executeUpdate() == 1;
              }
            });
  }

  /**
   * Hands a claimed job back to the queue (its worker is stopping, or failed transiently); the
   * attempt stays counted, so a job that keeps failing its workers ends once its attempts are used
   * up.
   */
  public boolean release(Claim claim, String reason) {
    return tx.system()
        .call(
            c -> {
              try (var st =
                  c.prepareStatement(
                      "update jobs set status = 'queued', lease_owner = null, lease_expires_at = null,"
                          + " error_detail = ? where id = ? and attempts = ? and status = 'running'")) {
                st.setString(1, JobErrorDetail.forTenant(reason));
                st.setObject(2, claim.job().id());
                st.setInt(3, claim.attempt());
                return st.executeUpdate() == 1;
              }
            });
  }

  /** A job the sweeper should look at, with the runner it belongs to. */
  public record Stray(UUID jobId, String modelName, int modelVersion, UUID tenantId, int weight) {}

  /**
   * Jobs that need a nudge: queued longer than {@code unclaimedFor} (their dispatch hint was lost)
   * or running with an expired lease (their worker is gone). Oldest first, at most {@code limit}.
   */
  public List<Stray> strays(Duration unclaimedFor, int limit) {
    return tx.system()
        .call(
            c -> {
              try (var st =
                  c.prepareStatement(
                      "select j.id, j.model_name, j.model_version, j.tenant_id, p.weight"
                          + " from jobs j join tenants t on t.id = j.tenant_id"
                          + " join plans p on p.name = t.plan where"
                          + " (j.status = 'queued' and j.created_at < now() - ?::interval)"
                          + " or (j.status = 'running' and j.lease_expires_at < now())"
                          + " order by j.created_at limit ?")) {
                st.setString(1, unclaimedFor.toMillis() + " milliseconds");
                st.setInt(2, limit);
                List<Stray> out = new ArrayList<>();
                try (ResultSet rs = st.executeQuery()) {
                  while (rs.next()) {
                    out.add(
                        new Stray(
                            Rows.uuid(rs, "id"),
                            rs.getString("model_name"),
                            rs.getInt("model_version"),
                            Rows.uuid(rs, "tenant_id"),
                            rs.getInt("weight")));
                  }
                }
                return out;
              }
            });
  }

  /**
   * Fails jobs whose lease expired with every attempt used: no worker may take them again. Returns
   * how many.
   */
  public int failExhausted() {
    return tx.system()
        .call(
            c -> {
              try (PreparedStatement st =
                  c.prepareStatement(
                      "update jobs set status = 'failed', error_type = 'attempts-exhausted',"
                          + " error_detail = 'the job was tried ' || attempts || ' times and no worker"
                          + " finished it', finished_at = now(), lease_owner = null, lease_expires_at = null"
                          + " where attempts >= max_attempts and (status = 'queued'"
                          + " or (status = 'running' and lease_expires_at < now()))")) {
                return st.executeUpdate();
              }
            });
  }

  /**
   * Fails unfinished jobs whose deadline has passed: queued ones at once, running ones {@code
   * grace} after it (their worker stops them itself within a second; this is for a worker that is
   * gone or stuck). Type {@code deadline-exceeded}; nothing is billed. Returns how many.
   */
  public int failExpired(Duration grace) {
    return tx.system()
        .call(
            c -> {
              try (PreparedStatement st =
                  c.prepareStatement(
                      "update jobs set status = 'failed', error_type = 'deadline-exceeded',"
                          + " error_detail = case when status = 'queued' then ? else ? end,"
                          + " finished_at = now(), lease_owner = null, lease_expires_at = null"
                          + " where status in ('queued', 'running') and deadline_at <= now()"
                          + " and (status = 'queued' or deadline_at <= now() - ?::interval)")) {
                st.setString(1, DEADLINE_PASSED_QUEUED);
                st.setString(2, DEADLINE_PASSED_RUNNING);
                st.setString(3, grace.toMillis() + " milliseconds");
                return st.executeUpdate();
              }
            });
  }

  /** What a job failed for its deadline while it ran is told. */
  public static final String DEADLINE_PASSED_RUNNING =
      "the job's deadline passed while it ran; it was stopped and is not billed";

  static Job job(ResultSet rs) throws SQLException {
    return new Job(
        Rows.uuid(rs, "id"),
        Rows.uuid(rs, "tenant_id"),
        rs.getString("model_name"),
        rs.getInt("model_version"),
        JobStatus.fromDb(rs.getString("status")),
        Json.read(rs.getString("params"), new TypeReference<Map<String, String>>() {}),
        rs.getString("input_media_type"),
        rs.getInt("input_width"),
        rs.getInt("input_height"),
        rs.getLong("input_bytes"),
        rs.getString("input_digest"),
        rs.getString("output_media_type"),
        Rows.nullableLong(rs, "output_bytes"),
        rs.getInt("attempts"),
        rs.getInt("max_attempts"),
        rs.getString("error_type"),
        rs.getString("error_detail"),
        Rows.instant(rs, "created_at"),
        Rows.instant(rs, "started_at"),
        Rows.instant(rs, "finished_at"),
        rs.getObject("progress") == null ? null : rs.getDouble("progress"),
        Rows.instant(rs, "deadline_at"));
  }
}
