package io.retina.platform.jobs;

import static org.junit.jupiter.api.Assertions.*;

import io.retina.platform.models.ModelRepository;
import io.retina.platform.models.TestModels;
import io.retina.platform.store.Database;
import io.retina.platform.store.TestDatabases;
import io.retina.platform.tenants.Tenant;
import io.retina.platform.tenants.TenantRepository;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class JobRepositoryTest {
  static Database db;
  static JobRepository jobs;
  static TenantRepository tenants;
  static final Duration LEASE = Duration.ofSeconds(30);
  static final Duration LOCK = Duration.ofSeconds(30);

  @BeforeAll
  static void open() {
    db = TestDatabases.fresh();
    jobs = new JobRepository(db.tx());
    tenants = new TenantRepository(db.tx());
    new ModelRepository(db.tx()).register(TestModels.echo(1), "test model");
  }

  @AfterAll
  static void close() {
    db.close();
  }

  static NewJob newJob(Tenant t) {
    return new NewJob(
        t.id(),
        "echo",
        1,
        Map.of("scale", "2"),
        "image/png",
        2000,
        1000,
        "sha256-x",
        new byte[] {1, 2, 3},
        3);
  }

  static Job submit(Tenant t) {
    return ((Submission.Created) jobs.submit(newJob(t), AdmissionLimits.NONE, null, null, LOCK))
        .job();
  }

  static long ledgerRows(UUID jobId) {
    return db.tx()
        .system()
        .call(
            c -> {
              try (var st =
                  c.prepareStatement("select count(*) from usage_ledger where job_id = ?")) {
                st.setObject(1, jobId);
                try (var rs = st.executeQuery()) {
                  rs.next();
                  return rs.getLong(1);
                }
              }
            });
  }

  @Test
  void submittedJobIsQueuedWithItsInput() {
    Tenant t = tenants.create("queued-tenant");
    Job job = submit(t);
    assertEquals(JobStatus.QUEUED, job.status());
    assertArrayEquals(new byte[] {1, 2, 3}, jobs.input(job.id()).orElseThrow());
    assertEquals(0, job.attempts());
  }

  @Test
  void anotherTenantsJobReadsAsMissing() {
    Tenant owner = tenants.create("owner");
    Tenant other = tenants.create("other");
    Job job = submit(owner);
    assertTrue(jobs.find(other.id(), job.id()).isEmpty());
    assertTrue(jobs.cancel(other.id(), job.id()).isEmpty());
    assertEquals(JobStatus.QUEUED, jobs.find(owner.id(), job.id()).orElseThrow().status());
    assertTrue(jobs.output(other.id(), job.id()).isEmpty());
  }

  @Test
  void successIsCommittedOnceWithOneLedgerRow() {
    Tenant t = tenants.create("success");
    Job job = submit(t);
    var claim = jobs.claim(job.id(), "node-a", LEASE).orElseThrow();
    assertEquals(1, claim.attempt());
    assertTrue(jobs.claim(job.id(), "node-b", LEASE).isEmpty(), "a held lease can't be claimed");
    assertTrue(jobs.succeed(claim, "image/png", new byte[] {9}, "d", 2000));
    assertFalse(jobs.succeed(claim, "image/png", new byte[] {9}, "d", 2000));
    Job done = jobs.find(t.id(), job.id()).orElseThrow();
    assertEquals(JobStatus.SUCCEEDED, done.status());
    assertArrayEquals(new byte[] {9}, jobs.output(t.id(), job.id()).orElseThrow());
    assertEquals(1, ledgerRows(job.id()));
  }

  @Test
  void staleAttemptCannotCommitAfterReclaim() throws InterruptedException {
    Tenant t = tenants.create("stale");
    Job job = submit(t);
    var first = jobs.claim(job.id(), "node-a", Duration.ofMillis(1)).orElseThrow();
    Thread.sleep(20);
    var second = jobs.claim(job.id(), "node-b", LEASE).orElseThrow();
    assertEquals(2, second.attempt());
    assertFalse(jobs.succeed(first, "image/png", new byte[] {1}, "d", 1), "fenced out");
    assertTrue(jobs.succeed(second, "image/png", new byte[] {2}, "d", 1));
    assertEquals(1, ledgerRows(job.id()));
    assertArrayEquals(new byte[] {2}, jobs.output(t.id(), job.id()).orElseThrow());
  }

  @Test
  void progressIsKeptForTheHeldAttemptOnlyAndANewAttemptStartsAgain() throws Exception {
    Tenant t = tenants.create("progress");
    Job job = submit(t);
    assertFalse(jobs.reportProgress(job.id(), 1, 0.5), "a queued job has no attempt to report");
    var first = jobs.claim(job.id(), "node-a", Duration.ofMillis(1)).orElseThrow();
    assertTrue(jobs.reportProgress(job.id(), first.attempt(), 0.25));
    assertEquals(0.25, jobs.find(t.id(), job.id()).orElseThrow().progress(), 1e-6);
    Thread.sleep(20);
    var second = jobs.claim(job.id(), "node-b", LEASE).orElseThrow();
    assertNull(jobs.find(t.id(), job.id()).orElseThrow().progress(), "the new attempt starts at 0");
    assertFalse(jobs.reportProgress(job.id(), first.attempt(), 0.75), "fenced out");
    assertTrue(jobs.reportProgress(job.id(), second.attempt(), 0.5));
    assertEquals(0.5, jobs.find(t.id(), job.id()).orElseThrow().progress(), 1e-6);
    assertThrows(IllegalArgumentException.class, () -> jobs.reportProgress(job.id(), 2, 1.5));
  }

  @Test
  void canceledRunningJobDiscardsItsResultAndBillsNothing() {
    Tenant t = tenants.create("cancel");
    Job job = submit(t);
    var claim = jobs.claim(job.id(), "node-a", LEASE).orElseThrow();
    assertEquals(JobStatus.CANCELED, jobs.cancel(t.id(), job.id()).orElseThrow().status());
    assertFalse(jobs.succeed(claim, "image/png", new byte[] {1}, "d", 1));
    assertEquals(0, ledgerRows(job.id()));
    assertTrue(jobs.output(t.id(), job.id()).isEmpty());
  }

  static Job submitWithDeadline(Tenant t, Duration deadline) {
    NewJob j = newJob(t);
    NewJob withDeadline =
        new NewJob(
            j.tenantId(),
            j.modelName(),
            j.modelVersion(),
            j.params(),
            j.inputMediaType(),
            j.inputWidth(),
            j.inputHeight(),
            j.inputDigest(),
            j.input(),
            j.maxAttempts(),
            deadline);
    return ((Submission.Created) jobs.submit(withDeadline, AdmissionLimits.NONE, null, null, LOCK))
        .job();
  }

  @Test
  void aJobKeepsItsDeadlineAndItsClaimSaysHowLongIsLeft() {
    Tenant t = tenants.create("deadline-tenant");
    Job job = submitWithDeadline(t, Duration.ofMinutes(5));

    assertEquals(Duration.ofMinutes(5), Duration.between(job.createdAt(), job.deadlineAt()));
    Duration left = jobs.claim(job.id(), "w", LEASE).orElseThrow().timeLeft();
    assertTrue(
        left.compareTo(Duration.ofMinutes(4)) > 0 && left.compareTo(Duration.ofMinutes(5)) <= 0);
  }

  @Test
  void aQueuedJobPastItsDeadlineIsFailedInsteadOfClaimedAndNotBilled() throws Exception {
    Tenant t = tenants.create("expired-queued-tenant");
    Job job = submitWithDeadline(t, Duration.ofMillis(50));
    Thread.sleep(100);

    assertTrue(jobs.claim(job.id(), "w", LEASE).isEmpty());
    Job failed = jobs.find(t.id(), job.id()).orElseThrow();
    assertEquals(JobStatus.FAILED, failed.status());
    assertEquals("deadline-exceeded", failed.errorType());
    assertEquals(0, ledgerRows(job.id()));
  }

  @Test
  void theSweeperFailsARunningJobOnlyAGraceAfterItsDeadline() throws Exception {
    Tenant t = tenants.create("expired-running-tenant");
    Job job = submitWithDeadline(t, Duration.ofMillis(200));
    var claim = jobs.claim(job.id(), "w", LEASE).orElseThrow();
    Thread.sleep(300);

    jobs.failExpired(Duration.ofMinutes(1));
    assertTrue(jobs.stillHeld(job.id(), claim.attempt()), "within the grace its worker stops it");
    jobs.failExpired(Duration.ZERO);
    assertFalse(jobs.stillHeld(job.id(), claim.attempt()));
    assertEquals("deadline-exceeded", jobs.find(t.id(), job.id()).orElseThrow().errorType());
  }

  @Test
  void aCanceledJobIsNoLongerHeldByItsWorker() {
    Tenant t = tenants.create("held-tenant");
    Job job = submit(t);
    var claim = jobs.claim(job.id(), "w", LEASE).orElseThrow();
    assertTrue(jobs.stillHeld(job.id(), claim.attempt()));

    jobs.cancel(t.id(), job.id());

    assertFalse(jobs.stillHeld(job.id(), claim.attempt()));
  }

  @Test
  void ledgerRowsCannotBeChangedOrDeleted() {
    Tenant t = tenants.create("ledger");
    Job job = submit(t);
    var claim = jobs.claim(job.id(), "node-a", LEASE).orElseThrow();
    jobs.succeed(claim, "image/png", new byte[] {1}, "d", 1);
    for (String sql :
        new String[] {"update usage_ledger set amount_micros = 0", "delete from usage_ledger"}) {
      var refused =
          assertThrows(
              io.retina.platform.store.StoreException.class,
              () -> db.tx().system().run(c -> c.createStatement().executeUpdate(sql)));
      assertEquals("42501", refused.sqlState(), "the application role lacks the privilege");
    }
    assertEquals(1, ledgerRows(job.id()));
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
  void idempotencyKeyReplaysSameRequestAndRefusesDifferentOne() {
    Tenant t = tenants.create("idem");
    var first = jobs.submit(newJob(t), AdmissionLimits.NONE, "k1", "digest-a", LOCK);
    Job created = ((Submission.Created) first).job();
    assertInstanceOf(
        Submission.InFlight.class,
        jobs.submit(newJob(t), AdmissionLimits.NONE, "k1", "digest-a", LOCK));
    jobs.releaseKey(t.id(), "k1");
    var replay = jobs.submit(newJob(t), AdmissionLimits.NONE, "k1", "digest-a", LOCK);
    assertEquals(created.id(), ((Submission.Replayed) replay).job().id());
    assertInstanceOf(
        Submission.KeyReused.class,
        jobs.submit(newJob(t), AdmissionLimits.NONE, "k1", "digest-b", LOCK));
    Tenant other = tenants.create("idem-other");
    assertInstanceOf(
        Submission.Created.class,
        jobs.submit(newJob(other), AdmissionLimits.NONE, "k1", "digest-b", LOCK));
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
  void exhaustedJobsFailWithReadableReason() throws Exception {
    Tenant t = tenants.create("exhausted");
    NewJob once =
        new NewJob(t.id(), "echo", 1, Map.of(), "image/png", 10, 10, "d", new byte[] {1}, 1);
    Job job =
        ((Submission.Created) jobs.submit(once, AdmissionLimits.NONE, null, null, LOCK)).job();
    jobs.claim(job.id(), "dead-node", Duration.ofMillis(1)).orElseThrow();
    Thread.sleep(20);
    assertTrue(jobs.claim(job.id(), "node-b", LEASE).isEmpty());
    assertTrue(
        jobs.strays(Duration.ofHours(1), 10).stream().anyMatch(s -> s.jobId().equals(job.id())));
    assertTrue(jobs.failExhausted() >= 1);
    Job failed = jobs.find(t.id(), job.id()).orElseThrow();
    assertEquals(JobStatus.FAILED, failed.status());
    assertEquals("attempts-exhausted", failed.errorType());
  }

  @Test
  void concurrencyLimitHoldsUnderConcurrentSubmissions() throws Exception {
    Tenant t = tenants.create("concurrency");
    AdmissionLimits limits = new AdmissionLimits(3, Long.MAX_VALUE);
    var pool = java.util.concurrent.Executors.newFixedThreadPool(8);
    try {
      var outcomes = new java.util.ArrayList<java.util.concurrent.Future<Submission>>();
      for (int i = 0; i < 20; i++) {
        outcomes.add(pool.submit(() -> jobs.submit(newJob(t), limits, null, null, LOCK)));
      }
      int created = 0;
      for (var f : outcomes) {
        Submission s = f.get();
        if (s instanceof Submission.Created) {
          created++;
        } else {
          assertEquals("concurrent-jobs", ((Submission.OverQuota) s).limit());
        }
      }
      assertEquals(3, created);
    } finally {
      pool.shutdown();
    }
  }

  @Test
  void spendCapRefusesJobsOnceTheMonthsLedgerReachesIt() {
    Tenant t = tenants.create("spender");
    Job job = submit(t);
    var claim = jobs.claim(job.id(), "node-a", LEASE).orElseThrow();
    jobs.succeed(claim, "image/png", new byte[] {1}, "d", 5000);
    var refused = jobs.submit(newJob(t), new AdmissionLimits(100, 5000), null, null, LOCK);
    assertEquals("monthly-spend", ((Submission.OverQuota) refused).limit());
    assertTrue(((Submission.OverQuota) refused).retryAfterSeconds() > 0);
    assertInstanceOf(
        Submission.Created.class,
        jobs.submit(newJob(t), new AdmissionLimits(100, 5001), null, null, LOCK));
  }
}
