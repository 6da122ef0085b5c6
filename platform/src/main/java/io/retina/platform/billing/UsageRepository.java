package io.retina.platform.billing;

import io.retina.platform.store.Tx;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.LocalDate;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Reads of the usage ledger: a tenant's usage by model and by day, and every tenant's invoice for a
 * month (UTC calendar months). The ledger has one row per succeeded job, so these sums are the
 * bill. Thread-safe.
 */
public final class UsageRepository {
  private final Tx tx;

  public UsageRepository(Tx tx) {
    this.tx = tx;
  }

  /**
   * Jobs, megapixels, training image-epochs and amount for one group (a model, a day, a tenant). A
   * training's epochs are billed as {@code training:<model>@<version>} in the by-model lines.
   */
  public record Line(
      String key, long jobs, BigDecimal megapixels, long imageEpochs, long amountMicros) {}

  /** The by-model key: a job's model version, or the version a training makes. */
  private static final String MODEL_KEY =
      "case when l.training_id is null then '' else 'training:' end"
          + " || l.model_name || '@' || l.model_version";

  /** The sums every line has, over ledger rows {@code l}. */
  private static final String SUMS =
      "count(l.job_id) as jobs, sum(l.megapixels) as megapixels,"
          + " coalesce(sum(l.images), 0) as image_epochs, sum(l.amount_micros) as amount";

  /** A tenant's usage in a month. */
  public record Usage(YearMonth month, Line total, List<Line> byModel, List<Line> byDay) {}

  /** A tenant's bill for a month, one line per model version. */
  public record Invoice(
      UUID tenantId, String tenantName, YearMonth month, List<Line> lines, long totalMicros) {}

  public Usage usage(UUID tenantId, YearMonth month) {
    return tx.forTenant(tenantId)
        .call(
            c -> {
              List<Line> total = lines(c, "'total'", tenantId, month);
              return new Usage(
                  month,
                  total.isEmpty() ? new Line("total", 0, BigDecimal.ZERO, 0, 0) : total.get(0),
                  lines(c, MODEL_KEY, tenantId, month),
                  lines(
                      c, "to_char(recorded_at at time zone 'UTC', 'YYYY-MM-DD')", tenantId, month));
            });
  }

  /** What the tenant has spent so far this UTC month. */
  public long spentThisMonth(UUID tenantId) {
    YearMonth now = YearMonth.now(ZoneOffset.UTC);
    return usage(tenantId, now).total().amountMicros();
  }

  /** Every tenant's invoice for the month, tenants without usage left out, by tenant name. */
  public List<Invoice> invoices(YearMonth month) {
    return tx.system()
        .call(
            c -> {
              Map<UUID, Invoice> byTenant = new LinkedHashMap<>();
              try (var st =
                  c.prepareStatement(
                      "select l.tenant_id, t.name, "
                          + MODEL_KEY
                          + " as key, "
                          + SUMS
                          + " from usage_ledger l"
                          + " join tenants t on t.id = l.tenant_id"
                          + " where l.recorded_at >= ? and l.recorded_at < ?"
                          + " group by l.tenant_id, t.name, key order by t.name, key")) {
                bindMonth(st, 1, month);
                try (ResultSet rs = st.executeQuery()) {
                  while (rs.next()) {
                    UUID id = rs.getObject("tenant_id", UUID.class);
                    Line line = line(rs);
                    Invoice inv =
                        byTenant.getOrDefault(
                            id, new Invoice(id, rs.getString("name"), month, List.of(), 0));
                    List<Line> lines = new ArrayList<>(inv.lines());
                    lines.add(line);
                    byTenant.put(
                        id,
                        new Invoice(
                            id,
                            inv.tenantName(),
                            month,
                            lines,
                            inv.totalMicros() + line.amountMicros()));
                  }
                }
              }
              return List.copyOf(byTenant.values());
            });
  }

  private static List<Line> lines(Connection c, String groupBy, UUID tenantId, YearMonth month)
      throws SQLException {
    try (var st =
        c.prepareStatement(
            "select "
                + groupBy
                + " as key, "
                + SUMS
                + " from usage_ledger l where tenant_id = ? and recorded_at >= ? and recorded_at < ?"
                + " group by key order by key")) {
      st.setObject(1, tenantId);
      bindMonth(st, 2, month);
      List<Line> out = new ArrayList<>();
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          out.add(line(rs));
        }
      }
      return out;
    }
  }

  private static void bindMonth(java.sql.PreparedStatement st, int at, YearMonth month)
      throws SQLException {
    st.setTimestamp(at, Timestamp.from(month.atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC)));
    LocalDate next = month.plusMonths(1).atDay(1);
    st.setTimestamp(at + 1, Timestamp.from(next.atStartOfDay().toInstant(ZoneOffset.UTC)));
  }

  private static Line line(ResultSet rs) throws SQLException {
    return new Line(
        rs.getString("key"),
        rs.getLong("jobs"),
        rs.getBigDecimal("megapixels"),
        rs.getLong("image_epochs"),
        rs.getLong("amount"));
  }
}
