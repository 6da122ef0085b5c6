package io.retina.workers.runners;

import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * A model runner's queue of job ids, fair across tenants: each tenant has its own FIFO, and the
 * next job is taken from the tenants by smooth weighted round-robin (weights from their plans), so
 * a tenant flooding a model gets its share and no more while others wait. Ids are unique: a
 * repeated hint is ignored. Not thread-safe: owned by one actor.
 */
final class FairQueue {
  private static final class Lane {
    final ArrayDeque<UUID> jobs = new ArrayDeque<>();
    int weight;
    long current;

    Lane(int weight) {
      this.weight = weight;
    }
  }

  private final Map<UUID, Lane> lanes = new LinkedHashMap<>();
  private final Set<UUID> queued = new HashSet<>();

  /** Adds a job at the back of its tenant's lane; false if it is queued already. */
  boolean add(UUID jobId, UUID tenantId, int weight) {
    if (!queued.add(jobId)) {
      return false;
    }
    Lane lane = lanes.computeIfAbsent(tenantId, t -> new Lane(Math.max(1, weight)));
    lane.weight = Math.max(1, weight);
    lane.jobs.addLast(jobId);
    return true;
  }

  /** Takes the next job in fair order. */
  Optional<UUID> poll() {
    Lane chosen = pick(lanes);
    if (chosen == null) {
      return Optional.empty();
    }
    UUID job = chosen.jobs.pollFirst();
    queued.remove(job);
    lanes.values().removeIf(l -> l.jobs.isEmpty());
    return Optional.of(job);
  }

  /** Smooth weighted round-robin over non-empty lanes: mutates the lanes' current credit. */
  private static Lane pick(Map<UUID, Lane> lanes) {
    Lane best = null;
    long total = 0;
    for (Lane l : lanes.values()) {
      if (l.jobs.isEmpty()) {
        continue;
      }
      l.current += l.weight;
      total += l.weight;
      if (best == null || l.current > best.current) {
        best = l;
      }
    }
    if (best != null) {
      best.current -= total;
    }
    return best;
  }

  /**
   * How many jobs would be taken before this one, if nothing else arrived; empty if it is not
   * queued. Runs the schedule on a copy, so it costs time linear in the queue.
   */
  Optional<Integer> position(UUID jobId) {
    if (!queued.contains(jobId)) {
      return Optional.empty();
    }
    Map<UUID, Lane> copy = new LinkedHashMap<>();
    lanes.forEach(
        (tenant, lane) -> {
          Lane l = new Lane(lane.weight);
          l.current = lane.current;
          l.jobs.addAll(lane.jobs);
          copy.put(tenant, l);
        });
    int ahead = 0;
    while (true) {
      Lane next = pick(copy);
      if (next == null) {
        return Optional.empty();
      }
      if (next.jobs.pollFirst().equals(jobId)) {
        return Optional.of(ahead);
      }
      ahead++;
    }
  }

  int size() {
    return queued.size();
  }

  boolean isEmpty() {
    return queued.isEmpty();
  }

  void clear() {
    lanes.clear();
    queued.clear();
  }
}
