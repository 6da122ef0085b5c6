package io.retina.platform.jobs;

import static org.junit.jupiter.api.Assertions.*;

import io.retina.platform.models.ModelRepository;
import io.retina.platform.models.TestModels;
import io.retina.platform.store.Database;
import io.retina.platform.store.TestDatabases;
import io.retina.platform.tenants.Tenant;
import io.retina.platform.tenants.TenantRepository;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class JobRepositoryTest {
  static Database db;
  static JobRepository jobs;
  static JobSubmissions submissions;
  static JobLeases leases;
  static TenantRepository tenants;

  @BeforeAll
  static void open() {
    db = TestDatabases.fresh();
    jobs = new JobRepository(db.tx());
    submissions = new JobSubmissions(db.tx());
    leases = new JobLeases(db.tx());
    tenants = new TenantRepository(db.tx());
    new ModelRepository(db.tx()).register(TestModels.echo(1), "test model");
  }

  @AfterAll
  static void close() {
    db.close();
  }

  static Job submit(Tenant t) {
    return TestJobs.submit(submissions, t);
  }

  @Test
  void anotherTenantsJobReadsAsMissing() {
    Tenant owner = tenants.create("owner");
    Tenant other = tenants.create("other");
    Job job = submit(owner);
    assertTrue(jobs.find(other.id(), job.id()).isEmpty());
    assertTrue(jobs.cancel(other.id(), job.id()).isEmpty());
    assertEquals(JobStatus.QUEUED, jobs.find(owner.id(), job.id()).orElseThrow().status());
    assertTrue(jobs.withOutput(other.id(), job.id()).isEmpty());
  }

  @Test
  void oneConnectionTakesEachTransactionsScopeAndNoOther() {
    // a pool of one connection: every transaction below runs on the same server session
    try (Database single =
        Database.openExternal(
            TestDatabases.freshUrl(), TestDatabases.USER, TestDatabases.PASSWORD, 1)) {
      new ModelRepository(single.tx()).register(TestModels.echo(1), "test model");
      TenantRepository its = new TenantRepository(single.tx());
      JobSubmissions submits = new JobSubmissions(single.tx());
      Tenant a = its.create("one-conn-a");
      Tenant b = its.create("one-conn-b");
      TestJobs.submit(submits, a);
      TestJobs.submit(submits, b);
      TestJobs.submit(submits, b);
      java.util.function.Function<io.retina.platform.store.Tx, Long> rows =
          tx ->
              tx.call(
                  c -> {
                    try (var rs = c.createStatement().executeQuery("select count(*) from jobs")) {
                      rs.next();
                      return rs.getLong(1);
                    }
                  });
      var tx = single.tx();
      assertTrue(rows.apply(tx.system()) >= 3);
      assertEquals(0, rows.apply(tx), "after system, no scope still sees nothing");
      assertEquals(1, rows.apply(tx.forTenant(a.id())));
      assertEquals(2, rows.apply(tx.forTenant(b.id())), "b's scope replaces a's");
      assertThrows(
          io.retina.platform.store.StoreException.class,
          () ->
              tx.forTenant(a.id())
                  .call(
                      c -> {
                        c.createStatement().execute("select 1/0");
                        return null;
                      }));
      assertEquals(1, rows.apply(tx.forTenant(a.id())), "a rolled-back transaction keeps it");
      assertEquals(0, rows.apply(tx));
    }
  }

  @Test
  void transactionWithoutTenantScopeSeesNoTenantRows() {
    Tenant a = tenants.create("rls-a");
    Tenant b = tenants.create("rls-b");
    submit(a);
    submit(b);
    String count = "select count(*) from jobs";
    java.util.function.Function<io.retina.platform.store.Tx, Long> rows =
        tx ->
            tx.call(
                c -> {
                  try (var rs = c.createStatement().executeQuery(count)) {
                    rs.next();
                    return rs.getLong(1);
                  }
                });
    assertEquals(0, rows.apply(db.tx()), "no scope, no rows");
    assertEquals(1, rows.apply(db.tx().forTenant(a.id())), "a tenant sees its own");
    assertTrue(rows.apply(db.tx().system()) >= 2);
    String role =
        db.tx()
            .call(
                c -> {
                  try (var rs =
                      c.createStatement()
                          .executeQuery(
                              "select current_user, r.rolbypassrls, r.rolsuper from pg_roles r"
                                  + " where r.rolname = current_user")) {
                    rs.next();
                    assertFalse(rs.getBoolean(2), "not BYPASSRLS");
                    assertFalse(rs.getBoolean(3), "not superuser");
                    return rs.getString(1);
                  }
                });
    assertEquals("retina_app", role);
    boolean owns =
        db.tx()
            .call(
                c -> {
                  try (var rs =
                      c.createStatement()
                          .executeQuery(
                              "select count(*) from pg_tables where schemaname = 'public'"
                                  + " and tableowner = current_user")) {
                    rs.next();
                    return rs.getLong(1) > 0;
                  }
                });
    assertFalse(owns, "the application role owns no table");
  }

  @Test
  void listPagesNewestFirstWithStatusFilter() {
    Tenant t = tenants.create("pages");
    for (int i = 0; i < 5; i++) {
      submit(t);
    }
    Job canceled = submit(t);
    jobs.cancel(t.id(), canceled.id());
    JobPage p1 = jobs.list(t.id(), null, null, 4);
    assertEquals(4, p1.jobs().size());
    assertEquals(canceled.id(), p1.jobs().get(0).id());
    JobPage p2 = jobs.list(t.id(), null, p1.next(), 4);
    assertEquals(2, p2.jobs().size());
    assertNull(p2.next());
    assertEquals(5, jobs.list(t.id(), JobStatus.QUEUED, null, 10).jobs().size());
    var decoded = JobCursor.decode(p1.next().encode()).orElseThrow();
    assertEquals(p1.next(), decoded);
    assertTrue(JobCursor.decode("not-a-cursor").isEmpty());
  }

  @Test
  void aJobsQueuePositionCountsTheQueuedJobsOfItsVersionBeforeIt() {
    Tenant a = tenants.create("queue-a");
    Tenant b = tenants.create("queue-b");
    Job first = submit(a);
    Job running = submit(b);
    leases.claim(running.id(), "w", Duration.ofSeconds(30)).orElseThrow();
    Job third = submit(b);

    assertEquals(1, jobs.queuePosition(third) - jobs.queuePosition(first));
  }

  @Test
  void aTenantsUnfinishedJobsAreItsQueuedAndRunningOnes() {
    Tenant t = tenants.create("unfinished");
    submit(t);
    leases.claim(submit(t).id(), "w", Duration.ofSeconds(30)).orElseThrow();
    jobs.cancel(t.id(), submit(t).id());

    assertEquals(2, jobs.unfinished(t.id()));
  }
}
