package io.retina.workers.budget;

import java.util.ArrayDeque;

/**
 * The model runs a replica lets happen at once. A replica holds more jobs than it runs through its
 * model, so that the next job's claim and decoding, and the last one's encoding and commit, happen
 * while the model runs: the model never waits for the platform. A job's thread takes a slot just
 * before a model run and the slot is given back when that run ends, on the thread that ran it, even
 * when the job stopped waiting for it (a canceled job's run still holds the cores until it ends).
 *
 * <p>Bound to a job's thread like a {@link WorkBudget}; where none is bound (warm-up, tests), runs
 * are not limited. Slots are handed out first come, first served, and a thread that looks at its
 * budget while it waits keeps its place. Thread-safe.
 */
public final class ModelSlots {

  /** A slot taken: closing it gives it back, once. */
  @FunctionalInterface
  public interface Slot extends AutoCloseable {
    @Override
    void close();
  }

  /** What a thread with no slots bound takes: nothing to give back. */
  public static final Slot NONE = () -> {};

  private static final ThreadLocal<ModelSlots> BOUND = new ThreadLocal<>();

  /** Nanoseconds the thread has waited for slots since {@link #startCounting()}. */
  private static final ThreadLocal<long[]> WAITED = ThreadLocal.withInitial(() -> new long[1]);

  /** How often a thread waiting for a slot looks at its budget. */
  private static final long WAIT_SLICE_MS = 50;

  private final Object lock = new Object();

  /**
   * The threads waiting for a slot, in the order they asked: a wait that looks at its budget keeps
   * its place.
   */
  private final ArrayDeque<Object> line = new ArrayDeque<>();

  private int free;

  /** Whether any run has taken a slot: a task with no model (resize) never does. */
  private volatile boolean used;

  /** {@code runs} model runs at once. */
  public ModelSlots(int runs) {
    if (runs < 1) {
      throw new IllegalArgumentException("at least one model run at once, not " + runs);
    }
    this.free = runs;
  }

  /** Binds these slots to the calling thread until the returned binding is closed. */
  public WorkBudget.Binding bind() {
    return WorkBudget.bind(BOUND, this);
  }

  /** Takes a slot of the thread's bound slots, or {@link #NONE} where none are bound. */
  public static Slot takeBound(WorkBudget budget) throws WorkStoppedException {
    ModelSlots bound = BOUND.get();
    return bound == null ? NONE : bound.take(budget);
  }

  /**
   * Takes a slot, waiting as long as {@code budget} allows: a job canceled or out of time while it
   * waits stops with {@link WorkStoppedException} and takes nothing.
   */
  public Slot take(WorkBudget budget) throws WorkStoppedException {
    long start = System.nanoTime();
    Object ticket = new Object();
    boolean taken = false;
    synchronized (lock) {
      line.add(ticket);
    }
    try {
      while (true) {
        synchronized (lock) {
          taken = takeIfFirst(ticket);
          if (!taken) {
            lock.wait(WAIT_SLICE_MS);
            taken = takeIfFirst(ticket);
          }
        }
        if (taken) {
          break;
        }
        budget.check(); // outside the lock: it may ask the store
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting to run the model", e);
    } finally {
      WAITED.get()[0] += System.nanoTime() - start;
      if (!taken) {
        synchronized (lock) {
          line.remove(ticket);
          lock.notifyAll(); // the one behind may be first now
        }
      }
    }
    boolean[] given = {false};
    return () -> {
      synchronized (lock) {
        if (!given[0]) {
          given[0] = true;
          free++;
          lock.notifyAll();
        }
      }
    };
  }

  /** Takes a slot for {@code ticket} if it is first in line and one is free. Holds the lock. */
  private boolean takeIfFirst(Object ticket) {
    if (line.peekFirst() != ticket || free == 0) {
      return false;
    }
    line.pollFirst();
    free--;
    used = true;
    lock.notifyAll(); // the next in line may take another free slot
    return true;
  }

  /** Whether a model run has ever taken one of these slots. */
  public boolean used() {
    return used;
  }

  /** Starts counting this thread's wait for slots from zero. */
  public static void startCounting() {
    WAITED.get()[0] = 0;
  }

  /** Nanoseconds this thread waited for slots since {@link #startCounting()}. */
  public static long waitedNanos() {
    return WAITED.get()[0];
  }
}
