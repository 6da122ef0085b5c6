package io.retina.platform.webhooks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.retina.platform.jobs.AdmissionLimits;
import io.retina.platform.jobs.Job;
import io.retina.platform.jobs.JobLeases;
import io.retina.platform.jobs.JobRepository;
import io.retina.platform.jobs.JobSubmissions;
import io.retina.platform.jobs.NewJob;
import io.retina.platform.jobs.Submission;
import io.retina.platform.models.ModelRepository;
import io.retina.platform.models.TestModels;
import io.retina.platform.store.Database;
import io.retina.platform.store.Json;
import io.retina.platform.store.TestDatabases;
import io.retina.platform.tenants.Tenant;
import io.retina.platform.tenants.TenantRepository;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The webhook outbox in a real PostgreSQL: deliveries written by the job's own state changes, in
 * order per job and receiver, claimed under a lease, retried, failed, and endpoints disabled. Each
 * test uses its own tenants, and claims only what its own jobs produced (the sender's claim sees
 * every tenant, so the tests drain what they claim and check only their own).
 */
class WebhookStoreTest {
  static Database db;
  static WebhookStore webhooks;
  static JobSubmissions submissions;
  static JobLeases leases;
  static JobRepository jobs;
  static TenantRepository tenants;
  static final Duration LEASE = Duration.ofSeconds(30);
  static final Duration NEVER = Duration.ofDays(365);

  @BeforeAll
  static void open() {
    db = TestDatabases.fresh();
    webhooks = new WebhookStore(db.tx());
    submissions = new JobSubmissions(db.tx());
    leases = new JobLeases(db.tx());
    jobs = new JobRepository(db.tx());
    tenants = new TenantRepository(db.tx());
    new ModelRepository(db.tx()).register(TestModels.echo(1), "test model");
  }

  @AfterAll
  static void close() {
    db.close();
  }

  static Job submit(Tenant t, NewJob.Webhook hook) {
    NewJob job =
        new NewJob(
            t.id(),
            "echo",
            1,
            Map.of("scale", "2"),
            "image/png",
            20,
            10,
            "sha256-x",
            new byte[] {1, 2, 3},
            3,
            null,
            hook);
    return ((Submission.Created)
            submissions.submit(job, AdmissionLimits.NONE, null, null, Duration.ofSeconds(30)))
        .job();
  }

  static WebhookStore.Outcome answered(int status) {
    return new WebhookStore.Outcome(Instant.now(), 3, status, "ok", null);
  }

  /** Claims until nothing of {@code tenant}'s is due, finishing others' deliveries as delivered. */
  static List<WebhookStore.Due> claimOwn(Tenant tenant, String owner) {
    List<WebhookStore.Due> mine = new java.util.ArrayList<>();
    for (WebhookStore.Due d : webhooks.claim(owner, LEASE, 100)) {
      if (d.delivery().tenantId().equals(tenant.id())) {
        mine.add(d);
      } else {
        webhooks.finish(d, owner, answered(200), null, NEVER);
      }
    }
    return mine;
  }

  @Test
  void aJobsStateChangesWriteItsDeliveriesInOrderWithTheJobAsItWas() throws Exception {
    Tenant t = tenants.create("hook-order");
    Job job = submit(t, new NewJob.Webhook("https://example.com/hook", Webhooks.EVENTS));
    var claim = leases.claim(job.id(), "w", LEASE).orElseThrow();
    leases.reportProgress(job.id(), claim.attempt(), 0.05); // under a tenth: no event
    leases.reportProgress(job.id(), claim.attempt(), 0.35);
    leases.reportProgress(job.id(), claim.attempt(), 0.39); // the same tenth: no event
    leases.succeed(claim, "image/png", new byte[] {9, 9}, "sha256-y", 1000);

    List<WebhookStore.Delivery> all = webhooks.deliveries(t.id(), job.id(), 10);
    assertEquals(
        List.of("completed", "progress", "start"),
        all.stream().map(WebhookStore.Delivery::event).toList(),
        "newest first");
    JsonNode completed = Json.MAPPER.readTree(all.get(0).body());
    assertEquals("job.completed", completed.get("type").asText());
    assertEquals(job.id().toString(), completed.at("/data/id").asText());
    assertEquals("succeeded", completed.at("/data/status").asText());
    assertEquals("/v1/jobs/" + job.id() + "/result", completed.at("/data/output/url").asText());
    JsonNode progress = Json.MAPPER.readTree(all.get(1).body());
    assertEquals("running", progress.at("/data/status").asText());
    assertEquals(0.35, progress.at("/data/progress").asDouble(), 1e-6);

    // one at a time per job and receiver: start first, then progress, then completed
    for (String expected : List.of("start", "progress", "completed")) {
      List<WebhookStore.Due> due = claimOwn(t, "sender");
      assertEquals(1, due.size(), "only the job's oldest pending delivery is due: " + due);
      assertEquals(expected, due.get(0).delivery().event());
      assertEquals(1, due.get(0).secrets().size(), "the tenant's signing secret, made on use");
      assertTrue(webhooks.finish(due.get(0), "sender", answered(204), null, NEVER).isEmpty());
    }
    assertTrue(claimOwn(t, "sender").isEmpty());
    assertTrue(
        webhooks.deliveries(t.id(), job.id(), 10).stream()
            .allMatch(d -> d.status().equals("delivered") && d.attempts() == 1));
  }

  @Test
  void aJobWithoutAWebhookOrEndpointsWritesNoDeliveryAndAFilterIsObeyed() {
    Tenant t = tenants.create("hook-none");
    Job plain = submit(t, null);
    var claim = leases.claim(plain.id(), "w", LEASE).orElseThrow();
    leases.succeed(claim, "image/png", new byte[] {1}, "sha256-z", 1000);
    assertTrue(webhooks.deliveries(t.id(), plain.id(), 10).isEmpty());

    Job filtered = submit(t, new NewJob.Webhook("https://example.com/done", List.of("completed")));
    var c2 = leases.claim(filtered.id(), "w", LEASE).orElseThrow();
    leases.reportProgress(filtered.id(), c2.attempt(), 0.5);
    leases.fail(c2, "invalid-input", "bad pixels");
    List<WebhookStore.Delivery> d = webhooks.deliveries(t.id(), filtered.id(), 10);
    assertEquals(1, d.size(), d.toString());
    assertEquals("completed", d.get(0).event());
    assertTrue(d.get(0).body().contains("\"invalid-input\""), d.get(0).body());
  }

  @Test
  void aDeliveryWhoseSenderDiedIsSentByAnotherAndTheFirstCannotOverwriteIt() throws Exception {
    Tenant t = tenants.create("hook-lease");
    Job job = submit(t, new NewJob.Webhook("https://example.com/x", List.of("start")));
    leases.claim(job.id(), "w", LEASE).orElseThrow();
    List<WebhookStore.Due> first =
        webhooks.claim("dead-node", Duration.ofMillis(1), 100).stream()
            .filter(d -> d.delivery().tenantId().equals(t.id()))
            .toList();
    assertEquals(1, first.size());
    Thread.sleep(20);
    List<WebhookStore.Due> second = claimOwn(t, "live-node");
    assertEquals(1, second.size(), "the lease ran out: another sender takes it");
    assertEquals(
        first.get(0).delivery().id(), second.get(0).delivery().id(), "the same webhook-id");
    assertEquals(2, second.get(0).delivery().attempts());

    // the dead sender wakes up and reports: fenced out
    assertTrue(
        webhooks.finish(first.get(0), "dead-node", answered(500), Instant.now(), NEVER).isEmpty());
    var held = webhooks.delivery(t.id(), first.get(0).delivery().id()).orElseThrow();
    assertEquals("pending", held.status());
    assertNull(held.lastStatusCode(), "the stale report changed nothing");
    webhooks.finish(second.get(0), "live-node", answered(200), null, NEVER);
    var d = webhooks.delivery(t.id(), second.get(0).delivery().id()).orElseThrow();
    assertEquals("delivered", d.status());
    assertEquals(
        List.of(2),
        webhooks.attempts(t.id(), d.id()).stream().map(WebhookStore.Attempt::attempt).toList(),
        "only the attempt that still held the lease is recorded");
  }

  @Test
  void aFailedAttemptIsRetriedLaterAndOneOutOfTimeFailsForGood() {
    Tenant t = tenants.create("hook-retry");
    Job job = submit(t, new NewJob.Webhook("https://example.com/r", List.of("start")));
    leases.claim(job.id(), "w", LEASE).orElseThrow();
    WebhookStore.Due due = claimOwn(t, "s").get(0);
    webhooks.finish(
        due,
        "s",
        new WebhookStore.Outcome(Instant.now(), 10, null, null, "connection refused"),
        Instant.now().plusSeconds(60),
        NEVER);
    var d = webhooks.delivery(t.id(), due.delivery().id()).orElseThrow();
    assertEquals("pending", d.status());
    assertEquals("connection refused", d.lastError());
    assertTrue(claimOwn(t, "s").isEmpty(), "not due before its retry time");

    webhooks.redeliver(t.id(), d.id()).orElseThrow();
    WebhookStore.Due again = claimOwn(t, "s").get(0);
    webhooks.finish(again, "s", answered(503), null, NEVER);
    d = webhooks.delivery(t.id(), d.id()).orElseThrow();
    assertEquals("failed", d.status());
    assertEquals(503, d.lastStatusCode());
    var attempts = webhooks.attempts(t.id(), d.id());
    assertEquals(2, attempts.size());
    assertNull(attempts.get(0).statusCode());
    assertEquals(503, attempts.get(1).statusCode());
  }

  @Test
  void endpointsGetTheirEventsAndOneThatKeepsFailingIsDisabledWithAnAuditEntry() {
    Tenant t = tenants.create("hook-endpoints");
    Tenant other = tenants.create("hook-other");
    var ep =
        webhooks
            .createEndpoint(t.id(), "https://example.com/ep", List.of("completed"), "ops")
            .orElseThrow();
    assertTrue(ep.secret().startsWith("whsec_"));
    assertTrue(webhooks.endpoints(other.id()).isEmpty(), "another tenant sees none");
    assertTrue(webhooks.endpoint(other.id(), ep.endpoint().id()).isEmpty());

    Job a = submit(t, null);
    Job b = submit(t, null);
    for (Job j : List.of(a, b)) {
      var claim = leases.claim(j.id(), "w", LEASE).orElseThrow();
      leases.succeed(claim, "image/png", new byte[] {1}, "sha256-q", 1000);
    }
    List<WebhookStore.Delivery> all = webhooks.deliveries(t.id(), null, 10);
    assertEquals(2, all.size(), "one completed per job, none for start: " + all);
    assertTrue(all.stream().allMatch(d -> ep.endpoint().id().equals(d.endpointId())));
    assertTrue(webhooks.deliveries(other.id(), null, 10).isEmpty());

    // rotation: both secrets sign during the grace period, the new one first
    var rotated =
        webhooks
            .rotateEndpointSecret(t.id(), ep.endpoint().id(), Duration.ofHours(1))
            .orElseThrow();
    assertNotEquals(ep.secret(), rotated.secret());
    List<WebhookStore.Due> due = claimOwn(t, "s");
    assertEquals(2, due.size(), "different jobs go at once");
    assertEquals(List.of(rotated.secret(), ep.secret()), due.get(0).secrets());

    // failing with a disable-after of zero: the first failure disables it
    Duration now = Duration.ZERO;
    var disabled =
        webhooks.finish(
            due.get(0),
            "s",
            new WebhookStore.Outcome(Instant.now(), 5, 410, "gone", null),
            Instant.now(),
            now);
    assertEquals(ep.endpoint().id(), disabled.orElseThrow());
    var endpoint = webhooks.endpoint(t.id(), ep.endpoint().id()).orElseThrow();
    assertFalse(endpoint.enabled());
    assertTrue(endpoint.disabledReason().contains("HTTP 410"), endpoint.disabledReason());
    assertTrue(
        webhooks.deliveries(t.id(), null, 10).stream().noneMatch(d -> d.status().equals("pending")),
        "its pending deliveries failed with it");
    long audits =
        db.tx()
            .system()
            .call(
                c -> {
                  try (var st =
                      c.prepareStatement(
                          "select count(*) from admin_audit where action ="
                              + " 'disable-webhook-endpoint' and target_id = ?")) {
                    st.setString(1, ep.endpoint().id().toString());
                    try (var rs = st.executeQuery()) {
                      rs.next();
                      return rs.getLong(1);
                    }
                  }
                });
    assertEquals(1, audits);
    webhooks.finish(due.get(1), "s", answered(200), null, NEVER);

    // a disabled endpoint gets nothing new until it is enabled
    Job c = submit(t, null);
    var claim = leases.claim(c.id(), "w", LEASE).orElseThrow();
    leases.succeed(claim, "image/png", new byte[] {1}, "sha256-q", 1000);
    assertTrue(webhooks.deliveries(t.id(), c.id(), 10).isEmpty());
    assertTrue(webhooks.enableEndpoint(t.id(), ep.endpoint().id()).orElseThrow().enabled());
  }

  @Test
  void aRotatedSigningSecretSignsBesideTheNewOneDuringItsGrace() {
    Tenant t = tenants.create("hook-rotate");
    String first = webhooks.signingSecret(t.id()).secret();
    assertEquals(first, webhooks.signingSecret(t.id()).secret(), "made once, then kept");
    var rotated = webhooks.rotateSigningSecret(t.id(), Duration.ofMinutes(5));
    assertNotEquals(first, rotated.secret());
    assertTrue(rotated.previousValidUntil().isAfter(Instant.now()));
    Job job = submit(t, new NewJob.Webhook("https://example.com/s", List.of("start")));
    leases.claim(job.id(), "w", LEASE).orElseThrow();
    WebhookStore.Due due = claimOwn(t, "s").get(0);
    assertEquals(List.of(rotated.secret(), first), due.secrets());
    webhooks.finish(due, "s", answered(200), null, NEVER);

    var ended = webhooks.rotateSigningSecret(t.id(), Duration.ZERO);
    assertNull(ended.previousValidUntil(), "no grace: the old secret stops at once");
  }
}
