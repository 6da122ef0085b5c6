package io.retina.platform.jobs;

import io.retina.platform.store.Rows;
import io.retina.platform.store.Tx;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * A tenant's jobs as the tenant sees them: find, list, count, cancel, and read a result. Every call
 * is scoped by tenant id, so another tenant's job reads exactly like a missing one. Jobs enter the
 * store through {@link JobSubmissions} and are run under {@link JobLeases}. Thread-safe.
 */
public final class JobRepository {
  /** The tenant's unfinished jobs: what its account shows and what its concurrency limit counts. */
  static final String UNFINISHED =
      "select count(*) from jobs where tenant_id = ? and status in ('queued', 'running')";

  private final Tx tx;

  public JobRepository(Tx tx) {
    this.tx = tx;
  }

  /** A tenant's job; another tenant's id reads exactly like a missing one. */
  public Optional<Job> find(UUID tenantId, UUID jobId) {
    return tx.forTenant(tenantId).single(c -> JobRows.find(c, tenantId, jobId));
  }

  /** One page of a tenant's jobs, newest first, after the cursor's position. */
  public JobPage list(UUID tenantId, JobStatus status, JobCursor after, int limit) {
    return tx.forTenant(tenantId)
        .single(
            c -> {
              StringBuilder sql =
                  new StringBuilder("select " + JobRows.COLUMNS + " from jobs where tenant_id = ?");
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
                    jobs.add(JobRows.job(rs));
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
        .single(
            c -> {
              try (var st = c.prepareStatement(UNFINISHED)) {
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
        .single(
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
              return JobRows.find(c, tenantId, jobId);
            });
  }

  /** A job with its output bytes (null until it succeeded). */
  public record WithOutput(Job job, byte[] output) {}

  /** The tenant's job and its output in one query, as a result download needs them. */
  public Optional<WithOutput> withOutput(UUID tenantId, UUID jobId) {
    return tx.forTenant(tenantId)
        .single(
            c -> {
              try (var st =
                  c.prepareStatement(
                      "select "
                          + JobRows.COLUMNS
                          + ", (select p.bytes from job_payloads p where p.job_id = jobs.id"
                          + " and p.kind = 'output') as output"
                          + " from jobs where id = ? and tenant_id = ?")) {
                st.setObject(1, jobId);
                st.setObject(2, tenantId);
                try (ResultSet rs = st.executeQuery()) {
                  return rs.next()
                      ? Optional.of(new WithOutput(JobRows.job(rs), rs.getBytes("output")))
                      : Optional.empty();
                }
              }
            });
  }
}
