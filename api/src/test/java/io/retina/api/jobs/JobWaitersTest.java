package io.retina.api.jobs;

import static org.junit.jupiter.api.Assertions.*;

import io.retina.platform.cluster.JobEvents;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** Waiting for jobs on the job-events topic, as {@code Prefer: wait} does. */
class JobWaitersTest {
  static final ActorTestKit kit = ActorTestKit.create();
  static final ActorRef<Topic.Command<JobEvents.JobEvent>> topic =
      kit.spawn(Topic.create(JobEvents.JobEvent.class, JobEvents.TOPIC));
  static final JobWaiters waiters = new JobWaiters(kit.system(), topic);

  /**
   * The waiters' subscription reaches the topic asynchronously: announce a job until a waiter hears
   * one well before its timeout, so that no test's announcement goes out before anyone listens.
   */
  @org.junit.jupiter.api.BeforeAll
  static void subscribed() throws Exception {
    for (int i = 0; i < 100; i++) {
      UUID probe = UUID.randomUUID();
      long start = System.nanoTime();
      var woken = waiters.wake(probe, Duration.ofMillis(500)).toCompletableFuture();
      Thread.sleep(20);
      topic.tell(Topic.publish(new JobEvents.JobFinished(probe, "succeeded", null)));
      woken.get(5, TimeUnit.SECONDS);
      if (System.nanoTime() - start < Duration.ofMillis(400).toNanos()) {
        return;
      }
    }
    throw new IllegalStateException("the waiters never heard the topic");
  }

  @AfterAll
  static void stop() {
    kit.shutdownTestKit();
  }

  @Test
  void aWaiterWakesWhenItsJobIsAnnounced() throws Exception {
    UUID job = UUID.randomUUID();
    var woken = waiters.wake(job, Duration.ofSeconds(30)).toCompletableFuture();
    Thread.sleep(200); // the waiter is registered
    assertFalse(woken.isDone());
    topic.tell(Topic.publish(new JobEvents.JobFinished(job, "succeeded", null)));
    woken.get(5, TimeUnit.SECONDS);
  }

  @Test
  void aWaiterForAJobAnnouncedJustBeforeWakesAtOnce() throws Exception {
    UUID job = UUID.randomUUID();
    topic.tell(Topic.publish(new JobEvents.JobFinished(job, "succeeded", null)));
    Thread.sleep(200); // the announcement came and went before anyone waited
    long start = System.nanoTime();
    waiters.wake(job, Duration.ofSeconds(30)).toCompletableFuture().get(5, TimeUnit.SECONDS);
    assertTrue(System.nanoTime() - start < Duration.ofSeconds(2).toNanos());
  }

  @Test
  void aStartOrProgressWakesTheWaiterWithTheJobAndTheNodeRemembersIt() throws Exception {
    UUID id = UUID.randomUUID();
    var woken = waiters.wake(id, Duration.ofSeconds(30)).toCompletableFuture();
    Thread.sleep(200); // the waiter is registered
    var running = JobSnapshotsTest.job(id, io.retina.platform.jobs.JobStatus.RUNNING, 1, 0.4);
    topic.tell(Topic.publish(new JobEvents.JobChanged(id, running)));
    assertEquals(0.4, woken.get(5, TimeUnit.SECONDS).orElseThrow().progress());
    assertEquals(
        0.4, waiters.snapshots().recent(JobSnapshotsTest.TENANT, id).orElseThrow().progress());
  }

  @Test
  void aWaiterForAJobNobodyAnnouncesWakesAtItsTimeout() throws Exception {
    long start = System.nanoTime();
    waiters
        .wake(UUID.randomUUID(), Duration.ofMillis(300))
        .toCompletableFuture()
        .get(5, TimeUnit.SECONDS);
    assertTrue(System.nanoTime() - start >= Duration.ofMillis(300).toNanos());
  }

  @Test
  void aWaiterForTheFinishSleepsThroughStartAndProgress() throws Exception {
    UUID id = UUID.randomUUID();
    var finish = waiters.wakeWhenFinished(id, Duration.ofSeconds(30)).toCompletableFuture();
    var change = waiters.wake(id, Duration.ofSeconds(30)).toCompletableFuture();
    Thread.sleep(200); // both are registered
    var running = JobSnapshotsTest.job(id, io.retina.platform.jobs.JobStatus.RUNNING, 1, 0.4);
    topic.tell(Topic.publish(new JobEvents.JobChanged(id, running)));
    change.get(5, TimeUnit.SECONDS);
    Thread.sleep(200); // the start reached every waiter it wakes
    assertFalse(finish.isDone());
    var done = JobSnapshotsTest.job(id, io.retina.platform.jobs.JobStatus.SUCCEEDED, 1, 1.0);
    topic.tell(Topic.publish(new JobEvents.JobFinished(id, "succeeded", done)));
    assertEquals(
        io.retina.platform.jobs.JobStatus.SUCCEEDED,
        finish.get(5, TimeUnit.SECONDS).orElseThrow().status());
  }
}
