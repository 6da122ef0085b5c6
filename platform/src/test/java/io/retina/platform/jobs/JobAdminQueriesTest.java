package io.retina.platform.jobs;

import static org.junit.jupiter.api.Assertions.*;

import io.retina.platform.jobs.JobAdminQueries.Cancellation;
import io.retina.platform.jobs.JobAdminQueries.Filter;
import io.retina.platform.jobs.JobAdminQueries.TenantJob;
import io.retina.platform.models.ModelRepository;
import io.retina.platform.models.TestModels;
import io.retina.platform.store.Database;
import io.retina.platform.store.TestDatabases;
import io.retina.platform.tenants.Tenant;
import io.retina.platform.tenants.TenantRepository;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The operators' view of jobs, against a real PostgreSQL with row-level security on. */
class JobAdminQueriesTest {
  static final Duration LEASE = Duration.ofSeconds(30);

  Database db;
  JobRepository jobs;
  JobSubmissions submissions;
  JobLeases leases;
  JobAdminQueries admin;
  TenantRepository tenants;

  /** A database per test: the lists here are of every tenant's jobs. */
  @BeforeEach
  void open() {
    db = TestDatabases.fresh();
    jobs = new JobRepository(db.tx());
    submissions = new JobSubmissions(db.tx());
    leases = new JobLeases(db.tx());
    admin = new JobAdminQueries(db.tx());
    tenants = new TenantRepository(db.tx());
    var models = new ModelRepository(db.tx());
    models.register(TestModels.echo(1), "test model");
    models.register(TestModels.echo("other", 1), "another test model");
  }

  @AfterEach
  void close() {
    db.close();
  }

  Job submit(Tenant t, String model) {
    NewJob job =
        new NewJob(
            t.id(), model, 1, Map.of(), "image/png", 20, 10, "sha256-x", new byte[] {1, 2, 3}, 3);
    return ((Submission.Created)
            submissions.submit(job, AdmissionLimits.NONE, null, null, Duration.ofSeconds(30)))
        .job();
  }

  List<UUID> ids(List<TenantJob> page) {
    return page.stream().map(j -> j.job().id()).toList();
  }

  @Test
  void listsEveryTenantsJobsNewestFirstWithTheirTenantsName() {
    Tenant a = tenants.create("alpha");
    Tenant b = tenants.create("beta");
    Job first = submit(a, "echo");
    Job second = submit(b, "echo");
    Job third = submit(a, "other");

    var page = admin.list(Filter.NONE, null, 10);

    assertEquals(List.of(third.id(), second.id(), first.id()), ids(page.jobs()));
    assertEquals("alpha", page.jobs().get(0).tenantName());
    assertEquals("beta", page.jobs().get(1).tenantName());
    assertNull(page.next());
  }

  @Test
  void filtersByStatusTenantAndModel() {
    Tenant a = tenants.create("alpha");
    Tenant b = tenants.create("beta");
    Job queued = submit(a, "echo");
    Job failed = submit(a, "echo");
    leases.fail(leases.claim(failed.id(), "node-a", LEASE).orElseThrow(), "invalid-input", "bad");
    Job otherModel = submit(a, "other");
    Job otherTenant = submit(b, "echo");

    assertEquals(
        List.of(failed.id()),
        ids(admin.list(new Filter(JobStatus.FAILED, null, null), null, 10).jobs()));
    assertEquals(
        List.of(otherTenant.id()),
        ids(admin.list(new Filter(null, b.id(), null), null, 10).jobs()));
    assertEquals(
        List.of(otherModel.id()),
        ids(admin.list(new Filter(null, null, "other"), null, 10).jobs()));
    assertEquals(
        List.of(queued.id()),
        ids(admin.list(new Filter(JobStatus.QUEUED, a.id(), "echo"), null, 10).jobs()));
  }

  @Test
  void pagesThroughEveryJobOnceWithTheCursor() {
    Tenant a = tenants.create("alpha");
    Tenant b = tenants.create("beta");
    List<UUID> submitted = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      submitted.add(0, submit(i % 2 == 0 ? a : b, "echo").id());
    }
    List<UUID> seen = new ArrayList<>();
    JobCursor cursor = null;
    int pages = 0;
    do {
      var page = admin.list(Filter.NONE, cursor, 3);
      seen.addAll(ids(page.jobs()));
      cursor = page.next();
      pages++;
    } while (cursor != null);
    assertEquals(submitted, seen);
    assertEquals(3, pages);
  }

  @Test
  void refusesAPageLargerThanTheBound() {
    assertThrows(
        IllegalArgumentException.class,
        () -> admin.list(Filter.NONE, null, JobAdminQueries.MAX_LIMIT + 1));
    assertThrows(IllegalArgumentException.class, () -> admin.list(Filter.NONE, null, 0));
  }

  @Test
  void findsAnyTenantsJobWithItsLeaseWhileItRuns() {
    Tenant a = tenants.create("alpha");
    Job job = submit(a, "echo");
    leases.claim(job.id(), "node-a", LEASE).orElseThrow();

    TenantJob found = admin.find(job.id()).orElseThrow();

    assertEquals(a.id(), found.job().tenantId());
    assertEquals("alpha", found.tenantName());
    assertEquals(JobStatus.RUNNING, found.job().status());
    assertEquals("node-a", found.leaseOwner());
    assertNotNull(found.leaseExpiresAt());
    assertTrue(admin.find(UUID.randomUUID()).isEmpty());
  }

  @Test
  void cancelsARunningJobWhoseWorkerThenCannotCommit() {
    Tenant a = tenants.create("alpha");
    Job job = submit(a, "echo");
    var claim = leases.claim(job.id(), "node-a", LEASE).orElseThrow();

    var outcome = admin.cancel(job.id());

    Job canceled = ((Cancellation.Canceled) outcome).job().job();
    assertEquals(JobStatus.CANCELED, canceled.status());
    assertEquals("canceled", canceled.errorType());
    assertEquals("canceled by an operator", canceled.errorDetail());
    assertFalse(
        leases.succeed(claim, "image/png", new byte[] {9}, "d", 1).isPresent(), "fenced out");
    assertEquals(JobStatus.CANCELED, jobs.find(a.id(), job.id()).orElseThrow().status());
  }

  @Test
  void leavesAFinishedJobAsItWas() {
    Tenant a = tenants.create("alpha");
    Job job = submit(a, "echo");
    leases.succeed(
        leases.claim(job.id(), "node-a", LEASE).orElseThrow(), "image/png", new byte[] {9}, "d", 1);

    var outcome = admin.cancel(job.id());

    var finished = assertInstanceOf(Cancellation.AlreadyFinished.class, outcome);
    assertEquals(JobStatus.SUCCEEDED, finished.job().job().status());
    assertEquals(JobStatus.SUCCEEDED, jobs.find(a.id(), job.id()).orElseThrow().status());
    assertEquals(Cancellation.NotFound.INSTANCE, admin.cancel(UUID.randomUUID()));
  }

  @Test
  void tenantsCancelAndDeletionShareTheStatementAndKeepTheirReasons() {
    Tenant a = tenants.create("alpha");
    Job own = submit(a, "echo");
    Job left = submit(a, "echo");

    assertEquals(
        "canceled at the tenant's request",
        jobs.cancel(a.id(), own.id()).orElseThrow().errorDetail());
    assertTrue(tenants.delete(a.id()));

    Job afterDeletion = jobs.find(a.id(), left.id()).orElseThrow();
    assertEquals(JobStatus.CANCELED, afterDeletion.status());
    assertEquals("the tenant was deleted", afterDeletion.errorDetail());
    assertEquals(
        "canceled at the tenant's request",
        jobs.find(a.id(), own.id()).orElseThrow().errorDetail(),
        "a finished job is not canceled again");
  }
}
