package io.retina.platform.jobs;

import io.retina.platform.store.Rows;
import io.retina.platform.store.Tx;
import java.math.BigDecimal;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * The workers' side of the job contract: claiming a job under a lease, keeping it, and ending it,
 * and the sweeper's recovery of jobs whose workers are gone. Every write a worker makes is fenced
 * by the attempt number it claimed, so a stale or duplicated execution can never overwrite or bill
 * a job twice. Runs in system scope. Thread-safe.
 */
public final class JobLeases {
  private final Tx tx;

  public JobLeases(Tx tx) {
    this.tx = tx.system();
  }

  /**
   * A claimed job and its input image: the attempt number fences everything the claimant writes.
   * {@code timeLeft} is how long the job had until its deadline when it was claimed, by the store's
   * clock (so that a worker's clock need not agree with it); null when the job has no deadline.
   * {@code traceparent} is the W3C trace context its submission was stored with, null if untraced.
   */
  public record Claim(Job job, int attempt, Duration timeLeft, byte[] input, String traceparent) {}

  /** A job the sweeper should look at, with the runner it belongs to. */
  public record Stray(UUID jobId, String modelName, int modelVersion, UUID tenantId, int weight) {}

  /** What a job failed for its deadline before it started is told. */
  private static final String DEADLINE_PASSED_QUEUED =
      "the job's deadline passed before a worker could start it";

  /** What a job failed for its deadline while it ran is told. */
  public static final String DEADLINE_PASSED_RUNNING =
      "the job's deadline passed while it ran; it was stopped and is not billed";

  /**
   * Claims a job for execution, with its input: a queued job, or a running one whose lease expired,
   * whose attempts are not used up. Empty if someone else holds it, it finished, or it was
   * canceled. A job whose deadline has passed is not claimed but failed, {@code deadline-exceeded},
   * in the same transaction.
   */
  public Optional<Claim> claim(UUID jobId, String owner, Duration lease) {
    // one statement: a claimable job past its deadline is failed by the first part, any other is
    // claimed by the second; the two conditions on the deadline exclude each other
    return tx.single(
        c -> {
          try (var st =
              c.prepareStatement(
                  "with expired as (update jobs set status = 'failed',"
                      + " error_type = 'deadline-exceeded', error_detail = ?, finished_at = now(),"
                      + " lease_owner = null, lease_expires_at = null"
                      + " where id = ? and deadline_at <= now() and "
                      + CLAIMABLE
                      + " returning id)"
                      + " update jobs set status = 'running', attempts = attempts + 1, lease_owner = ?,"
                      + " lease_expires_at = now() + ?::interval, progress = null,"
                      + " started_at = coalesce(started_at, now())"
                      + " where id = ? and attempts < max_attempts"
                      + " and (deadline_at is null or deadline_at > now()) and "
                      + CLAIMABLE
                      + " returning "
                      + JobRows.COLUMNS
                      + ", trace_parent, (extract(epoch from deadline_at - now()) * 1000)::bigint"
                      + " as left_ms,"
                      + " (select p.bytes from job_payloads p"
                      + " where p.job_id = jobs.id and p.kind = 'input') as input")) {
            st.setString(1, DEADLINE_PASSED_QUEUED);
            st.setObject(2, jobId);
            st.setString(3, owner);
            st.setString(4, Rows.interval(lease));
            st.setObject(5, jobId);
            try (ResultSet rs = st.executeQuery()) {
              if (!rs.next()) {
                return Optional.empty();
              }
              Job job = JobRows.job(rs);
              Long left = Rows.nullableLong(rs, "left_ms");
              return Optional.of(
                  new Claim(
                      job,
                      job.attempts(),
                      left == null ? null : Duration.ofMillis(left),
                      rs.getBytes("input"),
                      rs.getString("trace_parent")));
            }
          }
        });
  }

  /** A job no worker holds: queued, or running on a lease that expired. */
  private static final String CLAIMABLE =
      "(status = 'queued' or (status = 'running' and lease_expires_at < now()))";

  /**
   * Whether the job is still running at this attempt: false once it was canceled, failed by the
   * sweeper, or claimed again. A worker asks between steps of long work, so that a cancel frees it.
   */
  public boolean stillHeld(UUID jobId, int attempt) {
    return tx.single(
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
    return tx.single(
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
    return tx.single(
        c -> {
          try (var st =
              c.prepareStatement(
                  "update jobs set lease_expires_at = now() + ?::interval"
                      + " where id = ? and attempts = ? and status = 'running'")) {
            st.setString(1, Rows.interval(lease));
            st.setObject(2, jobId);
            st.setInt(3, attempt);
            return st.executeUpdate() == 1;
          }
        });
  }

  /**
   * Commits a success exactly once: the output, the final state and the usage ledger row in one
   * transaction, only if the job is still running at this attempt; returns the job as committed.
   * Empty if the fence moved on (canceled, reclaimed).
   */
  public Optional<Job> succeed(
      Claim claim, String outputMediaType, byte[] output, String outputDigest, long priceMicros) {
    Job job = claim.job();
    // one statement: the payload, the ledger row and the month's spend are written only if the
    // fenced update matched
    return tx.single(
        c -> {
          try (var st =
              c.prepareStatement(
                  "with "
                      + INPUT_AT_END
                      + ", done as (update jobs set status = 'succeeded', output_media_type = ?,"
                      + " output_bytes = ?, output_digest = ?, finished_at = now(),"
                      + " lease_owner = null, lease_expires_at = null, "
                      + INPUT_MARKED
                      + " where id = ? and attempts = ? and status = 'running'"
                      + " returning "
                      + JobRows.COLUMNS
                      + "), "
                      + INPUT_DELETED
                      + ", payload as (insert into job_payloads (job_id, kind, tenant_id, bytes)"
                      + " select id, 'output', tenant_id, ? from done),"
                      + " ledger as (insert into usage_ledger (job_id, tenant_id, model_name,"
                      + " model_version, megapixels, amount_micros)"
                      + " select id, tenant_id, model_name, model_version, ?, ? from done),"
                      + " spend as (insert into tenant_monthly_spend as s"
                      + " (tenant_id, month, shard, amount_micros)"
                      + " select tenant_id, date_trunc('month', now() at time zone 'UTC')::date,"
                      + " floor(random() * 8)::smallint, ? from done"
                      + " on conflict (tenant_id, month, shard)"
                      + " do update set amount_micros = s.amount_micros + excluded.amount_micros)"
                      + " select * from done")) {
            st.setObject(1, job.tenantId());
            st.setString(2, outputMediaType);
            st.setLong(3, output.length);
            st.setString(4, outputDigest);
            st.setObject(5, job.id());
            st.setInt(6, claim.attempt());
            st.setBytes(7, output);
            st.setBigDecimal(8, BigDecimal.valueOf(job.pixels()).movePointLeft(6));
            st.setLong(9, priceMicros);
            st.setLong(10, priceMicros);
            try (ResultSet rs = st.executeQuery()) {
              return rs.next() ? Optional.of(JobRows.job(rs)) : Optional.<Job>empty();
            }
          }
        });
  }

  /**
   * Records a failure that retrying won't cure, fenced like a success. Nothing is billed. The
   * detail is stored as the tenant will read it ({@link JobErrorDetail}).
   */
  public boolean fail(Claim claim, String errorType, String detail) {
    return tx.single(
        c -> {
          try (var st =
              c.prepareStatement(
                  "with "
                      + INPUT_AT_END
                      + ", done as (update jobs set status = 'failed', error_type = ?,"
                      + " error_detail = ?, finished_at = now(), lease_owner = null,"
                      + " lease_expires_at = null, "
                      + INPUT_MARKED
                      + " where id = ? and attempts = ? and status = 'running'"
                      + " returning id, input_deleted_at), "
                      + INPUT_DELETED
                      + " select count(*) from done")) {
            st.setObject(1, claim.job().tenantId());
            st.setString(2, errorType);
            st.setString(3, JobErrorDetail.forTenant(detail));
            st.setObject(4, claim.job().id());
            st.setInt(5, claim.attempt());
            try (ResultSet rs = st.executeQuery()) {
              rs.next();
              return rs.getInt(1) == 1;
            }
          }
        });
  }

  /*
   * A worker's end of a job deletes the job's input in the same statement when the tenant keeps
   * inputs for no time after their jobs end (the default): the purge would otherwise do it within a
   * minute, with a second update of the job's row and its indexes. The three parts go into one
   * WITH: whether the input goes (one parameter, the tenant), the marks on the job's row (in the
   * fenced update's SET), and the deletion (after the update, so only if the fence held).
   */

  /** Whether the tenant keeps no inputs: its own period, else its plan's, is zero. */
  private static final String INPUT_AT_END =
      "input_at_end as (select coalesce(r.inputs_kept, p.inputs_kept) = interval '0' as due"
          + " from tenants t join plans p on p.name = t.plan"
          + " left join tenant_retention r on r.tenant_id = t.id where t.id = ?)";

  /** The job's marks when its input goes now, as the purge would leave them. */
  private static final String INPUT_MARKED =
      "input_deleted_at = case when (select due from input_at_end)"
          + " then coalesce(input_deleted_at, now()) else input_deleted_at end,"
          + " data_deleted_by = case when (select due from input_at_end)"
          + " then coalesce(data_deleted_by, 'retention') else data_deleted_by end";

  /** The input's deletion, for a job {@code done} ended and marked. */
  private static final String INPUT_DELETED =
      "input_gone as (delete from job_payloads x using done where x.job_id = done.id"
          + " and x.kind = 'input' and done.input_deleted_at is not null)";

  /**
   * Hands a claimed job back to the queue (its worker is stopping, or failed transiently); the
   * attempt stays counted, so a job that keeps failing its workers ends once its attempts are used
   * up.
   */
  public boolean release(Claim claim, String reason) {
    return tx.single(
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

  /**
   * Jobs that need a nudge: queued longer than {@code unclaimedFor} (their dispatch hint was lost)
   * or running with an expired lease (their worker is gone). Oldest first, at most {@code limit}.
   */
  public List<Stray> strays(Duration unclaimedFor, int limit) {
    return tx.single(
        c -> {
          try (var st =
              c.prepareStatement(
                  "select j.id, j.model_name, j.model_version, j.tenant_id, p.weight"
                      + " from jobs j join tenants t on t.id = j.tenant_id"
                      + " join plans p on p.name = t.plan where"
                      + " (j.status = 'queued' and j.created_at < now() - ?::interval)"
                      + " or (j.status = 'running' and j.lease_expires_at < now())"
                      + " order by j.created_at limit ?")) {
            st.setString(1, Rows.interval(unclaimedFor));
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
    return tx.single(
        c -> {
          try (var st =
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
    return tx.single(
        c -> {
          try (var st =
              c.prepareStatement(
                  "update jobs set status = 'failed', error_type = 'deadline-exceeded',"
                      + " error_detail = case when status = 'queued' then ? else ? end,"
                      + " finished_at = now(), lease_owner = null, lease_expires_at = null"
                      + " where status in ('queued', 'running') and deadline_at <= now()"
                      + " and (status = 'queued' or deadline_at <= now() - ?::interval)")) {
            st.setString(1, DEADLINE_PASSED_QUEUED);
            st.setString(2, DEADLINE_PASSED_RUNNING);
            st.setString(3, Rows.interval(grace));
            return st.executeUpdate();
          }
        });
  }
}
