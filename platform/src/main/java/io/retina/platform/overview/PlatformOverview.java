package io.retina.platform.overview;

import io.retina.platform.store.Tx;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * What the console's overview shows, read from the store in one transaction: jobs per minute by
 * status, latency and queue wait by model version, failures by type over a recent window, and this
 * month's revenue by day and its top tenants. Every figure is a plain query an admin could run, so
 * the overview and the ledger never disagree. System scope. Thread-safe.
 */
public final class PlatformOverview {

  /** Jobs that ended (or, still queued or running, were submitted) in one minute, by status. */
  public record Minute(
      Instant minute, long queued, long running, long succeeded, long failed, long canceled) {}

  /**
   * A version's succeeded jobs in the window: how many, and the 50th and 95th percentiles of their
   * latency (submitted to finished) and of their queue wait (submitted to started), in ms.
   */
  public record ModelLatency(
      String model, long jobs, double p50Ms, double p95Ms, double queueP50Ms, double queueP95Ms) {}

  /** Failed jobs in the window with one error type. */
  public record Failures(String type, long jobs) {}

  /** What the ledger recorded on one UTC day. */
  public record Day(LocalDate day, long amountMicros) {}

  /** A tenant's spend this month. */
  public record TopTenant(UUID tenantId, String tenantName, long amountMicros) {}

  /** The overview over the {@code window} ending at {@code to}. */
  public record Overview(
      Instant from,
      Instant to,
      List<Minute> jobsPerMinute,
      List<ModelLatency> latencyByModel,
      List<Failures> failuresByType,
      YearMonth month,
      List<Day> revenueByDay,
      List<TopTenant> topTenants) {}

  private static final int TOP_TENANTS = 5;

  private final Tx tx;

  public PlatformOverview(Tx tx) {
    this.tx = tx.system();
  }

  /** The overview of the last {@code window}, and of the current UTC month. */
  public Overview read(Duration window) {
    return tx.call(
        c -> {
          Instant to;
          try (var st = c.prepareStatement("select now()");
              ResultSet rs = st.executeQuery()) {
            rs.next();
            to = rs.getTimestamp(1).toInstant();
          }
          Instant from = to.minus(window);
          YearMonth month = YearMonth.from(to.atZone(ZoneOffset.UTC));
          return new Overview(
              from,
              to,
              perMinute(c, from),
              latency(c, from),
              failures(c, from),
              month,
              revenue(c, month),
              topTenants(c, month));
        });
  }

  private static List<Minute> perMinute(Connection c, Instant from) throws SQLException {
    // ended jobs by the minute they ended, unfinished ones by the minute they were submitted
    try (var st =
        c.prepareStatement(
            "select minute, count(*) filter (where status = 'queued'),"
                + " count(*) filter (where status = 'running'),"
                + " count(*) filter (where status = 'succeeded'),"
                + " count(*) filter (where status = 'failed'),"
                + " count(*) filter (where status = 'canceled')"
                + " from (select date_trunc('minute', finished_at) as minute, status from jobs"
                + " where finished_at >= ?"
                + " union all select date_trunc('minute', created_at), status from jobs"
                + " where status in ('queued', 'running') and created_at >= ?) j"
                + " group by minute order by minute")) {
      st.setTimestamp(1, Timestamp.from(from));
      st.setTimestamp(2, Timestamp.from(from));
      List<Minute> out = new ArrayList<>();
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          out.add(
              new Minute(
                  rs.getTimestamp(1).toInstant(),
                  rs.getLong(2),
                  rs.getLong(3),
                  rs.getLong(4),
                  rs.getLong(5),
                  rs.getLong(6)));
        }
      }
      return out;
    }
  }

  private static List<ModelLatency> latency(Connection c, Instant from) throws SQLException {
    try (var st =
        c.prepareStatement(
            "select model_name || '@' || model_version as model, count(*),"
                + " percentile_cont(0.5) within group (order by ms),"
                + " percentile_cont(0.95) within group (order by ms),"
                + " percentile_cont(0.5) within group (order by wait_ms),"
                + " percentile_cont(0.95) within group (order by wait_ms)"
                + " from (select model_name, model_version,"
                + " extract(epoch from finished_at - created_at) * 1000 as ms,"
                + " extract(epoch from coalesce(started_at, finished_at) - created_at) * 1000"
                + " as wait_ms from jobs where status = 'succeeded' and finished_at >= ?) j"
                + " group by model order by model")) {
      st.setTimestamp(1, Timestamp.from(from));
      List<ModelLatency> out = new ArrayList<>();
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          out.add(
              new ModelLatency(
                  rs.getString(1),
                  rs.getLong(2),
                  rs.getDouble(3),
                  rs.getDouble(4),
                  rs.getDouble(5),
                  rs.getDouble(6)));
        }
      }
      return out;
    }
  }

  private static List<Failures> failures(Connection c, Instant from) throws SQLException {
    try (var st =
        c.prepareStatement(
            "select coalesce(error_type, 'unknown'), count(*) from jobs"
                + " where status = 'failed' and finished_at >= ?"
                + " group by 1 order by 2 desc, 1")) {
      st.setTimestamp(1, Timestamp.from(from));
      List<Failures> out = new ArrayList<>();
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          out.add(new Failures(rs.getString(1), rs.getLong(2)));
        }
      }
      return out;
    }
  }

  private static List<Day> revenue(Connection c, YearMonth month) throws SQLException {
    try (var st =
        c.prepareStatement(
            "select (recorded_at at time zone 'UTC')::date as day, sum(amount_micros)"
                + " from usage_ledger where recorded_at >= ? and recorded_at < ?"
                + " group by day order by day")) {
      bindMonth(st, month);
      List<Day> out = new ArrayList<>();
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          out.add(new Day(rs.getObject(1, LocalDate.class), rs.getLong(2)));
        }
      }
      return out;
    }
  }

  private static List<TopTenant> topTenants(Connection c, YearMonth month) throws SQLException {
    try (var st =
        c.prepareStatement(
            "select s.tenant_id, t.name, sum(s.amount_micros) as amount"
                + " from tenant_monthly_spend s join tenants t on t.id = s.tenant_id"
                + " where s.month = ? group by s.tenant_id, t.name"
                + " order by amount desc, t.name limit ?")) {
      st.setObject(1, month.atDay(1));
      st.setInt(2, TOP_TENANTS);
      List<TopTenant> out = new ArrayList<>();
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          out.add(new TopTenant(rs.getObject(1, UUID.class), rs.getString(2), rs.getLong(3)));
        }
      }
      return out;
    }
  }

  private static void bindMonth(java.sql.PreparedStatement st, YearMonth month)
      throws SQLException {
    st.setTimestamp(1, Timestamp.from(month.atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC)));
    st.setTimestamp(
        2, Timestamp.from(month.plusMonths(1).atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC)));
  }
}
