package io.retina.api.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.retina.platform.jobs.Job;
import io.retina.platform.jobs.JobStatus;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** What a node remembers of jobs, and which news wins over which. */
class JobSnapshotsTest {
  static final UUID TENANT = UUID.randomUUID();

  static Job job(UUID id, JobStatus status, int attempts, Double progress) {
    return new Job(
        id,
        TENANT,
        "m",
        1,
        status,
        Map.of(),
        "image/png",
        8,
        8,
        100,
        "sha256:x",
        null,
        null,
        attempts,
        3,
        null,
        null,
        Instant.EPOCH,
        null,
        null,
        progress,
        null,
        null,
        null);
  }

  final JobSnapshots snapshots = new JobSnapshots();
  final UUID id = UUID.randomUUID();

  @Test
  void aJobIsKnownOnlyToItsTenant() {
    snapshots.read(job(id, JobStatus.QUEUED, 0, null));
    assertEquals(JobStatus.QUEUED, snapshots.recent(TENANT, id).orElseThrow().status());
    assertEquals(Optional.empty(), snapshots.recent(UUID.randomUUID(), id));
    assertEquals(Optional.empty(), snapshots.recent(TENANT, UUID.randomUUID()));
  }

  @Test
  void aLateProgressReportDoesNotUndoTheFinish() {
    snapshots.announced(job(id, JobStatus.RUNNING, 1, 0.2));
    snapshots.announced(job(id, JobStatus.SUCCEEDED, 1, null));
    snapshots.announced(job(id, JobStatus.RUNNING, 1, 0.9));
    assertEquals(JobStatus.SUCCEEDED, snapshots.recent(TENANT, id).orElseThrow().status());
  }

  @Test
  void progressMovesOnlyForwardWithinAnAttemptAndANewAttemptStartsOver() {
    snapshots.announced(job(id, JobStatus.RUNNING, 1, 0.6));
    snapshots.announced(job(id, JobStatus.RUNNING, 1, 0.3));
    assertEquals(0.6, snapshots.recent(TENANT, id).orElseThrow().progress());
    snapshots.announced(job(id, JobStatus.RUNNING, 2, 0.1));
    assertEquals(2, snapshots.recent(TENANT, id).orElseThrow().attempts());
  }

  @Test
  void theStoreWinsExceptOverAnAnnouncedFinish() {
    snapshots.announced(job(id, JobStatus.RUNNING, 1, 0.5));
    // a lease expired and the sweeper queued the job again: only the store knows
    snapshots.read(job(id, JobStatus.QUEUED, 1, null));
    assertEquals(JobStatus.QUEUED, snapshots.recent(TENANT, id).orElseThrow().status());
    snapshots.announced(job(id, JobStatus.FAILED, 1, null));
    snapshots.read(job(id, JobStatus.RUNNING, 1, null)); // a read that began before the finish
    assertEquals(JobStatus.FAILED, snapshots.recent(TENANT, id).orElseThrow().status());
  }

  @Test
  void aForgottenJobIsReadAgain() {
    snapshots.read(job(id, JobStatus.SUCCEEDED, 1, null));
    snapshots.forget(id);
    assertTrue(snapshots.recent(TENANT, id).isEmpty());
  }
}
