package io.retina.platform.webhooks;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends due webhook deliveries from the store's outbox. Every node that runs one takes part: each
 * claims due deliveries under a lease, so a delivery is sent by one node at a time, and one whose
 * node died is sent again by another once the lease runs out (at least once, never lost). Each
 * attempt is recorded; a failed one is retried with exponential backoff and jitter until the retry
 * period ends. Requests follow no redirects (a redirect could lead to an address that was never
 * checked), and the URL's addresses are checked again before each attempt.
 */
public final class WebhookSender implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(WebhookSender.class);

  private final WebhookStore store;
  private final WebhookSettings settings;
  private final String node;
  private final HttpClient http;
  private final ScheduledExecutorService poller;
  private final ExecutorService senders;
  private final Semaphore slots;
  private final Counter delivered;
  private final Counter failed;

  public WebhookSender(
      WebhookStore store, WebhookSettings settings, String node, MeterRegistry metrics) {
    this.store = store;
    this.settings = settings;
    this.node = node;
    this.senders =
        Executors.newFixedThreadPool(
            settings.senders(),
            r -> {
              Thread t = new Thread(r, "retina-webhook-sender");
              t.setDaemon(true);
              return t;
            });
    this.http =
        HttpClient.newBuilder()
            .connectTimeout(settings.requestTimeout())
            .followRedirects(HttpClient.Redirect.NEVER)
            .executor(senders)
            .build();
    this.poller =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "retina-webhook-poller");
              t.setDaemon(true);
              return t;
            });
    this.slots = new Semaphore(settings.senders());
    var attempts =
        Counter.builder("retina.webhook.attempts")
            .description(
                "Webhook deliveries this node tried to send, by outcome (delivered, failed: the"
                    + " receiver answered with an error or not at all).")
            .withRegistry(metrics);
    this.delivered = attempts.withTags("outcome", "delivered");
    this.failed = attempts.withTags("outcome", "failed");
  }

  /** Starts looking for due deliveries every poll interval. */
  public WebhookSender start() {
    long every = settings.pollInterval().toMillis();
    poller.scheduleWithFixedDelay(this::pollSafely, every, every, TimeUnit.MILLISECONDS);
    return this;
  }

  private void pollSafely() {
    try {
      poll();
    } catch (RuntimeException e) {
      log.warn("could not look for due webhook deliveries: {}", e.toString());
    }
  }

  /** Claims as many due deliveries as there are free senders, and sends each on one. */
  void poll() {
    int free = slots.availablePermits();
    if (free == 0) {
      return;
    }
    List<WebhookStore.Due> due = store.claim(node, settings.lease(), free);
    for (WebhookStore.Due d : due) {
      slots.acquireUninterruptibly();
      senders.execute(
          () -> {
            try {
              sendAndRecord(d);
            } catch (RuntimeException e) {
              // the lease runs out and the delivery is sent again
              log.warn("could not record webhook delivery {}: {}", d.delivery().id(), e.toString());
            } finally {
              slots.release();
            }
          });
    }
  }

  private void sendAndRecord(WebhookStore.Due due) {
    WebhookStore.Outcome outcome = send(due);
    Instant retryAt = null;
    if (!outcome.delivered()) {
      Instant next =
          Instant.now()
              .plus(
                  settings.backoff(
                      due.delivery().attempts(), ThreadLocalRandom.current().nextDouble()));
      if (next.isBefore(due.windowStart().plus(settings.retryPeriod()))) {
        retryAt = next;
      }
    }
    (outcome.delivered() ? delivered : failed).increment();
    store
        .finish(due, node, outcome, retryAt, settings.disableAfter())
        .ifPresent(
            endpoint ->
                log.warn(
                    "disabled webhook endpoint {} of tenant {}: every delivery failed for {}",
                    endpoint,
                    due.delivery().tenantId(),
                    settings.disableAfter()));
  }

  /** One attempt: the URL checked again, the request signed and sent, the answer's start kept. */
  WebhookStore.Outcome send(WebhookStore.Due due) {
    WebhookStore.Delivery d = due.delivery();
    Instant started = Instant.now();
    long t0 = System.nanoTime();
    URI uri;
    try {
      uri = WebhookTargets.parse(d.url(), settings.policy());
      WebhookTargets.addresses(uri, settings.policy());
    } catch (WebhookTargets.Refused e) {
      return new WebhookStore.Outcome(started, 0, null, null, e.getMessage());
    }
    if (due.secrets().isEmpty()) {
      return new WebhookStore.Outcome(started, 0, null, null, "no secret to sign with");
    }
    long timestamp = started.getEpochSecond();
    String id = d.id().toString();
    HttpRequest request =
        HttpRequest.newBuilder(uri)
            .timeout(settings.requestTimeout())
            .header("Content-Type", "application/json")
            .header("User-Agent", "Retina-Webhooks/1")
            .header("webhook-id", id)
            .header("webhook-timestamp", Long.toString(timestamp))
            .header(
                "webhook-signature",
                WebhookSignature.header(due.secrets(), id, timestamp, d.body()))
            .POST(HttpRequest.BodyPublishers.ofString(d.body(), StandardCharsets.UTF_8))
            .build();
    try {
      HttpResponse<InputStream> response =
          http.send(request, HttpResponse.BodyHandlers.ofInputStream());
      String excerpt;
      try (InputStream body = response.body()) {
        byte[] head = body.readNBytes(WebhookStore.EXCERPT_CHARS);
        excerpt = new String(head, StandardCharsets.UTF_8).replace("\u0000", "");
      }
      return new WebhookStore.Outcome(
          started, millisSince(t0), response.statusCode(), excerpt, null);
    } catch (HttpTimeoutException e) {
      return new WebhookStore.Outcome(
          started,
          millisSince(t0),
          null,
          null,
          "no answer within " + settings.requestTimeout().toSeconds() + " s");
    } catch (IOException e) {
      return new WebhookStore.Outcome(
          started, millisSince(t0), null, null, "could not send: " + describe(e));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new WebhookStore.Outcome(started, millisSince(t0), null, null, "interrupted");
    }
  }

  private static String describe(IOException e) {
    String m = e.getMessage();
    if (m == null || m.isBlank()) {
      m =
          e.getCause() != null && e.getCause().getMessage() != null
              ? e.getCause().getMessage()
              : e.getClass().getSimpleName();
    }
    return m.length() > 200 ? m.substring(0, 200) : m;
  }

  private static long millisSince(long t0) {
    return Duration.ofNanos(System.nanoTime() - t0).toMillis();
  }

  @Override
  public void close() {
    poller.shutdownNow();
    senders.shutdownNow();
  }
}
