package io.retina.platform.tenants;

import io.retina.platform.store.Memo;
import io.retina.platform.store.Rows;
import io.retina.platform.store.Tx;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/** Plans, per-tenant quota overrides, and the effective quota they make. Thread-safe. */
public final class QuotaRepository {
  private final Tx tx;

  private final Memo<UUID, Quota> recent =
      new Memo<>(TenantRepository.MEMO_TTL, 10_000, TenantRepository.CHANGES);

  public QuotaRepository(Tx tx) {
    this.tx = tx.system();
  }

  /**
   * The tenant's effective quota as read within the last second: for admitting a job, which reads
   * it on every submit. A change made through this node applies at once.
   */
  public Optional<Quota> recent(UUID tenantId) {
    return recent.get(tenantId, () -> effective(tenantId));
  }

  /** The tenant's effective quota, or empty if there is no such tenant. */
  public Optional<Quota> effective(UUID tenantId) {
    return tx.single(
        c -> {
          try (var st =
              c.prepareStatement(
                  "select p.name,"
                      + " coalesce(q.rate_per_second, p.rate_per_second) as rate_per_second,"
                      + " coalesce(q.burst, p.burst) as burst,"
                      + " coalesce(q.max_concurrent_jobs, p.max_concurrent_jobs) as max_concurrent_jobs,"
                      + " coalesce(q.max_pixels, p.max_pixels) as max_pixels,"
                      + " coalesce(q.monthly_spend_cap_micros, p.monthly_spend_cap_micros)"
                      + "   as monthly_spend_cap_micros, p.weight, p.max_deadline_seconds"
                      + " from tenants t join plans p on p.name = t.plan"
                      + " left join tenant_quotas q on q.tenant_id = t.id where t.id = ?")) {
            st.setObject(1, tenantId);
            try (ResultSet rs = st.executeQuery()) {
              return rs.next() ? Optional.of(quota(rs)) : Optional.empty();
            }
          }
        });
  }

  /** The tenant's overrides (all null when it has none). */
  public QuotaOverrides overrides(UUID tenantId) {
    return tx.call(
        c -> {
          try (var st = c.prepareStatement("select * from tenant_quotas where tenant_id = ?")) {
            st.setObject(1, tenantId);
            try (ResultSet rs = st.executeQuery()) {
              if (!rs.next()) {
                return QuotaOverrides.NONE;
              }
              double rate = rs.getDouble("rate_per_second");
              Double ratePerSecond = rs.wasNull() ? null : rate;
              return new QuotaOverrides(
                  ratePerSecond,
                  Rows.nullableInt(rs, "burst"),
                  Rows.nullableInt(rs, "max_concurrent_jobs"),
                  Rows.nullableLong(rs, "max_pixels"),
                  Rows.nullableLong(rs, "monthly_spend_cap_micros"));
            }
          }
        });
  }

  /** Replaces the tenant's overrides. */
  public void setOverrides(UUID tenantId, QuotaOverrides o) {
    TenantRepository.CHANGES.run(
        tx,
        c -> {
          try (var st =
              c.prepareStatement(
                  "insert into tenant_quotas (tenant_id, rate_per_second, burst, max_concurrent_jobs,"
                      + " max_pixels, monthly_spend_cap_micros) values (?, ?, ?, ?, ?, ?)"
                      + " on conflict (tenant_id) do update set rate_per_second = excluded.rate_per_second,"
                      + " burst = excluded.burst, max_concurrent_jobs = excluded.max_concurrent_jobs,"
                      + " max_pixels = excluded.max_pixels,"
                      + " monthly_spend_cap_micros = excluded.monthly_spend_cap_micros, updated_at = now()")) {
            st.setObject(1, tenantId);
            st.setObject(2, o.ratePerSecond());
            st.setObject(3, o.burst());
            st.setObject(4, o.maxConcurrentJobs());
            st.setObject(5, o.maxPixels());
            st.setObject(6, o.monthlySpendCapMicros());
            st.executeUpdate();
          }
        });
  }

  /** Every plan, by name, as the quota a tenant on it without overrides gets. */
  public List<Quota> plans() {
    return tx.call(
        c -> {
          List<Quota> out = new ArrayList<>();
          try (var st = c.prepareStatement("select * from plans order by weight, name");
              ResultSet rs = st.executeQuery()) {
            while (rs.next()) {
              out.add(quota(rs));
            }
          }
          return out;
        });
  }

  private static Quota quota(ResultSet rs) throws SQLException {
    return new Quota(
        rs.getString("name"),
        rs.getDouble("rate_per_second"),
        rs.getInt("burst"),
        rs.getInt("max_concurrent_jobs"),
        rs.getLong("max_pixels"),
        rs.getLong("monthly_spend_cap_micros"),
        rs.getInt("weight"),
        rs.getLong("max_deadline_seconds"));
  }
}
