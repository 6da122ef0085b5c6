package io.retina.workers.budget;

/**
 * Work for a job stopped before it finished because its {@link WorkBudget} is spent. Unchecked, so
 * that it passes through task code unchanged to the runner, which records the job's end.
 */
public final class WorkStoppedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Why the work stopped. */
  public enum Reason {
    /** The job is no longer held by this attempt: canceled, failed by the sweeper, or reclaimed. */
    CANCELED,
    /** The job's deadline passed. */
    DEADLINE_EXCEEDED
  }

  private final Reason reason;

  public WorkStoppedException(Reason reason) {
    // routine, and the reason says it all: no stack trace
    super(
        reason == Reason.CANCELED ? "the job was canceled" : "the job's deadline passed",
        null,
        false,
        false);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }
}
