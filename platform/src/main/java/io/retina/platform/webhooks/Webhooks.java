package io.retina.platform.webhooks;

import java.util.List;

/** The events a webhook can ask for, as Replicate names them. */
public final class Webhooks {
  /** The first time a worker starts the job. */
  public static final String START = "start";

  /** Each further tenth of the job's work done. */
  public static final String PROGRESS = "progress";

  /** The job ended: succeeded, failed or canceled. */
  public static final String COMPLETED = "completed";

  /** Every event, in the order a job sends them; what a webhook gets when it names none. */
  public static final List<String> EVENTS = List.of(START, PROGRESS, COMPLETED);

  private Webhooks() {}

  /**
   * The events a filter names (comma-separated, or repeated), each once, in {@link #EVENTS}' order;
   * every event for an empty filter.
   *
   * @throws IllegalArgumentException naming an event that does not exist
   */
  public static List<String> parseEvents(String filter) {
    if (filter == null || filter.isBlank()) {
      return EVENTS;
    }
    List<String> named = new java.util.ArrayList<>();
    for (String e : filter.split(",")) {
      String t = e.trim();
      if (!EVENTS.contains(t)) {
        throw new IllegalArgumentException(
            "webhook_events_filter names events from " + EVENTS + ", not '" + t + "'");
      }
      named.add(t);
    }
    return EVENTS.stream().filter(named::contains).toList();
  }
}
