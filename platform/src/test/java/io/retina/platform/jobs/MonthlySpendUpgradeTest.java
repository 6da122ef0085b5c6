package io.retina.platform.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.retina.platform.models.ModelRepository;
import io.retina.platform.models.TestModels;
import io.retina.platform.store.Database;
import io.retina.platform.store.TestDatabases;
import io.retina.platform.store.Tx;
import io.retina.platform.tenants.Tenant;
import io.retina.platform.tenants.TenantRepository;
import java.time.Duration;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * A store that billed jobs before the month's running totals existed (schema 14) is upgraded with
 * totals that match its ledger, month by month and tenant by tenant, and admission applies the cap
 * to them at once.
 */
class MonthlySpendUpgradeTest {

  @Test
  void theUpgradeSumsTheLedgerIntoEachTenantsMonths() throws Exception {
    String url = TestDatabases.freshUrl();
    Flyway.configure()
        .dataSource(url, TestDatabases.USER, TestDatabases.PASSWORD)
        .locations("classpath:db/migration")
        .target("14")
        .load()
        .migrate();
    PGSimpleDataSource old = new PGSimpleDataSource();
    old.setUrl(url);
    old.setUser(TestDatabases.USER);
    old.setPassword(TestDatabases.PASSWORD);
    Tx tx = new Tx(old).system();
    new ModelRepository(tx).register(TestModels.echo(1), "test model");
    TenantRepository tenants = new TenantRepository(tx);
    Tenant a = tenants.create("upgraded-a");
    Tenant b = tenants.create("upgraded-b");
    bill(tx, oldJob(tx, a), a, 100, "now()");
    bill(tx, oldJob(tx, a), a, 200, "now()");
    bill(tx, oldJob(tx, a), a, 50, "now() - interval '40 days'");
    bill(tx, oldJob(tx, b), b, 7, "now()");

    try (Database db = Database.openExternal(url, TestDatabases.USER, TestDatabases.PASSWORD, 2)) {
      assertEquals(300, total(db, a, "now()"));
      assertEquals(50, total(db, a, "now() - interval '40 days'"));
      assertEquals(7, total(db, b, "now()"));
      JobSubmissions after = new JobSubmissions(db.tx());
      var refused =
          after.submit(
              TestJobs.newJob(a),
              new AdmissionLimits(100, 300),
              null,
              null,
              Duration.ofSeconds(30));
      assertEquals("monthly-spend", ((Submission.OverQuota) refused).limit());
      assertInstanceOf(
          Submission.Created.class,
          after.submit(
              TestJobs.newJob(a),
              new AdmissionLimits(100, 301),
              null,
              null,
              Duration.ofSeconds(30)));
    }
  }

  /**
   * A finished job as schema 14 stored it: written here rather than by today's {@link
   * JobSubmissions}, which writes the columns of today's schema.
   */
  private static java.util.UUID oldJob(Tx tx, Tenant t) {
    java.util.UUID id = java.util.UUID.randomUUID();
    tx.run(
        c -> {
          try (var st =
              c.prepareStatement(
                  "insert into jobs (id, tenant_id, model_name, model_version, status, params,"
                      + " input_media_type, input_width, input_height, input_bytes, input_digest,"
                      + " max_attempts) values (?, ?, 'echo', 1, 'succeeded', '{}'::jsonb,"
                      + " 'image/png', 2, 2, 3, 'sha256-x', 3)")) {
            st.setObject(1, id);
            st.setObject(2, t.id());
            st.executeUpdate();
          }
        });
    return id;
  }

  /**
   * A ledger row for {@code job}, as schema 14's completions wrote them, recorded at {@code when}.
   */
  private static void bill(Tx tx, java.util.UUID job, Tenant t, long micros, String when) {
    tx.run(
        c -> {
          try (var st =
              c.prepareStatement(
                  "insert into usage_ledger (job_id, tenant_id, model_name, model_version,"
                      + " megapixels, amount_micros, recorded_at) values (?, ?, 'echo', 1, 2, ?, "
                      + when
                      + ")")) {
            st.setObject(1, job);
            st.setObject(2, t.id());
            st.setLong(3, micros);
            st.executeUpdate();
          }
        });
  }

  /** The tenant's running total for the UTC month of {@code when}. */
  private static long total(Database db, Tenant t, String when) {
    return TestDatabases.systemValue(
        db,
        rs -> rs.getLong(1),
        "select coalesce(sum(amount_micros), 0) from tenant_monthly_spend"
            + " where tenant_id = ? and month = date_trunc('month', ("
            + when
            + ") at time zone 'UTC')::date",
        t.id());
  }
}
