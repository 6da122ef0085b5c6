package io.retina.platform.jobs;

import io.retina.platform.store.Rows;
import io.retina.platform.store.Tx;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * How long finished jobs' images are kept, and their deletion: by the background purge when their
 * time is up, or at once when a tenant asks. A job's row (its metadata) and its ledger row stay;
 * the job records when each image went and why. A plan sets the periods for its tenants (results 24
 * hours, inputs none); a tenant may set its own. Thread-safe.
 */
public final class JobRetention {
  /** The longest a tenant may keep its images. */
  public static final Duration MAX_KEPT = Duration.ofDays(30);

  private final Tx tx;

  public JobRetention(Tx tx) {
    this.tx = tx;
  }

  /**
   * A tenant's periods: what applies, and whether each is its own or its plan's.
   *
   * @param results how long a succeeded job's result is kept after the job ends
   * @param inputs how long a job's input is kept after the job ends (zero: deleted at once)
   */
  public record Periods(Duration results, Duration inputs, boolean ownResults, boolean ownInputs) {}

  /** What applies to the tenant now. */
  public Periods periods(UUID tenantId) {
    return tx.forTenant(tenantId)
        .call(
            c -> {
              try (var st =
                  c.prepareStatement(
                      "select extract(epoch from coalesce(r.results_kept, p.results_kept))::bigint"
                          + " as results, extract(epoch from coalesce(r.inputs_kept,"
                          + " p.inputs_kept))::bigint as inputs, r.results_kept is not null as own_r,"
                          + " r.inputs_kept is not null as own_i"
                          + " from tenants t join plans p on p.name = t.plan"
                          + " left join tenant_retention r on r.tenant_id = t.id where t.id = ?")) {
                st.setObject(1, tenantId);
                try (ResultSet rs = st.executeQuery()) {
                  rs.next();
                  return new Periods(
                      Duration.ofSeconds(rs.getLong("results")),
                      Duration.ofSeconds(rs.getLong("inputs")),
                      rs.getBoolean("own_r"),
                      rs.getBoolean("own_i"));
                }
              }
            });
  }

  /**
   * Sets the tenant's own periods; a null one goes back to the plan's. Each is 0 to {@link
   * #MAX_KEPT}. Applies to every finished job, including those that ended before.
   */
  public Periods set(UUID tenantId, Duration results, Duration inputs) {
    for (Duration d : new Duration[] {results, inputs}) {
      if (d != null && (d.isNegative() || d.compareTo(MAX_KEPT) > 0)) {
        throw new IllegalArgumentException("a period is 0 to " + MAX_KEPT + ", not " + d);
      }
    }
    tx.forTenant(tenantId)
        .run(
            c -> {
              try (var st =
                  c.prepareStatement(
                      "insert into tenant_retention (tenant_id, results_kept, inputs_kept)"
                          + " values (?, ?::interval, ?::interval) on conflict (tenant_id) do update"
                          + " set results_kept = excluded.results_kept,"
                          + " inputs_kept = excluded.inputs_kept, updated_at = now()")) {
                st.setObject(1, tenantId);
                st.setString(2, results == null ? null : Rows.interval(results));
                st.setString(3, inputs == null ? null : Rows.interval(inputs));
                st.executeUpdate();
              }
            });
    return periods(tenantId);
  }

  /**
   * What the purge did in one pass: inputs and results deleted, and whether either kind filled its
   * batch (more may be due).
   */
  public record Purged(int inputs, int outputs, boolean more) {}

  /**
   * Deletes the images whose time is up: the inputs of at most {@code limit} jobs and the results
   * of at most {@code limit}, each oldest first, in one transaction. Jobs another node is purging
   * at the same moment are skipped, not waited for.
   */
  public Purged purge(int limit) {
    return tx.system()
        .call(
            c -> {
              int inputs = purgeKind(c, "input", limit);
              int outputs = purgeKind(c, "output", limit);
              return new Purged(inputs, outputs, inputs == limit || outputs == limit);
            });
  }

  /**
   * Deletes one kind of image of at most {@code limit} jobs whose period for it is over, walking
   * the jobs that still hold that kind (an index each: {@code jobs_holding_input}, {@code
   * jobs_holding_result}) in the order they ended; returns how many.
   */
  private static int purgeKind(Connection c, String kind, int limit) throws SQLException {
    boolean input = kind.equals("input");
    String holding =
        input
            ? "j.status in ('succeeded', 'failed', 'canceled') and j.input_deleted_at is null"
            : "j.status = 'succeeded' and j.output_deleted_at is null";
    String kept = input ? "inputs_kept" : "results_kept";
    String deletedAt = input ? "input_deleted_at" : "output_deleted_at";
    try (var st =
        c.prepareStatement(
            "with due as (select j.id from jobs j join tenants t on t.id = j.tenant_id"
                + " join plans p on p.name = t.plan"
                + " left join tenant_retention r on r.tenant_id = j.tenant_id"
                + (" where " + holding)
                + (" and j.finished_at <= now() - coalesce(r." + kept + ", p." + kept + ")")
                // the shortest period anywhere bounds the walk, which then never reads the jobs
                // that ended too lately for any of them (a day's results, by default)
                + (" and j.finished_at <= now() - (select min(k) from (select " + kept)
                + (" from plans union all select " + kept + " from tenant_retention) s (k))")
                + " order by j.finished_at limit ? for update of j skip locked),"
                + " gone as (delete from job_payloads x using due where x.job_id = due.id"
                + (" and x.kind = '" + kind + "'),")
                + (" marked as (update jobs j set " + deletedAt + " = now(),")
                + " data_deleted_by = coalesce(j.data_deleted_by, 'retention')"
                + " from due where j.id = due.id returning 1)"
                // a data-modifying WITH runs to completion whether or not it is read
                + " select (select count(*) from marked) as jobs")) {
      st.setInt(1, limit);
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        return rs.getInt("jobs");
      }
    }
  }

  /** What a tenant's request to delete a job's images came to. */
  public enum Deletion {
    DELETED,
    NOT_FOUND,
    NOT_FINISHED
  }

  /**
   * Deletes a finished job's input and result now, at the tenant's request; the job's row and
   * ledger stay. Deleting again is harmless.
   */
  public Deletion deleteData(UUID tenantId, UUID jobId) {
    return tx.forTenant(tenantId)
        .call(
            c -> {
              String status;
              try (var st =
                  c.prepareStatement(
                      "select status from jobs where id = ? and tenant_id = ? for update")) {
                st.setObject(1, jobId);
                st.setObject(2, tenantId);
                try (ResultSet rs = st.executeQuery()) {
                  if (!rs.next()) {
                    return Deletion.NOT_FOUND;
                  }
                  status = rs.getString("status");
                }
              }
              if (!JobStatus.fromDb(status).isFinal()) {
                return Deletion.NOT_FINISHED;
              }
              try (var st = c.prepareStatement("delete from job_payloads where job_id = ?")) {
                st.setObject(1, jobId);
                st.executeUpdate();
              }
              try (var st =
                  c.prepareStatement(
                      "update jobs set input_deleted_at = coalesce(input_deleted_at, now()),"
                          + " output_deleted_at = case when status = 'succeeded'"
                          + " then coalesce(output_deleted_at, now()) end,"
                          // the reason a result is gone is its own deletion's
                          + " data_deleted_by = case when status = 'succeeded'"
                          + " and output_deleted_at is null then 'tenant'"
                          + " else coalesce(data_deleted_by, 'tenant') end"
                          + " where id = ?")) {
                st.setObject(1, jobId);
                st.executeUpdate();
              }
              return Deletion.DELETED;
            });
  }

  /**
   * Why a job's images went: "retention" or "tenant" (for a succeeded job, why its result went);
   * empty if none did.
   */
  public Optional<String> deletedBy(UUID tenantId, UUID jobId) {
    return tx.forTenant(tenantId)
        .call(
            c -> {
              try (var st =
                  c.prepareStatement(
                      "select data_deleted_by from jobs where id = ? and tenant_id = ?")) {
                st.setObject(1, jobId);
                st.setObject(2, tenantId);
                try (ResultSet rs = st.executeQuery()) {
                  return rs.next()
                      ? Optional.ofNullable(rs.getString(1))
                      : Optional.<String>empty();
                }
              }
            });
  }

  /** The bytes of images one tenant has stored now. */
  public record Storage(UUID tenantId, long inputBytes, long outputBytes, long jobsHoldingData) {}

  /** Every tenant's stored images, from the sizes its jobs recorded. */
  public List<Storage> storage() {
    return tx.system()
        .call(
            c -> {
              try (var st =
                      c.prepareStatement(
                          "select tenant_id,"
                              + " coalesce(sum(input_bytes) filter (where input_deleted_at is null),"
                              + " 0) as inputs,"
                              + " coalesce(sum(output_bytes) filter (where status = 'succeeded'"
                              + " and output_deleted_at is null), 0) as outputs,"
                              + " count(*) filter (where input_deleted_at is null"
                              + " or (status = 'succeeded' and output_deleted_at is null)) as jobs"
                              + " from jobs group by tenant_id");
                  ResultSet rs = st.executeQuery()) {
                List<Storage> out = new ArrayList<>();
                while (rs.next()) {
                  out.add(
                      new Storage(
                          rs.getObject("tenant_id", UUID.class),
                          rs.getLong("inputs"),
                          rs.getLong("outputs"),
                          rs.getLong("jobs")));
                }
                return out;
              }
            });
  }
}
