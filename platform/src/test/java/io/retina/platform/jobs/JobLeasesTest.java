package io.retina.platform.jobs;

import static io.retina.platform.jobs.TestJobs.newJob;
import static org.junit.jupiter.api.Assertions.*;

import io.retina.platform.models.ModelRepository;
import io.retina.platform.models.TestModels;
import io.retina.platform.store.Database;
import io.retina.platform.store.StoreException;
import io.retina.platform.store.TestDatabases;
import io.retina.platform.tenants.Tenant;
import io.retina.platform.tenants.TenantRepository;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class JobLeasesTest {
  static Database db;
  static JobLeases leases;
  static JobSubmissions submissions;
  static JobRepository jobs;
  static TenantRepository tenants;
  static final Duration LEASE = Duration.ofSeconds(30);

  @BeforeAll
  static void open() {
    db = TestDatabases.fresh();
    leases = new JobLeases(db.tx());
    submissions = new JobSubmissions(db.tx());
    jobs = new JobRepository(db.tx());
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

  static long ledgerRows(Job job) {
    return TestJobs.ledgerRows(db, job.id());
  }

  @Test
  void aClaimCarriesTheInputThatWasSubmitted() {
    Tenant t = tenants.create("input-tenant");
    byte[] image = {(byte) 0x89, 'P', 'N', 'G', 0, (byte) 0xff, 42};
    Job job = TestJobs.submit(submissions, TestJobs.withInput(t, image));

    var claim = leases.claim(job.id(), "node-a", LEASE).orElseThrow();

    assertArrayEquals(image, claim.input());
    assertEquals(job.id(), claim.job().id());
    assertEquals(JobStatus.RUNNING, claim.job().status());
  }

  @Test
  void aReclaimCarriesTheInputToo() throws InterruptedException {
    Tenant t = tenants.create("reclaim-input");
    Job job = submit(t);
    leases.claim(job.id(), "node-a", Duration.ofMillis(1)).orElseThrow();
    Thread.sleep(20);

    var second = leases.claim(job.id(), "node-b", LEASE).orElseThrow();

    assertEquals(2, second.attempt());
    assertArrayEquals(TestJobs.INPUT, second.input());
  }

  @Test
  void successIsCommittedOnceWithOneLedgerRow() {
    Tenant t = tenants.create("success");
    Job job = submit(t);
    var claim = leases.claim(job.id(), "node-a", LEASE).orElseThrow();
    assertEquals(1, claim.attempt());
    assertTrue(leases.claim(job.id(), "node-b", LEASE).isEmpty(), "a held lease can't be claimed");
    assertTrue(leases.succeed(claim, "image/png", new byte[] {9}, "d", 2000).isPresent());
    assertFalse(leases.succeed(claim, "image/png", new byte[] {9}, "d", 2000).isPresent());
    Job done = jobs.find(t.id(), job.id()).orElseThrow();
    assertEquals(JobStatus.SUCCEEDED, done.status());
    assertArrayEquals(new byte[] {9}, jobs.withOutput(t.id(), job.id()).orElseThrow().output());
    assertEquals(1, ledgerRows(job));
  }

  @Test
  void staleAttemptCannotCommitAfterReclaim() throws InterruptedException {
    Tenant t = tenants.create("stale");
    Job job = submit(t);
    var first = leases.claim(job.id(), "node-a", Duration.ofMillis(1)).orElseThrow();
    Thread.sleep(20);
    var second = leases.claim(job.id(), "node-b", LEASE).orElseThrow();
    assertEquals(2, second.attempt());
    assertFalse(
        leases.succeed(first, "image/png", new byte[] {1}, "d", 1).isPresent(), "fenced out");
    assertTrue(leases.succeed(second, "image/png", new byte[] {2}, "d", 1).isPresent());
    assertEquals(1, ledgerRows(job));
    assertArrayEquals(new byte[] {2}, jobs.withOutput(t.id(), job.id()).orElseThrow().output());
  }

  @Test
  void progressIsKeptForTheHeldAttemptOnlyAndANewAttemptStartsAgain() throws Exception {
    Tenant t = tenants.create("progress");
    Job job = submit(t);
    assertFalse(leases.reportProgress(job.id(), 1, 0.5), "a queued job has no attempt to report");
    var first = leases.claim(job.id(), "node-a", Duration.ofMillis(1)).orElseThrow();
    assertTrue(leases.reportProgress(job.id(), first.attempt(), 0.25));
    assertEquals(0.25, jobs.find(t.id(), job.id()).orElseThrow().progress(), 1e-6);
    Thread.sleep(20);
    var second = leases.claim(job.id(), "node-b", LEASE).orElseThrow();
    assertNull(jobs.find(t.id(), job.id()).orElseThrow().progress(), "the new attempt starts at 0");
    assertFalse(leases.reportProgress(job.id(), first.attempt(), 0.75), "fenced out");
    assertTrue(leases.reportProgress(job.id(), second.attempt(), 0.5));
    assertEquals(0.5, jobs.find(t.id(), job.id()).orElseThrow().progress(), 1e-6);
    assertThrows(IllegalArgumentException.class, () -> leases.reportProgress(job.id(), 2, 1.5));
  }

  @Test
  void aReleasedJobIsQueuedAgainWithItsAttemptCounted() {
    Tenant t = tenants.create("released");
    Job job = submit(t);
    var first = leases.claim(job.id(), "node-a", LEASE).orElseThrow();

    assertTrue(leases.release(first, "the worker is stopping"));

    assertEquals(JobStatus.QUEUED, jobs.find(t.id(), job.id()).orElseThrow().status());
    assertFalse(
        leases.succeed(first, "image/png", new byte[] {1}, "d", 1).isPresent(), "fenced out");
    assertEquals(2, leases.claim(job.id(), "node-b", LEASE).orElseThrow().attempt());
  }

  @Test
  void canceledRunningJobDiscardsItsResultAndBillsNothing() {
    Tenant t = tenants.create("cancel");
    Job job = submit(t);
    var claim = leases.claim(job.id(), "node-a", LEASE).orElseThrow();
    assertEquals(JobStatus.CANCELED, jobs.cancel(t.id(), job.id()).orElseThrow().status());
    assertFalse(leases.succeed(claim, "image/png", new byte[] {1}, "d", 1).isPresent());
    assertEquals(0, ledgerRows(job));
    assertNull(jobs.withOutput(t.id(), job.id()).orElseThrow().output());
  }

  @Test
  void aCanceledJobIsNoLongerHeldByItsWorker() {
    Tenant t = tenants.create("held-tenant");
    Job job = submit(t);
    var claim = leases.claim(job.id(), "w", LEASE).orElseThrow();
    assertTrue(leases.stillHeld(job.id(), claim.attempt()));

    jobs.cancel(t.id(), job.id());

    assertFalse(leases.stillHeld(job.id(), claim.attempt()));
  }

  @Test
  void aClaimSaysHowLongIsLeftUntilTheDeadline() {
    Tenant t = tenants.create("deadline-tenant");
    Job job = TestJobs.submit(submissions, newJob(t, Duration.ofMinutes(5)));

    Duration left = leases.claim(job.id(), "w", LEASE).orElseThrow().timeLeft();
    assertTrue(
        left.compareTo(Duration.ofMinutes(4)) > 0 && left.compareTo(Duration.ofMinutes(5)) <= 0);
  }

  @Test
  void aQueuedJobPastItsDeadlineIsFailedInsteadOfClaimedAndNotBilled() throws Exception {
    Tenant t = tenants.create("expired-queued-tenant");
    Job job = TestJobs.submit(submissions, newJob(t, Duration.ofMillis(50)));
    Thread.sleep(100);

    assertTrue(leases.claim(job.id(), "w", LEASE).isEmpty());
    Job failed = jobs.find(t.id(), job.id()).orElseThrow();
    assertEquals(JobStatus.FAILED, failed.status());
    assertEquals("deadline-exceeded", failed.errorType());
    assertEquals(0, ledgerRows(job));
  }

  @Test
  void theSweeperFailsARunningJobOnlyAGraceAfterItsDeadline() throws Exception {
    Tenant t = tenants.create("expired-running-tenant");
    Job job = TestJobs.submit(submissions, newJob(t, Duration.ofMillis(200)));
    var claim = leases.claim(job.id(), "w", LEASE).orElseThrow();
    Thread.sleep(300);

    leases.failExpired(Duration.ofMinutes(1));
    assertTrue(leases.stillHeld(job.id(), claim.attempt()), "within the grace its worker stops it");
    leases.failExpired(Duration.ZERO);
    assertFalse(leases.stillHeld(job.id(), claim.attempt()));
    assertEquals("deadline-exceeded", jobs.find(t.id(), job.id()).orElseThrow().errorType());
  }

  @Test
  void exhaustedJobsFailWithReadableReason() throws Exception {
    Tenant t = tenants.create("exhausted");
    NewJob once =
        new NewJob(t.id(), "echo", 1, Map.of(), "image/png", 10, 10, "d", new byte[] {1}, 1);
    Job job = TestJobs.submit(submissions, once);
    leases.claim(job.id(), "dead-node", Duration.ofMillis(1)).orElseThrow();
    Thread.sleep(20);
    assertTrue(leases.claim(job.id(), "node-b", LEASE).isEmpty());
    assertTrue(
        leases.strays(Duration.ofHours(1), 10).stream().anyMatch(s -> s.jobId().equals(job.id())));
    assertTrue(leases.failExhausted() >= 1);
    Job failed = jobs.find(t.id(), job.id()).orElseThrow();
    assertEquals(JobStatus.FAILED, failed.status());
    assertEquals("attempts-exhausted", failed.errorType());
  }

  @Test
  void ledgerRowsCannotBeChangedOrDeleted() {
    Tenant t = tenants.create("ledger");
    Job job = submit(t);
    var claim = leases.claim(job.id(), "node-a", LEASE).orElseThrow();
    leases.succeed(claim, "image/png", new byte[] {1}, "d", 1);
    for (String sql :
        new String[] {"update usage_ledger set amount_micros = 0", "delete from usage_ledger"}) {
      var refused =
          assertThrows(
              StoreException.class,
              () -> db.tx().system().run(c -> c.createStatement().executeUpdate(sql)));
      assertEquals("42501", refused.sqlState(), "the application role lacks the privilege");
    }
    assertEquals(1, ledgerRows(job));
  }
}
