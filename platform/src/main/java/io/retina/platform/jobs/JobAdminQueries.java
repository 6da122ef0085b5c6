package io.retina.platform.jobs;

import io.retina.platform.store.Rows;
import io.retina.platform.store.Tx;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * Jobs across tenants, for the platform's operators: find a job by its status, tenant or model, see
 * why it failed or where it is stuck, and cancel it. Every call runs in system scope; nothing here
 * reads payload bytes. Thread-safe.
 */
public final class JobAdminQueries {
  /** The most jobs one page may hold, whatever a caller asks. */
  public static final int MAX_LIMIT = 500;

  private static final String CANCEL_REASON = "canceled by an operator";

  private final Tx tx;

  public JobAdminQueries(Tx tx) {
    this.tx = tx.system();
  }

  /** Which jobs to list; a null member does not filter. */
  public record Filter(JobStatus status, UUID tenantId, String modelName) {
    public static final Filter NONE = new Filter(null, null, null);
  }

  /**
   * A job with what an operator needs beside it: its tenant's name, and who holds its lease until
   * when while it runs.
   */
  public record TenantJob(Job job, String tenantName, String leaseOwner, Instant leaseExpiresAt) {}

  /** One page of jobs, newest first, and the cursor of the next page, null on the last. */
  public record Page(List<TenantJob> jobs, JobCursor next) {}

  /** What an operator's cancel came to. */
  public sealed interface Cancellation {
    /** The job was queued or running and is canceled now. */
    record Canceled(TenantJob job) implements Cancellation {}

    /** The job had already succeeded, failed or been canceled; it is unchanged. */
    record AlreadyFinished(TenantJob job) implements Cancellation {}

    /** No job has that id. */
    enum NotFound implements Cancellation {
      INSTANCE
    }
  }

  private static final String SELECT =
      "select "
          + JobRows.COLUMNS
          + ", lease_owner, lease_expires_at,"
          + " (select t.name from tenants t where t.id = jobs.tenant_id) as tenant_name from jobs";

  /** One page of every tenant's jobs that pass the filter, newest first, after the cursor. */
  public Page list(Filter filter, JobCursor after, int limit) {
    if (limit < 1 || limit > MAX_LIMIT) {
      throw new IllegalArgumentException("limit is 1 to " + MAX_LIMIT + ", not " + limit);
    }
    return tx.call(
        c -> {
          List<String> where = new ArrayList<>();
          List<Object> args = new ArrayList<>();
          if (filter.status() != null) {
            where.add("status = ?");
            args.add(filter.status().dbValue());
          }
          if (filter.tenantId() != null) {
            where.add("tenant_id = ?");
            args.add(filter.tenantId());
          }
          if (filter.modelName() != null) {
            where.add("model_name = ?");
            args.add(filter.modelName());
          }
          if (after != null) {
            where.add("(created_at, id) < (?, ?)");
            args.add(Rows.timestamp(after.createdAt()));
            args.add(after.id());
          }
          String sql =
              SELECT
                  + (where.isEmpty() ? "" : " where " + String.join(" and ", where))
                  + " order by created_at desc, id desc limit ?";
          List<TenantJob> jobs = new ArrayList<>();
          try (var st = c.prepareStatement(sql)) {
            int i = 1;
            for (Object arg : args) {
              st.setObject(i++, arg);
            }
            st.setInt(i, limit + 1);
            try (ResultSet rs = st.executeQuery()) {
              while (rs.next()) {
                jobs.add(tenantJob(rs));
              }
            }
          }
          if (jobs.size() <= limit) {
            return new Page(jobs, null);
          }
          Job last = jobs.get(limit - 1).job();
          return new Page(jobs.subList(0, limit), new JobCursor(last.createdAt(), last.id()));
        });
  }

  /** Any tenant's job by its id. */
  public Optional<TenantJob> find(UUID jobId) {
    return tx.call(c -> find(c, jobId, false));
  }

  /**
   * Cancels a job of any tenant if it has not finished, with the same statement as a tenant's own
   * cancel. The job's row is locked while it is looked at, so a worker finishing it meanwhile makes
   * this {@link Cancellation.AlreadyFinished}, never a cancel of a finished job.
   */
  public Cancellation cancel(UUID jobId) {
    return tx.call(
        c -> {
          Optional<TenantJob> found = find(c, jobId, true);
          if (found.isEmpty()) {
            return Cancellation.NotFound.INSTANCE;
          }
          Job job = found.get().job();
          if (job.status().isFinal()) {
            return new Cancellation.AlreadyFinished(found.get());
          }
          JobCancellation.cancelUnfinished(c, job.tenantId(), jobId, CANCEL_REASON);
          return new Cancellation.Canceled(find(c, jobId, false).orElseThrow());
        });
  }

  private static Optional<TenantJob> find(Connection c, UUID jobId, boolean lock)
      throws SQLException {
    try (var st = c.prepareStatement(SELECT + " where id = ?" + (lock ? " for update" : ""))) {
      st.setObject(1, jobId);
      try (ResultSet rs = st.executeQuery()) {
        return rs.next() ? Optional.of(tenantJob(rs)) : Optional.empty();
      }
    }
  }

  private static TenantJob tenantJob(ResultSet rs) throws SQLException {
    return new TenantJob(
        JobRows.job(rs),
        rs.getString("tenant_name"),
        rs.getString("lease_owner"),
        Rows.instant(rs, "lease_expires_at"));
  }
}
