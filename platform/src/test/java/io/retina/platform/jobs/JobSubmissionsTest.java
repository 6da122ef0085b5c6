package io.retina.platform.jobs;

import static io.retina.platform.jobs.TestJobs.LOCK;
import static io.retina.platform.jobs.TestJobs.newJob;
import static org.junit.jupiter.api.Assertions.*;

import io.retina.platform.models.ModelRepository;
import io.retina.platform.models.TestModels;
import io.retina.platform.store.Database;
import io.retina.platform.store.TestDatabases;
import io.retina.platform.tenants.Tenant;
import io.retina.platform.tenants.TenantRepository;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class JobSubmissionsTest {
  static Database db;
  static JobSubmissions submissions;
  static JobRepository jobs;
  static JobLeases leases;
  static TenantRepository tenants;

  @BeforeAll
  static void open() {
    db = TestDatabases.fresh();
    submissions = new JobSubmissions(db.tx());
    jobs = new JobRepository(db.tx());
    leases = new JobLeases(db.tx());
    tenants = new TenantRepository(db.tx());
    new ModelRepository(db.tx()).register(TestModels.echo(1), "test model");
  }

  @AfterAll
  static void close() {
    db.close();
  }

  @Test
  void aSubmittedJobIsQueuedAsTheStoreKeepsIt() {
    Tenant t = tenants.create("queued-tenant");
    Job job = TestJobs.submit(submissions, t);

    assertEquals(JobStatus.QUEUED, job.status());
    assertEquals(0, job.attempts());
    assertEquals(TestJobs.INPUT.length, job.inputBytes());
    assertNotNull(job.createdAt());
    assertEquals(job, jobs.find(t.id(), job.id()).orElseThrow(), "no re-read tells it otherwise");
  }

  @Test
  void aJobKeepsItsDeadlineCountedFromWhenItWasStored() {
    Tenant t = tenants.create("deadline-tenant");
    Job job = TestJobs.submit(submissions, newJob(t, Duration.ofMinutes(5)));

    assertEquals(Duration.ofMinutes(5), Duration.between(job.createdAt(), job.deadlineAt()));
  }

  @Test
  void idempotencyKeyReplaysSameRequestAndRefusesDifferentOne() {
    Tenant t = tenants.create("idem");
    var first = submissions.submit(newJob(t), AdmissionLimits.NONE, "k1", "digest-a", LOCK);
    Job created = ((Submission.Created) first).job();
    assertInstanceOf(
        Submission.InFlight.class,
        submissions.submit(newJob(t), AdmissionLimits.NONE, "k1", "digest-a", LOCK));
    submissions.releaseKey(t.id(), "k1");
    var replay = submissions.submit(newJob(t), AdmissionLimits.NONE, "k1", "digest-a", LOCK);
    assertEquals(created.id(), ((Submission.Replayed) replay).job().id());
    assertInstanceOf(
        Submission.KeyReused.class,
        submissions.submit(newJob(t), AdmissionLimits.NONE, "k1", "digest-b", LOCK));
    Tenant other = tenants.create("idem-other");
    assertInstanceOf(
        Submission.Created.class,
        submissions.submit(newJob(other), AdmissionLimits.NONE, "k1", "digest-b", LOCK));
  }

  @Test
  void aRefusedSubmissionLeavesItsKeyFree() {
    Tenant t = tenants.create("idem-refused");
    var refused =
        submissions.submit(newJob(t), new AdmissionLimits(0, Long.MAX_VALUE), "k", "a", LOCK);
    assertInstanceOf(Submission.OverQuota.class, refused);

    assertInstanceOf(
        Submission.Created.class,
        submissions.submit(newJob(t), AdmissionLimits.NONE, "k", "b", LOCK),
        "not reused: the refused request kept nothing");
  }

  @Test
  void aKeyWhoseLockRanOutReplaysItsJobUnreleased() throws Exception {
    Tenant t = tenants.create("idem-expired");
    var first = submissions.submit(newJob(t), AdmissionLimits.NONE, "k", "d", Duration.ofMillis(1));
    Thread.sleep(20);

    var repeat = submissions.submit(newJob(t), AdmissionLimits.NONE, "k", "d", LOCK);
    assertEquals(
        ((Submission.Created) first).job().id(), ((Submission.Replayed) repeat).job().id());
  }

  @Test
  void concurrencyLimitHoldsUnderConcurrentSubmissions() throws Exception {
    Tenant t = tenants.create("concurrency");
    AdmissionLimits limits = new AdmissionLimits(3, Long.MAX_VALUE);
    var pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<Submission>> outcomes = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        outcomes.add(pool.submit(() -> submissions.submit(newJob(t), limits, null, null, LOCK)));
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
      assertEquals(3, jobs.unfinished(t.id()));
    } finally {
      pool.shutdown();
    }
  }

  @Test
  void spendCapRefusesJobsOnceTheMonthsLedgerReachesIt() {
    Tenant t = tenants.create("spender");
    Job job = TestJobs.submit(submissions, t);
    var claim = leases.claim(job.id(), "node-a", Duration.ofSeconds(30)).orElseThrow();
    leases.succeed(claim, "image/png", new byte[] {1}, "d", 5000);

    var refused = submissions.submit(newJob(t), new AdmissionLimits(100, 5000), null, null, LOCK);
    assertEquals("monthly-spend", ((Submission.OverQuota) refused).limit());
    assertTrue(((Submission.OverQuota) refused).retryAfterSeconds() > 0);
    assertInstanceOf(
        Submission.Created.class,
        submissions.submit(newJob(t), new AdmissionLimits(100, 5001), null, null, LOCK));
  }

  /**
   * Admission reads the month's spend from its running total, which the completing statement of
   * each job adds to: after 20 jobs completed on 4 threads at once (and each one's completion tried
   * twice), the total is the ledger's sum, and the cap is applied at exactly that amount.
   */
  @Test
  void theMonthsRunningTotalIsTheLedgersSum() throws Exception {
    Tenant t = tenants.create("running-total");
    var pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int i = 1; i <= 20; i++) {
        long price = i;
        done.add(
            pool.submit(
                () -> {
                  Job job = TestJobs.submit(submissions, t);
                  var claim =
                      leases.claim(job.id(), "node-a", Duration.ofSeconds(30)).orElseThrow();
                  assertTrue(
                      leases.succeed(claim, "image/png", new byte[] {1}, "d", price).isPresent());
                  assertTrue(
                      leases.succeed(claim, "image/png", new byte[] {1}, "d", price).isEmpty());
                }));
      }
      for (Future<?> f : done) {
        f.get();
      }
    } finally {
      pool.shutdown();
    }
    assertEquals(210, sum("select sum(amount_micros) from usage_ledger where tenant_id = ?", t));
    assertEquals(
        210, sum("select sum(amount_micros) from tenant_monthly_spend where tenant_id = ?", t));
    var refused = submissions.submit(newJob(t), new AdmissionLimits(100, 210), null, null, LOCK);
    assertEquals("monthly-spend", ((Submission.OverQuota) refused).limit());
    assertInstanceOf(
        Submission.Created.class,
        submissions.submit(newJob(t), new AdmissionLimits(100, 211), null, null, LOCK));
  }

  private static long sum(String sql, Tenant t) {
    return db.tx()
        .system()
        .call(
            c -> {
              try (var st = c.prepareStatement(sql)) {
                st.setObject(1, t.id());
                try (var rs = st.executeQuery()) {
                  rs.next();
                  return rs.getLong(1);
                }
              }
            });
  }

  @Test
  void aSmallInputIsStoredInItsOwnRowAndALargeOneOutOfLine() {
    Tenant t = tenants.create("payload-rows");
    var random = new java.util.Random(7);
    byte[] small = new byte[7_000]; // a thumbnail's PNG
    byte[] large = new byte[20_000];
    random.nextBytes(small);
    random.nextBytes(large);
    Job inRow = TestJobs.submit(submissions, TestJobs.withInput(t, small));
    Job outOfLine = TestJobs.submit(submissions, TestJobs.withInput(t, large));

    assertFalse(toasted(inRow), "a 7 kB input is read and written with its row, no TOAST chunks");
    assertTrue(toasted(outOfLine), "a 20 kB input does not fit a row and is stored in chunks");
    assertArrayEquals(small, leases.claim(inRow.id(), "w", Duration.ofMinutes(1)).get().input());
    assertArrayEquals(
        large, leases.claim(outOfLine.id(), "w", Duration.ofMinutes(1)).get().input());
  }

  /** Whether the job's stored input is out of line, in its TOAST table (PostgreSQL 17's test). */
  private static boolean toasted(Job job) {
    return TestDatabases.systemValue(
        db,
        rs -> rs.getBoolean(1),
        "select pg_column_toast_chunk_id(bytes) is not null from job_payloads"
            + " where job_id = ? and kind = 'input'",
        job.id());
  }
}
