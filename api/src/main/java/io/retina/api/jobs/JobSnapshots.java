package io.retina.api.jobs;

import io.retina.platform.jobs.Job;
import io.retina.platform.jobs.JobStatus;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What this node last knew of each recent job: read from the store, or announced by a worker on the
 * job-events topic (a start, progress, the finish). A poll of a job the node heard of within {@link
 * #TRUSTED} is answered from here, without the store; so pollers of an unchanged job cost the store
 * one read per job per {@code TRUSTED}, however many they are and however often they ask. An
 * announcement can be lost; then a poll's answer is at most {@code TRUSTED} late. Bounded: past
 * {@link #CAPACITY} jobs it starts again empty. Thread-safe.
 */
public final class JobSnapshots {
  static final Duration TRUSTED = Duration.ofSeconds(10);
  static final int CAPACITY = 20_000;

  private record Snapshot(Job job, long seenAt) {}

  private final ConcurrentHashMap<UUID, Snapshot> jobs = new ConcurrentHashMap<>();

  /**
   * The job as the store has it now. It replaces what is known, except a final state by an
   * unfinished one: a read that began before the finish was announced is older than the
   * announcement.
   */
  void read(Job job) {
    keep(job, false);
  }

  /**
   * The job as a worker announced it. Announcements can arrive out of order (a progress report
   * after the finish), so one replaces what is known only if it is not behind it.
   */
  void announced(Job job) {
    keep(job, true);
  }

  /** Forgets a job whose state changed in a way no announcement carries (its data was deleted). */
  void forget(UUID jobId) {
    jobs.remove(jobId);
  }

  /** The tenant's job as this node knows it, if it heard of it within {@link #TRUSTED}. */
  Optional<Job> recent(UUID tenantId, UUID jobId) {
    Snapshot s = jobs.get(jobId);
    if (s == null
        || !s.job().tenantId().equals(tenantId)
        || System.nanoTime() - s.seenAt() > TRUSTED.toNanos()) {
      return Optional.empty();
    }
    return Optional.of(s.job());
  }

  private void keep(Job job, boolean announced) {
    if (jobs.size() >= CAPACITY) {
      jobs.clear();
    }
    Snapshot next = new Snapshot(job, System.nanoTime());
    jobs.merge(
        job.id(),
        next,
        (known, incoming) -> {
          boolean older =
              announced
                  ? behind(incoming.job(), known.job())
                  : known.job().status().isFinal() && !incoming.job().status().isFinal();
          return older ? known : incoming;
        });
  }

  /** Whether {@code a} is an earlier state of the job than {@code b}: attempt, status, progress. */
  static boolean behind(Job a, Job b) {
    if (a.attempts() != b.attempts()) {
      return a.attempts() < b.attempts();
    }
    int ra = rank(a.status());
    int rb = rank(b.status());
    if (ra != rb) {
      return ra < rb;
    }
    double pa = a.progress() == null ? 0 : a.progress();
    double pb = b.progress() == null ? 0 : b.progress();
    return pa < pb;
  }

  private static int rank(JobStatus status) {
    return status.isFinal() ? 2 : status == JobStatus.RUNNING ? 1 : 0;
  }
}
