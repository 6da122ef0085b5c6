package io.retina.platform.store;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * A short memory of hot reads on this node: what authenticating a key or admitting a job reads on
 * every request, and what changes seldom. An answer is kept for {@code ttl} and forgotten at once
 * when this JVM changes what it was read from ({@link Changes#changed()}), so a change made through
 * this node applies to its next request; another node's change applies within {@code ttl}. Only
 * found values are kept: a miss always asks the store. Bounded: past {@code capacity} entries it
 * starts again empty. Thread-safe.
 */
public final class Memo<K, V> {
  private final Duration ttl;
  private final int capacity;
  private final Changes changes;
  private final ConcurrentHashMap<K, Entry<V>> entries = new ConcurrentHashMap<>();

  public Memo(Duration ttl, int capacity, Changes changes) {
    this.ttl = ttl;
    this.capacity = capacity;
    this.changes = changes;
  }

  /** The kept value for {@code key}, if it is still fresh; never asks the store. */
  public Optional<V> kept(K key) {
    Entry<V> kept = entries.get(key);
    if (kept != null
        && kept.generation == changes.generation()
        && System.nanoTime() - kept.loadedAt < ttl.toNanos()) {
      return Optional.of(kept.value);
    }
    return Optional.empty();
  }

  /** The kept value for {@code key}, or {@code load}'s, kept when present. */
  public Optional<V> get(K key, Supplier<Optional<V>> load) {
    long now = System.nanoTime();
    long generation = changes.generation();
    Entry<V> kept = entries.get(key);
    if (kept != null && kept.generation == generation && now - kept.loadedAt < ttl.toNanos()) {
      return Optional.of(kept.value);
    }
    Optional<V> loaded = load.get();
    if (loaded.isPresent() && !ttl.isZero()) {
      if (entries.size() >= capacity) {
        entries.clear();
      }
      // the generation read before loading: a change committed during the load voids the entry
      entries.put(key, new Entry<>(loaded.get(), now, generation));
    } else {
      entries.remove(key);
    }
    return loaded;
  }

  private record Entry<V>(V value, long loadedAt, long generation) {}

  /**
   * What a set of memos was read from changed: each call voids every entry read before it. One per
   * kind of data, shared by the writers of that data in this JVM.
   */
  public static final class Changes {
    private final AtomicLong generation = new AtomicLong();

    public void changed() {
      generation.incrementAndGet();
    }

    /**
     * Runs a write in {@code tx}; once it is done, committed or not, voids what was read before.
     */
    public <T> T write(Tx tx, Tx.Work<T> work) {
      try {
        return tx.call(work);
      } finally {
        changed();
      }
    }

    /** {@link #write} for a write that gives nothing. */
    public void run(Tx tx, Tx.VoidWork work) {
      try {
        tx.run(work);
      } finally {
        changed();
      }
    }

    long generation() {
      return generation.get();
    }
  }
}
