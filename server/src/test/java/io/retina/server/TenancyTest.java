package io.retina.server;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import io.retina.api.quota.TenantGate;
import io.retina.platform.cluster.LocalEntities;
import java.awt.image.BufferedImage;
import java.net.http.HttpRequest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Many tenants sharing one platform: keys and their lifecycle, quotas enforced across API nodes,
 * metering that bills exactly the succeeded jobs, isolation, and the audit trail. Two real nodes
 * share one PostgreSQL and form one cluster.
 */
class TenancyTest {
  static TestNode node;
  static TestNode secondApi;
  static Http http;
  static Http http2;
  static final String ADMIN = TestNode.ADMIN_TOKEN;

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start(Map.of());
    secondApi =
        TestNode.start(
            Map.of(
                "retina.store.url",
                node.storeUrl,
                "retina.node.roles",
                "api",
                "retina.node.seed-nodes",
                node.clusterAddress()));
    http = new Http(node.base);
    http2 = new Http(secondApi.base);
  }

  @AfterAll
  static void stop() throws Exception {
    secondApi.close();
    node.close();
  }

  record Tenant(String id, String key) {}

  static Tenant tenant(String prefix, String quotaJson) {
    Http.Reply t =
        http.postJson("/admin/tenants", ADMIN, "{\"name\":\"" + Http.uniqueName(prefix) + "\"}");
    assertEquals(201, t.status(), t.toString());
    String id = t.json().get("id").asText();
    if (quotaJson != null) {
      Http.Reply q =
          http.send(
              http.to("/admin/tenants/" + id + "/quota")
                  .header("Authorization", "Bearer " + ADMIN)
                  .header("Content-Type", "application/json")
                  .PUT(HttpRequest.BodyPublishers.ofString(quotaJson)));
      assertEquals(200, q.status(), q.toString());
    }
    Http.Reply k = http.postJson("/admin/tenants/" + id + "/keys", ADMIN, "{\"name\":\"k\"}");
    assertEquals(201, k.status(), k.toString());
    return new Tenant(id, k.json().get("secret").asText());
  }

  static Http.Reply patch(String path, String json) {
    return http.send(
        http.to(path)
            .header("Authorization", "Bearer " + ADMIN)
            .header("Content-Type", "application/json")
            .method("PATCH", HttpRequest.BodyPublishers.ofString(json)));
  }

  static int jobCount(Http h, String key) {
    return h.get("/v1/jobs?limit=100", key).json().get("jobs").size();
  }

  /**
   * A node asks a tenant's gate that lives on it straight, not through sharding. A gate that
   * stopped as it was asked (its entry not yet gone) never answers; the node then asks through
   * sharding, and the submission is admitted instead of refused.
   */
  @Test
  void aSubmissionWhoseGateStoppedAsItWasAskedIsAdmittedThroughSharding() throws Exception {
    Tenant t = tenant("stopped-gate", null);
    var system = node.node.system();
    ActorRef<TenantGate.Command> stopped =
        system.systemActorOf(
            Behaviors.<TenantGate.Command>stopped(), "stopped-gate-" + t.id(), Props.empty());
    LocalEntities here = LocalEntities.get(system);
    here.started(TenantGate.ENTITY_KEY, t.id(), stopped);
    try {
      Http.Reply r =
          http.submit(
              "model=resize&width=8&height=8",
              t.key(),
              "image/png",
              Photos.png(new BufferedImage(16, 16, BufferedImage.TYPE_INT_RGB)),
              "Prefer",
              "wait=30");
      assertEquals(200, r.status(), r.toString());
      assertEquals("succeeded", r.json().get("status").asText(), r.toString());
    } finally {
      here.stopped(TenantGate.ENTITY_KEY, t.id(), stopped);
    }
  }

  @Test
  void floodAboveRateGets429sWithHeadersAndStoresNothingWhileOthersSucceed() {
    Tenant flooder = tenant("flooder", "{\"ratePerSecond\":0.01,\"burst\":3}");
    Tenant neighbour = tenant("neighbour", null);
    byte[] png = Photos.flowerPng();
    int accepted = 0;
    Http.Reply refused = null;
    for (int i = 0; i < 10; i++) {
      Http.Reply r = http.submit("model=super-resolution", flooder.key(), "image/png", png);
      if (r.status() == 202) {
        accepted++;
        assertNotNull(r.header("RateLimit"), "RateLimit is sent on successes too");
        assertNotNull(r.header("RateLimit-Policy"));
      } else {
        JobContractTest.assertProblem(r, 429, "rate-limited");
        refused = r;
      }
      Http.Reply other = http.submit("model=super-resolution", neighbour.key(), "image/png", png);
      assertEquals(202, other.status(), "the neighbour is not slowed: " + other);
    }
    assertEquals(3, accepted);
    assertNotNull(refused);
    assertTrue(Long.parseLong(refused.header("Retry-After")) >= 1);
    assertEquals("\"burst\";q=3;w=300", refused.header("RateLimit-Policy"));
    assertTrue(
        refused.header("RateLimit").startsWith("\"burst\";r=0;t="), refused.header("RateLimit"));
    assertEquals(3, jobCount(http, flooder.key()), "refused requests stored no job");
    assertEquals(10, jobCount(http, neighbour.key()));
  }

  @Test
  void twoApiNodesTogetherNeverAdmitMoreThanTheBurst() throws Exception {
    Tenant t = tenant("two-nodes", "{\"ratePerSecond\":0.001,\"burst\":5}");
    byte[] png = Photos.flowerPng();
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<CompletableFuture<Http.Reply>> replies = new ArrayList<>();
      for (int i = 0; i < 24; i++) {
        Http h = i % 2 == 0 ? http : http2;
        replies.add(
            CompletableFuture.supplyAsync(
                () -> h.submit("model=super-resolution", t.key(), "image/png", png), pool));
      }
      int accepted = 0;
      for (var r : replies) {
        int status = r.get().status();
        assertTrue(status == 202 || status == 429, r.get().toString());
        accepted += status == 202 ? 1 : 0;
      }
      assertEquals(5, accepted);
      assertEquals(5, jobCount(http2, t.key()));
    } finally {
      pool.shutdown();
    }
  }

  @Test
  void concurrentJobCapRefusesWith429AndTheQuotaEndpointShowsIt() {
    Tenant t = tenant("capped", "{\"maxConcurrentJobs\":2}");
    byte[] big = JobContractTest.shrink(Photos.peopleJpeg(6), 480);
    List<Integer> statuses = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      Http.Reply r = http.submit("model=super-resolution&scale=4", t.key(), "image/png", big);
      statuses.add(r.status());
      if (r.status() == 429) {
        JobContractTest.assertProblem(r, 429, "concurrency-limit");
        assertNotNull(r.header("Retry-After"));
      }
    }
    assertEquals(List.of(202, 202, 429, 429), statuses);
    JsonNode quota = http.get("/v1/quota", t.key()).json();
    assertEquals(2, quota.at("/concurrentJobs/limit").asInt());
    assertEquals("standard", quota.get("plan").asText());
    assertTrue(quota.at("/rate/remaining").asInt() >= 0);
    assertTrue(quota.at("/monthlySpend/capMicros").asLong() > 0);
  }

  @Test
  void tenantImageSizeLimitIsItsOwn() {
    Tenant t = tenant("small-images", "{\"maxPixels\":10000}");
    Http.Reply r = http.submit("model=super-resolution", t.key(), "image/png", Photos.flowerPng());
    JobContractTest.assertProblem(r, 413, "image-too-large");
  }

  @Test
  void suspendingOrDeletingATenantStopsItsKeysAtOnceOnEveryNode() {
    Tenant t = tenant("suspended", null);
    assertEquals(200, http2.get("/v1/jobs", t.key()).status());
    assertEquals(200, patch("/admin/tenants/" + t.id(), "{\"status\":\"suspended\"}").status());
    JobContractTest.assertProblem(http.get("/v1/jobs", t.key()), 401, "unauthorized");
    JobContractTest.assertProblem(http2.get("/v1/jobs", t.key()), 401, "unauthorized");
    assertEquals(200, patch("/admin/tenants/" + t.id(), "{\"status\":\"active\"}").status());
    assertEquals(200, http2.get("/v1/jobs", t.key()).status());
    assertEquals(204, http.delete("/admin/tenants/" + t.id(), ADMIN).status());
    JobContractTest.assertProblem(http2.get("/v1/jobs", t.key()), 401, "unauthorized");
    assertEquals(
        "deleted", http.get("/admin/tenants/" + t.id(), ADMIN).json().get("status").asText());
  }

  @Test
  void rotatingAKeyGivesANewSecretAndRevokesTheOld() {
    Tenant t = tenant("rotate", null);
    String keyId =
        http.get("/admin/tenants/" + t.id() + "/keys", ADMIN).json().get(0).get("id").asText();
    Http.Reply rotated =
        http.postJson("/admin/tenants/" + t.id() + "/keys/" + keyId + "/rotate", ADMIN, "{}");
    assertEquals(201, rotated.status(), rotated.toString());
    String fresh = rotated.json().get("secret").asText();
    assertNotEquals(t.key(), fresh);
    JobContractTest.assertProblem(http.get("/v1/jobs", t.key()), 401, "unauthorized");
    assertEquals(200, http.get("/v1/jobs", fresh).status());
    JsonNode keys = http.get("/admin/tenants/" + t.id() + "/keys", ADMIN).json();
    assertEquals(2, keys.size());
    assertFalse(keys.toString().contains(fresh), "a listed key never shows its secret");
    JobContractTest.assertProblem(
        http.postJson("/admin/tenants/" + t.id() + "/keys/" + keyId + "/rotate", ADMIN, "{}"),
        404,
        "key-not-found");
  }

  @Test
  void hundredConcurrentPostsWithOneIdempotencyKeyMakeOneJobAndOneLedgerRow() throws Exception {
    Tenant t = tenant("idem-flood", "{\"burst\":200,\"ratePerSecond\":100}");
    byte[] png = Photos.flowerPng();
    String k = "flood-" + UUID.randomUUID();
    ExecutorService pool = Executors.newFixedThreadPool(16);
    Set<String> ids = new HashSet<>();
    try {
      List<CompletableFuture<Http.Reply>> replies = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        Http h = i % 2 == 0 ? http : http2;
        replies.add(
            CompletableFuture.supplyAsync(
                () ->
                    h.submit(
                        "model=super-resolution", t.key(), "image/png", png, "Idempotency-Key", k),
                pool));
      }
      for (var f : replies) {
        Http.Reply r = f.get();
        if (r.status() == 409) {
          JobContractTest.assertProblem(r, 409, "idempotency-key-in-flight");
        } else {
          assertTrue(r.status() == 202 || r.status() == 200, r.toString());
          ids.add(r.json().get("id").asText());
        }
      }
    } finally {
      pool.shutdown();
    }
    assertEquals(1, ids.size(), "every answer names the same job");
    assertEquals(1, jobCount(http, t.key()));
    JobContractTest.awaitFinal(http, ids.iterator().next(), t.key());
    assertEquals(1, http.get("/v1/usage", t.key()).json().at("/total/jobs").asInt());
  }

  @Test
  void ledgerBillsExactlySucceededJobsAndTheInvoiceShowsTheSameTotal() throws Exception {
    Tenant t = tenant("billing", "{\"burst\":100,\"ratePerSecond\":50}");
    byte[] flower = Photos.flowerPng();
    byte[] undecodable = Photos.pngHeaderOnly(64, 64);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 24; i++) {
      Http.Reply r =
          switch (i % 4) {
            case 0, 1 -> http.submit("model=super-resolution", t.key(), "image/png", flower);
            case 2 ->
                http.submit("model=background-removal&output=mask", t.key(), "image/png", flower);
            default -> http.submit("model=super-resolution", t.key(), "image/png", undecodable);
          };
      assertEquals(202, r.status(), r.toString());
      String id = r.json().get("id").asText();
      ids.add(id);
      if (i % 6 == 5) {
        http.delete("/v1/jobs/" + id, t.key());
      }
    }
    Map<String, long[]> prices = new java.util.HashMap<>();
    http.get("/v1/models", t.key())
        .json()
        .get("models")
        .forEach(
            m ->
                prices.put(
                    m.get("ref").asText(),
                    new long[] {
                      m.at("/price/perImageMicros").asLong(),
                      m.at("/price/perMegapixelMicros").asLong()
                    }));
    long expected = 0;
    int succeeded = 0;
    int failed = 0;
    for (String id : ids) {
      JsonNode job = JobContractTest.awaitFinal(http, id, t.key());
      switch (job.get("status").asText()) {
        case "succeeded" -> {
          succeeded++;
          long[] p = prices.get(job.get("model").asText());
          long pixels = job.at("/input/width").asLong() * job.at("/input/height").asLong();
          expected += p[0] + Math.round(p[1] * (pixels / 1_000_000.0));
        }
        case "failed" -> {
          failed++;
          assertEquals("invalid-input", job.at("/error/type").asText(), job.toString());
        }
        default -> assertEquals("canceled", job.get("status").asText());
      }
    }
    assertTrue(succeeded > 0 && failed > 0, succeeded + " succeeded, " + failed + " failed");
    JsonNode usage = http.get("/v1/usage", t.key()).json();
    assertEquals(succeeded, usage.at("/total/jobs").asInt());
    assertEquals(expected, usage.at("/total/amountMicros").asLong());
    JsonNode invoices = http.get("/admin/invoices", ADMIN).json().get("invoices");
    JsonNode mine = null;
    for (JsonNode inv : invoices) {
      if (inv.get("tenantId").asText().equals(t.id())) {
        mine = inv;
      }
    }
    assertNotNull(mine, invoices.toString());
    assertEquals(expected, mine.get("totalMicros").asLong());
    String month = usage.get("month").asText();
    Http.Reply csv = http.get("/admin/invoices/" + month + ".csv", ADMIN);
    assertEquals(200, csv.status());
    long csvTotal =
        new String(csv.body())
            .lines()
            .filter(l -> l.startsWith(t.id()))
            .mapToLong(l -> Long.parseLong(l.substring(l.lastIndexOf(',') + 1)))
            .sum();
    assertEquals(expected, csvTotal);
  }

  @Test
  void everyAdminChangeIsAudited() {
    Tenant t = tenant("audited", "{\"burst\":7}");
    patch("/admin/tenants/" + t.id(), "{\"plan\":\"free\"}");
    JsonNode entries = http.get("/admin/audit?limit=500", ADMIN).json().get("entries");
    Set<String> actions = new HashSet<>();
    entries.forEach(
        e -> {
          if (e.toString().contains(t.id())) {
            actions.add(e.get("action").asText());
            assertEquals("admin", e.get("actor").asText());
            assertFalse(e.get("at").asText().isEmpty());
          }
        });
    assertEquals(Set.of("tenant.create", "quota.set", "key.issue", "tenant.update"), actions);
  }

  @Test
  void storedRowsHoldNoApiKeyInClear() {
    Tenant t = tenant("dump", null);
    http.get("/v1/jobs", t.key());
    String secretPart = t.key().substring("rtn_live_".length(), "rtn_live_".length() + 32);
    var tx = node.node.database().tx().system();
    List<String> tables =
        tx.call(
            c -> {
              List<String> names = new ArrayList<>();
              try (var rs =
                  c.createStatement()
                      .executeQuery(
                          "select tablename from pg_tables where schemaname = 'public'")) {
                while (rs.next()) {
                  names.add(rs.getString(1));
                }
              }
              return names;
            });
    assertTrue(tables.contains("api_keys"));
    for (String table : tables) {
      if (table.equals("flyway_schema_history")) {
        continue;
      }
      String dump =
          tx.call(
              c -> {
                StringBuilder all = new StringBuilder();
                try (var rs =
                    c.createStatement().executeQuery("select t::text from " + table + " t")) {
                  while (rs.next()) {
                    all.append(rs.getString(1)).append('\n');
                  }
                }
                return all.toString();
              });
      assertFalse(dump.contains(secretPart), "table " + table + " holds a key in clear");
    }
  }
}
