package io.retina.workers.runners;

import static org.junit.jupiter.api.Assertions.*;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.retina.platform.cluster.JobEvents;
import io.retina.platform.cluster.LocalEntities;
import io.retina.platform.cluster.RunnerId;
import io.retina.platform.cluster.RunnerLoads;
import io.retina.platform.cluster.RunnerProtocol;
import io.retina.platform.cluster.Scaling;
import io.retina.platform.cluster.ScalingStore;
import io.retina.platform.jobs.JobLeases;
import io.retina.platform.store.Database;
import io.retina.platform.store.TestDatabases;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A version's runner on its own: the test plays the worker nodes' hosts and the replicas (probes),
 * and checks what the runner hands out, to whom, in which order, and when it asks for a replica
 * more or one fewer.
 */
class ModelRunnerTest {
  static Database db;
  static ExecutorService blocking;

  ActorTestKit kit;
  TestProbe<ReplicaHost.Command> host;
  ActorRef<RunnerProtocol.Command> runner;
  final RunnerId id = new RunnerId("m", 1);

  /**
   * Quick terms so the runner decides within the test: up after 0.5 s over, down after 1.5 s idle.
   */
  static final Autoscaler.Settings QUICK =
      new Autoscaler.Settings(Duration.ofMillis(500), Duration.ofMillis(1500), Duration.ZERO);

  @BeforeAll
  static void store() {
    db = TestDatabases.fresh();
    blocking = Executors.newFixedThreadPool(2);
  }

  @AfterAll
  static void closeStore() {
    db.close();
    blocking.shutdown();
  }

  @BeforeEach
  void start() {
    kit = ActorTestKit.create();
    host = kit.createTestProbe(ReplicaHost.Command.class);
    kit.system().receptionist().tell(Receptionist.register(ReplicaHost.KEY, host.getRef()));
  }

  @AfterEach
  void stop() {
    kit.shutdownTestKit();
  }

  void startRunner(Scaling scaling) {
    WorkerContext worker =
        new WorkerContext(
            new JobLeases(db.tx()),
            null,
            new ScalingStore(db.tx()),
            scaling,
            QUICK,
            Duration.ofSeconds(60),
            1,
            0,
            false,
            blocking,
            "test-node",
            "cpu",
            kit.spawn(Topic.create(JobEvents.JobEvent.class, JobEvents.TOPIC)),
            kit.spawn(Topic.create(RunnerLoads.Load.class, RunnerLoads.TOPIC)),
            kit.spawn(Residency.create(1_000_000, Set.of(), Clock.systemUTC())),
            new WorkerMetrics(new SimpleMeterRegistry()),
            io.retina.platform.tracing.Tracing.OFF);
    runner = kit.spawn(ModelRunner.create(id, worker));
  }

  static Scaling scaling(int min, int max) {
    return new Scaling(min, max, Duration.ofSeconds(2), Duration.ofSeconds(30), "any");
  }

  /**
   * Answers the runner's next placement from {@code node} and returns the replica started there.
   */
  TestProbe<Replica.Command> placeOn(String node, int capacity, long millisPerJob) {
    var describe = host.expectMessageClass(ReplicaHost.Describe.class, Duration.ofSeconds(5));
    assertEquals(id, describe.runner());
    describe.replyTo().tell(new ReplicaHost.Offer(host.getRef(), node, "cpu", 1_000_000, false, 0));
    var start = host.expectMessageClass(ReplicaHost.StartReplica.class);
    start.replyTo().tell(new ReplicaHost.Placed(id, node, true, null));
    TestProbe<Replica.Command> replica = kit.createTestProbe(Replica.Command.class);
    report(replica, node, capacity, 0, List.of(), millisPerJob);
    return replica;
  }

  /** The replicas' reports so far, numbered as a replica numbers its own. */
  long reports;

  void report(
      TestProbe<Replica.Command> replica,
      String node,
      int capacity,
      long received,
      List<UUID> holding,
      long millisPerJob) {
    report(replica, ++reports, node, capacity, received, holding, millisPerJob);
  }

  void report(
      TestProbe<Replica.Command> replica,
      long sequence,
      String node,
      int capacity,
      long received,
      List<UUID> holding,
      long millisPerJob) {
    runner.tell(
        new ModelRunner.ReplicaReport(
            replica.getRef(),
            sequence,
            node,
            ModelRunner.READY,
            capacity,
            received,
            holding,
            millisPerJob,
            1000,
            null));
  }

  List<UUID> submit(UUID tenant, int count) {
    List<UUID> ids = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      UUID job = UUID.randomUUID();
      ids.add(job);
      runner.tell(new RunnerProtocol.JobSubmitted(job, tenant, 1));
    }
    return ids;
  }

  /** Its node's own messages reach it straight while it lives, and through sharding after. */
  @Test
  void isFoundOnItsNodeWhileItLivesAndNotOnceStopped() {
    startRunner(scaling(0, 1));
    LocalEntities here = LocalEntities.get(kit.system());
    assertEquals(runner, here.find(RunnerProtocol.ENTITY_KEY, id.toString()));
    kit.stop(runner);
    assertNull(here.find(RunnerProtocol.ENTITY_KEY, id.toString()));
  }

  @Test
  void placesAReplicaWhenTheFirstJobArrivesAndHandsItTheJob() {
    startRunner(scaling(0, 3));
    List<UUID> job = submit(UUID.randomUUID(), 1);
    TestProbe<Replica.Command> replica = placeOn("n1", 1, -1);
    assertEquals(job, replica.expectMessageClass(Replica.Work.class).jobIds());
  }

  @Test
  void aRunnerWokenOnlyByASettingsChangePlacesNothing() {
    startRunner(scaling(1, 3));
    runner.tell(new RunnerProtocol.SettingsChanged());
    host.expectNoMessage(Duration.ofMillis(2500));
    runner.tell(new RunnerProtocol.Prepare("promoted"));
    assertEquals(id, host.expectMessageClass(ReplicaHost.Describe.class).runner());
  }

  @Test
  void handsAReplicaNoMoreThanItCanHoldInTheTenantsFairOrder() {
    startRunner(scaling(0, 1));
    UUID flooder = UUID.randomUUID();
    UUID other = UUID.randomUUID();
    List<UUID> flood = submit(flooder, 4);
    TestProbe<Replica.Command> replica = placeOn("n1", 2, 100);
    List<UUID> quiet = submit(other, 1);
    assertEquals(
        List.of(flood.get(0), flood.get(1)),
        replica.expectMessageClass(Replica.Work.class).jobIds());
    replica.expectNoMessage(Duration.ofMillis(300));
    // both done: room for two more, and the quiet tenant's job is not left behind the flood
    report(replica, "n1", 2, 2, List.of(), 100);
    List<UUID> next = replica.expectMessageClass(Replica.Work.class).jobIds();
    assertEquals(2, next.size());
    assertTrue(next.contains(quiet.get(0)), "the other tenant's job is among the next two");
  }

  /**
   * A replica's reports come two ways (straight after a batch, through sharding every second), so a
   * report can overtake an older one: the older, saying the replica is still full, must not stop
   * the runner from handing it the next job.
   */
  @Test
  void aReportOvertakenByALaterOneIsIgnored() {
    startRunner(scaling(0, 1));
    UUID tenant = UUID.randomUUID();
    List<UUID> first = submit(tenant, 1);
    TestProbe<Replica.Command> replica = placeOn("n1", 1, 100);
    Replica.Work work = replica.expectMessageClass(Replica.Work.class);
    assertEquals(first, work.jobIds());
    assertEquals(runner, work.runner(), "the work says which runner handed it");
    long older = ++reports;
    report(replica, ++reports, "n1", 1, 1, List.of(), 100); // done: room again
    report(replica, older, "n1", 1, 1, first, 100); // the older report, still holding the job
    List<UUID> second = submit(tenant, 1);
    assertEquals(second, replica.expectMessageClass(Replica.Work.class).jobIds());
  }

  /** A replica of the build before the numbering (a rolling update) sends 0: every one is read. */
  @Test
  void reportsOfABuildBeforeTheirNumberingAreAllRead() {
    startRunner(scaling(0, 1));
    UUID tenant = UUID.randomUUID();
    List<UUID> first = submit(tenant, 1);
    TestProbe<Replica.Command> replica = kit.createTestProbe(Replica.Command.class);
    var describe = host.expectMessageClass(ReplicaHost.Describe.class, Duration.ofSeconds(5));
    describe.replyTo().tell(new ReplicaHost.Offer(host.getRef(), "n1", "cpu", 1_000_000, false, 0));
    host.expectMessageClass(ReplicaHost.StartReplica.class)
        .replyTo()
        .tell(new ReplicaHost.Placed(id, "n1", true, null));
    report(replica, 0, "n1", 1, 0, List.of(), 100);
    assertEquals(first, replica.expectMessageClass(Replica.Work.class).jobIds());
    report(replica, 0, "n1", 1, 1, List.of(), 100); // done: room again
    List<UUID> second = submit(tenant, 1);
    assertEquals(second, replica.expectMessageClass(Replica.Work.class).jobIds());
  }

  @Test
  void spreadsJobsOverItsReplicasAndRequeuesWhatALostReplicaHeld() {
    startRunner(scaling(2, 2));
    runner.tell(new RunnerProtocol.Prepare("test"));
    TestProbe<Replica.Command> first = placeOn("n1", 1, 100);
    TestProbe<Replica.Command> second = placeOn("n2", 1, 100);
    List<UUID> jobs = submit(UUID.randomUUID(), 3);
    UUID onFirst = first.expectMessageClass(Replica.Work.class).jobIds().get(0);
    UUID onSecond = second.expectMessageClass(Replica.Work.class).jobIds().get(0);
    assertNotEquals(onFirst, onSecond);
    // the first replica's node dies before it reports: its job goes to the second once it has room
    first.stop();
    report(second, "n2", 1, 1, List.of(), 100);
    List<UUID> handed = new ArrayList<>(second.expectMessageClass(Replica.Work.class).jobIds());
    report(second, "n2", 1, 2, List.of(), 100);
    handed.addAll(second.expectMessageClass(Replica.Work.class).jobIds());
    List<UUID> left = new ArrayList<>(jobs);
    left.remove(onSecond);
    assertEquals(Set.copyOf(left), Set.copyOf(handed), "the lost replica's job and the third");
  }

  @Test
  void addsAReplicaWhenTheExpectedWaitStaysOverTargetAndDrainsOneThatIdles()
      throws InterruptedException {
    startRunner(scaling(1, 2));
    runner.tell(new RunnerProtocol.Prepare("test"));
    TestProbe<Replica.Command> first = placeOn("n1", 1, 1000);
    List<UUID> jobs = submit(UUID.randomUUID(), 8); // ~7 s of waiting at 1 s a job, target 2 s
    assertEquals(1, first.expectMessageClass(Replica.Work.class).jobIds().size());
    TestProbe<Replica.Command> second = placeOn("n2", 1, 1000);
    assertEquals(1, second.expectMessageClass(Replica.Work.class).jobIds().size());
    // everything finishes; both idle; the runner drains one and keeps its minimum of one
    report(first, "n1", 8, 1, List.of(), 1000);
    report(second, "n2", 8, 1, List.of(), 1000);
    Thread.sleep(100); // so that the second has been idle longest, by more than a clock tick
    int handed = 2;
    while (handed < jobs.size()) {
      handed += first.expectMessageClass(Replica.Work.class).jobIds().size();
      report(first, "n1", 8, handed - 1, List.of(), 1000);
    }
    report(second, "n2", 8, 1, List.of(), 1000);
    // the second has been idle longest: it goes, and the first (the minimum) stays
    Replica.Command told = second.receiveMessage(Duration.ofSeconds(8));
    assertInstanceOf(Replica.Drain.class, told, "the idle replica is drained");
    first.expectNoMessage(Duration.ofSeconds(3));
  }

  @Test
  void answersAQueuedJobsPlaceAndStartFromMeasuredServiceTimes() {
    startRunner(scaling(0, 1));
    List<UUID> jobs = submit(UUID.randomUUID(), 5);
    TestProbe<Replica.Command> replica = placeOn("n1", 1, 200);
    replica.expectMessageClass(Replica.Work.class);
    TestProbe<RunnerProtocol.QueuePosition> answer = kit.createTestProbe();
    runner.tell(new RunnerProtocol.GetQueuePosition(jobs.get(4), answer.getRef()));
    RunnerProtocol.QueuePosition p = answer.receiveMessage();
    assertEquals(3, p.position());
    // three jobs ahead at 200 ms each, plus half of the one running
    assertEquals(700, p.estimatedStartMillis(), 1);
  }

  @Test
  void publishesTheVersionsExpectedWaitForAdmission() {
    startRunner(scaling(0, 1));
    TestProbe<RunnerLoads.Load> loads = kit.createTestProbe();
    ActorRef<Topic.Command<RunnerLoads.Load>> topic =
        kit.spawn(Topic.create(RunnerLoads.Load.class, RunnerLoads.TOPIC));
    topic.tell(Topic.subscribe(loads.getRef()));
    submit(UUID.randomUUID(), 4);
    TestProbe<Replica.Command> replica = placeOn("n1", 1, 500);
    replica.expectMessageClass(Replica.Work.class);
    RunnerLoads.Load load =
        loads
            .fishForMessage(
                Duration.ofSeconds(5),
                l ->
                    l.measured()
                        ? org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.complete()
                        : org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes
                            .continueAndIgnore())
            .get(0);
    assertEquals("m@1", load.runner());
    assertEquals(3, load.queued());
    assertEquals(3 * 500 + 250, load.expectedWaitMillis(), 1);
    assertEquals(30_000, load.maxWaitMillis());
  }
}
