package io.retina.workers.recovery;

import static org.junit.jupiter.api.Assertions.*;

import io.retina.platform.cluster.RunnerId;
import io.retina.platform.jobs.AdmissionLimits;
import io.retina.platform.jobs.Job;
import io.retina.platform.jobs.JobLeases;
import io.retina.platform.jobs.JobRepository;
import io.retina.platform.jobs.JobStatus;
import io.retina.platform.jobs.JobSubmissions;
import io.retina.platform.jobs.NewJob;
import io.retina.platform.jobs.Submission;
import io.retina.platform.store.Database;
import io.retina.platform.store.TestDatabases;
import io.retina.platform.tenants.Tenant;
import io.retina.platform.tenants.TenantRepository;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The sweeper on its own against a real store: what it re-sends to runners, and what it fails.
 * Runners are a probe.
 */
class SweeperTest {
  static final ActorTestKit kit = ActorTestKit.create();
  static Database db;
  static ExecutorService blocking;
  static JobSubmissions submissions;
  static JobLeases leases;
  static JobRepository jobs;
  static Tenant tenant;

  /** A sweep every 200 ms; a job unclaimed for 300 ms counts as lost. */
  static final Sweeper.Settings QUICK =
      new Sweeper.Settings(Duration.ofMillis(200), Duration.ofMillis(300), 100);

  record Resent(RunnerId runner, UUID jobId, UUID tenantId, int weight) {}

  org.apache.pekko.actor.typed.ActorRef<Sweeper.Command> sweeper;

  @BeforeAll
  static void executor() {
    blocking = Executors.newFixedThreadPool(2);
  }

  @AfterAll
  static void close() {
    kit.shutdownTestKit();
    blocking.shutdown();
  }

  /** A store of its own for each test, so that a sweep sees only the test's jobs. */
  @org.junit.jupiter.api.BeforeEach
  void store() {
    db = TestDatabases.fresh();
    submissions = new JobSubmissions(db.tx());
    leases = new JobLeases(db.tx());
    jobs = new JobRepository(db.tx());
    tenant = new TenantRepository(db.tx()).create("sweeper-test");
  }

  @org.junit.jupiter.api.AfterEach
  void stop() {
    if (sweeper != null) {
      kit.stop(sweeper);
    }
    db.close();
  }

  static Job submit(String model) {
    new io.retina.platform.models.ModelRepository(db.tx())
        .register(io.retina.platform.models.TestModels.echo(model, 1), "test model");
    NewJob job =
        new NewJob(
            tenant.id(),
            model,
            1,
            Map.of(),
            "image/png",
            10,
            10,
            "sha256-x",
            new byte[] {1},
            2,
            null);
    return ((Submission.Created)
            submissions.submit(job, AdmissionLimits.NONE, null, null, Duration.ofSeconds(30)))
        .job();
  }

  TestProbe<Resent> sweeper() {
    TestProbe<Resent> runners = kit.createTestProbe();
    sweeper =
        kit.spawn(
            Sweeper.create(
                leases,
                QUICK,
                blocking,
                (runner, job, t, weight) ->
                    runners.getRef().tell(new Resent(runner, job, t, weight))));
    return runners;
  }

  @Test
  void resendsAJobWhoseDispatchWasLostToItsVersionsRunner() {
    Job lost = submit("lost-dispatch");
    TestProbe<Resent> runners = sweeper();
    Resent resent =
        runners
            .fishForMessage(
                Duration.ofSeconds(5),
                r ->
                    r.jobId().equals(lost.id())
                        ? org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.complete()
                        : org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes
                            .continueAndIgnore())
            .get(0);
    assertEquals(new RunnerId("lost-dispatch", 1), resent.runner());
    assertEquals(tenant.id(), resent.tenantId());
  }

  @Test
  void leavesAJobAloneWhileItsLeaseIsLiveAndResendsItOnceItExpires() throws Exception {
    Job held = submit("held");
    leases.claim(held.id(), "worker-a", Duration.ofSeconds(2)).orElseThrow();
    TestProbe<Resent> runners = sweeper();
    runners.expectNoMessage(Duration.ofMillis(1200));
    assertEquals(
        held.id(), runners.expectMessageClass(Resent.class, Duration.ofSeconds(5)).jobId());
  }

  @Test
  void failsAJobWhoseAttemptsAreUsedUp() throws Exception {
    Job job = submit("crashing");
    // two attempts, each claimed by a worker that died: the lease runs out each time
    leases.claim(job.id(), "worker-a", Duration.ofMillis(1)).orElseThrow();
    Thread.sleep(20);
    leases.claim(job.id(), "worker-b", Duration.ofMillis(1)).orElseThrow();
    Thread.sleep(20);
    sweeper();
    long until = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    Job seen = jobs.find(tenant.id(), job.id()).orElseThrow();
    while (seen.status() != JobStatus.FAILED && System.nanoTime() < until) {
      Thread.sleep(100);
      seen = jobs.find(tenant.id(), job.id()).orElseThrow();
    }
    assertEquals(JobStatus.FAILED, seen.status());
  }
}
