package io.retina.workers.budget;

import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/**
 * How much more work a job (or a batch of jobs run together) may do: until its deadline, and only
 * while it is still wanted. The runner binds a budget to the thread that runs the job; decoding and
 * model runs on that thread ask it as they go and stop with {@link WorkStoppedException} once it is
 * spent, so that a canceled or expired job frees its worker within about a second. Work on a thread
 * with no budget bound (warm-up, tests) is unbounded.
 *
 * <p>Whether the job is still wanted is asked of {@code stillWanted} (a look at the store) at most
 * once per poll interval, on the working thread; the answer "no" is final. Thread-safe.
 */
public final class WorkBudget {

  /** The budget of work no job bounds. */
  public static final WorkBudget UNBOUNDED = new WorkBudget(null, () -> true, Duration.ZERO);

  private static final ThreadLocal<WorkBudget> BOUND = new ThreadLocal<>();

  private final boolean hasDeadline;
  private final long deadlineNanos;
  private final BooleanSupplier stillWanted;
  private final long pollEveryNanos;
  private final AtomicLong lastPollNanos;
  private volatile WorkStoppedException.Reason stopped;

  private WorkBudget(Duration timeLeft, BooleanSupplier stillWanted, Duration pollEvery) {
    long now = System.nanoTime();
    this.hasDeadline = timeLeft != null;
    this.deadlineNanos = timeLeft == null ? 0 : now + timeLeft.toNanos();
    this.stillWanted = stillWanted;
    this.pollEveryNanos = pollEvery.toNanos();
    this.lastPollNanos = new AtomicLong(now);
  }

  /**
   * A budget that ends {@code timeLeft} from now (never, when null), or as soon as {@code
   * stillWanted}, asked at most every {@code pollEvery}, says no.
   */
  public static WorkBudget of(Duration timeLeft, BooleanSupplier stillWanted, Duration pollEvery) {
    return new WorkBudget(timeLeft, stillWanted, pollEvery);
  }

  /**
   * The budget of several jobs run together: it lasts to the latest of their deadlines and while
   * any of them is still wanted, so that one job's cancel does not stop the others. Each job's own
   * budget still says whether that job may commit.
   */
  public static WorkBudget ofAll(List<WorkBudget> parts) {
    if (parts.size() == 1) {
      return parts.get(0);
    }
    Duration latest = Duration.ZERO;
    for (WorkBudget part : parts) {
      OptionalLong left = part.millisLeft();
      if (left.isEmpty()) {
        latest = null;
        break;
      }
      latest =
          latest.compareTo(Duration.ofMillis(left.getAsLong())) >= 0
              ? latest
              : Duration.ofMillis(left.getAsLong());
    }
    return new WorkBudget(
        latest, () -> parts.stream().anyMatch(p -> p.spent() == null), Duration.ZERO);
  }

  /** The budget bound to this thread, or {@link #UNBOUNDED}. */
  public static WorkBudget current() {
    WorkBudget b = BOUND.get();
    return b == null ? UNBOUNDED : b;
  }

  /** Binds this budget to the calling thread until the returned binding is closed. */
  public Binding bind() {
    return bind(BOUND, this);
  }

  /** Sets {@code local} to {@code value} until the binding is closed, then to what it was. */
  static <T> Binding bind(ThreadLocal<T> local, T value) {
    T previous = local.get();
    local.set(value);
    return () -> {
      if (previous == null) {
        local.remove();
      } else {
        local.set(previous);
      }
    };
  }

  /** Undoes {@link #bind()}. */
  @FunctionalInterface
  public interface Binding extends AutoCloseable {
    @Override
    void close();
  }

  /** Why the budget is spent, or null while work may go on. Cheap: call it as often as needed. */
  public WorkStoppedException.Reason spent() {
    if (stopped != null || this == UNBOUNDED) {
      return stopped;
    }
    long now = System.nanoTime();
    if (hasDeadline && now - deadlineNanos >= 0) {
      stopped = WorkStoppedException.Reason.DEADLINE_EXCEEDED;
    } else {
      long last = lastPollNanos.get();
      if (now - last >= pollEveryNanos
          && lastPollNanos.compareAndSet(last, now)
          && !stillWanted.getAsBoolean()) {
        stopped = WorkStoppedException.Reason.CANCELED;
      }
    }
    return stopped;
  }

  /** Throws if the budget is spent; call between steps of work. */
  public void check() throws WorkStoppedException {
    WorkStoppedException.Reason why = spent();
    if (why != null) {
      throw new WorkStoppedException(why);
    }
  }

  /** Milliseconds until the deadline (at least 1 while it has not passed), if there is one. */
  public OptionalLong millisLeft() {
    if (!hasDeadline) {
      return OptionalLong.empty();
    }
    long nanos = deadlineNanos - System.nanoTime();
    return OptionalLong.of(Math.max(1, (nanos + 999_999) / 1_000_000));
  }
}
