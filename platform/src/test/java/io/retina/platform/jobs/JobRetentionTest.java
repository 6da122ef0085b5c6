package io.retina.platform.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.retina.platform.models.ModelRepository;
import io.retina.platform.models.TestModels;
import io.retina.platform.store.Database;
import io.retina.platform.store.TestDatabases;
import io.retina.platform.tenants.Tenant;
import io.retina.platform.tenants.TenantRepository;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Retention in a real PostgreSQL: what the purge deletes, when, and what it leaves. */
class JobRetentionTest {
  static Database db;
  static JobRetention retention;
  static JobSubmissions submissions;
  static JobLeases leases;
  static JobRepository jobs;
  static TenantRepository tenants;
  static final Duration LEASE = Duration.ofSeconds(30);

  @BeforeAll
  static void open() {
    db = TestDatabases.fresh();
    retention = new JobRetention(db.tx());
    submissions = new JobSubmissions(db.tx());
    leases = new JobLeases(db.tx());
    jobs = new JobRepository(db.tx());
    tenants = new TenantRepository(db.tx());
    new ModelRepository(db.tx()).register(TestModels.echo(1), "test model");
  }

  @AfterAll
  static void close() {
    db.close();
  }

  static Job succeeded(Tenant t) {
    Job job = TestJobs.submit(submissions, t);
    var claim = leases.claim(job.id(), "w", LEASE).orElseThrow();
    leases.succeed(claim, "image/png", new byte[] {7, 7, 7, 7}, "sha256-o", 1000);
    return job;
  }

  static long payloads(UUID jobId, String kind) {
    return TestDatabases.systemValue(
        db,
        rs -> rs.getLong(1),
        "select count(*) from job_payloads where job_id = ? and kind = ?",
        jobId,
        kind);
  }

  /** Purges until nothing more is due (other tests' jobs may be due too). */
  static void purgeAll() {
    purgeAll(100);
  }

  /** Purges in batches of {@code batch} as a node does (in 500s): until a pass is not full. */
  static void purgeAll(int batch) {
    while (retention.purge(batch).more()) {
      // again
    }
  }

  /**
   * A finished job whose result is still kept must not hold back the inputs of jobs that ended
   * after it: the purge once took the oldest jobs holding any image, found nothing due in them, and
   * stopped, so past its first batch no input was deleted until the oldest results expired a day
   * later.
   */
  @Test
  void jobsWhoseResultsAreKeptDoNotHoldBackLaterInputs() {
    Tenant t = tenants.create("keep-order");
    Job first = succeeded(t);
    purgeAll(1);
    assertEquals(0, payloads(first.id(), "input"));
    // canceled: their inputs are left to the purge (a worker's end deletes its job's at once)
    Job second = canceled(t);
    Job third = canceled(t);

    purgeAll(1);

    assertEquals(0, payloads(second.id(), "input"), "due since it ended");
    assertEquals(0, payloads(third.id(), "input"), "due since it ended");
    assertEquals(1, payloads(first.id(), "output"), "results are kept a day");
  }

  static Job canceled(Tenant t) {
    Job job = TestJobs.submit(submissions, t);
    db.tx()
        .forTenant(t.id())
        .run(c -> JobCancellation.cancelUnfinished(c, t.id(), job.id(), "test"));
    return job;
  }

  /**
   * With inputs kept for no time (the default), a worker's commit of a job's end deletes its input
   * in the same statement, and marks the job as the purge would; a tenant that keeps its inputs
   * keeps them past the end, and a commit the fence refuses deletes nothing.
   */
  @Test
  void aWorkersEndOfAJobDeletesItsInputInTheSameCommit() {
    Tenant t = tenants.create("input-at-end");
    Job ok = succeeded(t);
    assertEquals(0, payloads(ok.id(), "input"), "no purge has run");
    assertEquals(1, payloads(ok.id(), "output"));
    Job okAfter = jobs.find(t.id(), ok.id()).orElseThrow();
    assertNotNull(okAfter.inputDeletedAt());
    assertNull(okAfter.outputDeletedAt());
    assertEquals("retention", retention.deletedBy(t.id(), ok.id()).orElseThrow());

    Job bad = TestJobs.submit(submissions, t);
    var badClaim = leases.claim(bad.id(), "w", LEASE).orElseThrow();
    assertTrue(leases.fail(badClaim, "invalid-input", "not an image"));
    assertEquals(0, payloads(bad.id(), "input"));
    assertNotNull(jobs.find(t.id(), bad.id()).orElseThrow().inputDeletedAt());

    Job stale = TestJobs.submit(submissions, t);
    var first = leases.claim(stale.id(), "w", LEASE).orElseThrow();
    db.tx()
        .forTenant(t.id())
        .run(c -> JobCancellation.cancelUnfinished(c, t.id(), stale.id(), "test"));
    assertTrue(leases.succeed(first, "image/png", new byte[] {1}, "d", 1).isEmpty());
    assertFalse(leases.fail(first, "invalid-input", "late"));
    assertEquals(1, payloads(stale.id(), "input"), "the fence refused: left to the purge");

    retention.set(t.id(), null, Duration.ofHours(1));
    Job kept = succeeded(t);
    Job keptBad = TestJobs.submit(submissions, t);
    leases.fail(leases.claim(keptBad.id(), "w", LEASE).orElseThrow(), "invalid-input", "no");
    assertEquals(1, payloads(kept.id(), "input"), "inputs kept an hour");
    assertEquals(1, payloads(keptBad.id(), "input"));
    assertNull(jobs.find(t.id(), kept.id()).orElseThrow().inputDeletedAt());
    assertTrue(retention.deletedBy(t.id(), kept.id()).isEmpty());
  }

  @Test
  void byDefaultTheInputGoesWhenTheJobEndsAndTheResultStaysADay() {
    Tenant t = tenants.create("keep-default");
    var periods = retention.periods(t.id());
    assertEquals(Duration.ofHours(24), periods.results());
    assertEquals(Duration.ZERO, periods.inputs());
    assertFalse(periods.ownResults() || periods.ownInputs());
    Job job = succeeded(t);
    Job queued = TestJobs.submit(submissions, t);
    assertEquals(0, payloads(job.id(), "input"), "the input went when the job ended");

    purgeAll();

    assertEquals(1, payloads(job.id(), "output"), "the result is kept for a day");
    assertEquals(1, payloads(queued.id(), "input"), "an unfinished job keeps its input");
    Job after = jobs.find(t.id(), job.id()).orElseThrow();
    assertNotNull(after.inputDeletedAt());
    assertNull(after.outputDeletedAt());
    assertEquals(1, TestJobs.ledgerRows(db, job.id()), "the bill stays");
  }

  @Test
  void aTenantsOwnPeriodsApplyToJobsThatEndedBefore() {
    Tenant t = tenants.create("keep-own");
    Job job = succeeded(t);
    purgeAll();
    assertEquals(1, payloads(job.id(), "output"));

    var set = retention.set(t.id(), Duration.ZERO, Duration.ofDays(7));
    assertTrue(set.ownResults() && set.ownInputs());
    assertEquals(Duration.ofDays(7), set.inputs());
    Job kept = succeeded(t);
    purgeAll();

    assertEquals(0, payloads(job.id(), "output"), "results kept 0 s: gone at the next purge");
    assertEquals(0, payloads(kept.id(), "output"));
    assertEquals(1, payloads(kept.id(), "input"), "inputs kept 7 days now: this one stays");
    Job after = jobs.find(t.id(), job.id()).orElseThrow();
    assertEquals(JobStatus.SUCCEEDED, after.status(), "the job itself stays");
    assertNotNull(after.outputDeletedAt());
    assertEquals("retention", retention.deletedBy(t.id(), job.id()).orElseThrow());

    var back = retention.set(t.id(), null, null);
    assertFalse(back.ownResults() || back.ownInputs());
    assertThrows(
        IllegalArgumentException.class, () -> retention.set(t.id(), Duration.ofDays(31), null));
  }

  @Test
  void aTenantDeletesAFinishedJobsImagesAtOnceButNotAnotherTenantsOrAnUnfinishedOnes() {
    Tenant t = tenants.create("delete-now");
    Tenant other = tenants.create("delete-other");
    Job job = succeeded(t);
    Job queued = TestJobs.submit(submissions, t);

    assertEquals(JobRetention.Deletion.NOT_FOUND, retention.deleteData(other.id(), job.id()));
    assertEquals(1, payloads(job.id(), "output"));
    assertEquals(JobRetention.Deletion.NOT_FINISHED, retention.deleteData(t.id(), queued.id()));
    assertEquals(1, payloads(queued.id(), "input"));

    assertEquals(JobRetention.Deletion.DELETED, retention.deleteData(t.id(), job.id()));
    assertEquals(0, payloads(job.id(), "output") + payloads(job.id(), "input"));
    assertEquals("tenant", retention.deletedBy(t.id(), job.id()).orElseThrow());
    assertEquals(JobRetention.Deletion.DELETED, retention.deleteData(t.id(), job.id()), "again");
    assertTrue(jobs.withOutput(t.id(), job.id()).orElseThrow().output() == null);

    var storage = retention.storage().stream().filter(s -> s.tenantId().equals(t.id())).findFirst();
    assertEquals(
        queued.inputBytes(),
        storage.orElseThrow().inputBytes(),
        "only the queued job's input is stored");
    assertEquals(0, storage.orElseThrow().outputBytes());
  }
}
