package io.retina.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.retina.platform.store.Json;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Webhooks end to end: a real node sends jobs' events to a receiver on 127.0.0.1 that checks each
 * signature with its own implementation of the Standard Webhooks steps, and keeps them when the
 * receiver is down for a while. The node allows http and private addresses (as a development node
 * would) so that it may reach the receiver; which addresses a production node refuses is {@code
 * WebhookTargetsTest}'s.
 */
class WebhooksTest {
  static TestNode node;
  static Http http;
  static Receiver receiver;

  @BeforeAll
  static void start() throws Exception {
    node =
        TestNode.start(
            Map.of(
                "retina.webhooks.allow-http", true,
                "retina.webhooks.allow-private", true,
                "retina.webhooks.first-retry", "200ms",
                "retina.webhooks.max-backoff", "1s",
                "retina.webhooks.poll-interval", "100ms",
                "retina.webhooks.disable-after", "2s"));
    http = new Http(node.base);
    receiver = new Receiver(0);
  }

  @AfterAll
  static void stop() throws Exception {
    receiver.stop();
    node.close();
  }

  static byte[] png() {
    BufferedImage img = new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < 64; y++) {
      for (int x = 0; x < 64; x++) {
        img.setRGB(x, y, (x * 4) << 16 | (y * 4) << 8 | 128);
      }
    }
    return Photos.png(img);
  }

  static String secret(String key) {
    Http.Reply r = http.get("/v1/webhooks/secret", key);
    assertEquals(200, r.status(), r.toString());
    return r.json().get("secret").asText();
  }

  static String submit(String key, String query) {
    String q = "model=resize&width=32&height=32" + (query.isEmpty() ? "" : "&" + query);
    Http.Reply r = http.submit(q, key, "image/png", png());
    assertTrue(r.status() == 202 || r.status() == 200, r.toString());
    return r.json().get("id").asText();
  }

  static List<Message> await(Predicate<List<Message>> done, String what) throws Exception {
    Instant deadline = Instant.now().plusSeconds(60);
    while (Instant.now().isBefore(deadline)) {
      List<Message> got = new ArrayList<>(receiver.messages);
      if (done.test(got)) {
        return got;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("never received " + what + "; got " + receiver.messages);
  }

  static List<Message> ofJob(List<Message> all, String jobId) {
    return all.stream().filter(m -> m.json().at("/data/id").asText().equals(jobId)).toList();
  }

  static boolean completed(List<Message> ofJob) {
    return ofJob.stream().anyMatch(m -> m.type().equals("job.completed"));
  }

  @Test
  void aJobsEventsArriveSignedInOrderAndTheResultIsThere() throws Exception {
    String key = http.newTenantKey(Http.uniqueName("hooks"));
    receiver.secrets.put("/job", List.of(secret(key)));
    String job = submit(key, "webhook=" + receiver.url("/job"));

    List<Message> got = ofJob(await(all -> completed(ofJob(all, job)), "job.completed"), job);
    assertTrue(got.stream().allMatch(Message::verified), "every signature checks: " + got);
    assertEquals("job.start", got.get(0).type(), "start first: " + got);
    assertEquals("job.completed", got.get(got.size() - 1).type());
    JsonNode data = got.get(got.size() - 1).json().get("data");
    assertEquals("succeeded", data.get("status").asText());
    assertEquals("resize@1", data.get("model").asText());
    Http.Reply result = http.get(data.at("/output/url").asText(), key);
    assertEquals(200, result.status());
    assertEquals(32, Photos.decode(result.body()).getWidth());

    JsonNode deliveries = http.get("/v1/webhooks/deliveries?job=" + job, key).json();
    assertEquals(got.size(), deliveries.get("deliveries").size(), deliveries.toString());
    for (JsonNode d : deliveries.get("deliveries")) {
      assertEquals("delivered", d.get("status").asText(), d.toString());
      assertEquals(1, d.get("attemptCount").asInt());
    }
    // another tenant sees none of it
    String other = http.newTenantKey(Http.uniqueName("hooks-other"));
    assertEquals(
        0, http.get("/v1/webhooks/deliveries?job=" + job, other).json().get("deliveries").size());
    String deliveryId = deliveries.at("/deliveries/0/id").asText();
    assertEquals(404, http.get("/v1/webhooks/deliveries/" + deliveryId, other).status());
  }

  @Test
  void aReceiverThatIsDownGetsItsWebhookWhenItComesBackAndOneCanBeSentAgain() throws Exception {
    String key = http.newTenantKey(Http.uniqueName("hooks-down"));
    receiver.secrets.put("/down", List.of(secret(key)));
    receiver.failing = true; // answers 503 to everything
    String job =
        submit(key, "webhook=" + receiver.url("/down") + "&webhook_events_filter=completed");
    Instant deadline = Instant.now().plusSeconds(60);
    JsonNode delivery;
    do {
      Thread.sleep(200);
      JsonNode list = http.get("/v1/webhooks/deliveries?job=" + job, key).json();
      delivery = list.at("/deliveries/0");
    } while ((delivery.isMissingNode() || delivery.get("attemptCount").asInt() < 3)
        && Instant.now().isBefore(deadline));
    assertEquals("pending", delivery.get("status").asText(), delivery.toString());
    assertEquals(503, delivery.get("lastStatusCode").asInt());
    receiver.failing = false;

    List<Message> got = ofJob(await(all -> completed(ofJob(all, job)), "the late webhook"), job);
    assertEquals(1, got.size(), "only the filtered event: " + got);
    assertTrue(got.get(0).verified());
    String id = delivery.get("id").asText();
    assertEquals(id, got.get(0).id(), "the same webhook-id on every attempt");
    JsonNode shown = http.get("/v1/webhooks/deliveries/" + id, key).json();
    assertEquals("delivered", shown.get("status").asText(), shown.toString());
    JsonNode attempts = shown.get("attempts");
    assertTrue(attempts.size() >= 4, shown.toString());
    assertEquals(503, attempts.get(0).get("statusCode").asInt());
    assertEquals(200, attempts.get(attempts.size() - 1).get("statusCode").asInt());
    assertEquals(got.get(0).body(), shown.get("body").asText(), "the body it was signed over");

    Http.Reply again = http.postJson("/v1/webhooks/deliveries/" + id + "/redeliver", key, "");
    assertEquals(202, again.status(), again.toString());
    List<Message> twice = ofJob(await(all -> ofJob(all, job).size() == 2, "the redelivery"), job);
    assertEquals(id, twice.get(1).id());
    assertTrue(twice.get(1).verified());
  }

  @Test
  void anEndpointGetsEveryJobsEventsAndARotatedSecretSignsBesideTheNewOne() throws Exception {
    String key = http.newTenantKey(Http.uniqueName("hooks-endpoint"));
    Http.Reply created =
        http.postJson(
            "/v1/webhooks/endpoints",
            key,
            "{\"url\":\"" + receiver.url("/ep") + "\",\"events\":[\"completed\"]}");
    assertEquals(201, created.status(), created.toString());
    String endpointId = created.json().get("id").asText();
    String first = created.json().get("secret").asText();
    receiver.secrets.put("/ep", List.of(first));

    String job = submit(key, "");
    List<Message> got = ofJob(await(all -> completed(ofJob(all, job)), "the endpoint's"), job);
    assertEquals(1, got.size(), got.toString());
    assertTrue(got.get(0).verified());
    assertEquals(1, got.get(0).signatures(), "one secret, one signature");

    Http.Reply rotated =
        http.postJson(
            "/v1/webhooks/endpoints/" + endpointId + "/rotate", key, "{\"graceSeconds\":600}");
    assertEquals(200, rotated.status(), rotated.toString());
    String second = rotated.json().get("secret").asText();
    assertNotNull(rotated.json().get("previousSecretValidUntil").asText(null));
    // a receiver that still has only the old secret, and one that already has only the new one
    for (List<String> known : List.of(List.of(first), List.of(second))) {
      receiver.secrets.put("/ep", known);
      String next = submit(key, "");
      List<Message> m = ofJob(await(all -> completed(ofJob(all, next)), "after rotation"), next);
      assertTrue(m.get(0).verified(), "verifies with " + known);
      assertEquals(2, m.get(0).signatures());
    }

    // refusals are problems
    assertEquals(
        422,
        http.postJson("/v1/webhooks/endpoints", key, "{\"url\":\"ftp://example.com/\"}").status());
    assertEquals(
        422,
        http.postJson(
                "/v1/webhooks/endpoints",
                key,
                "{\"url\":\"" + receiver.url("/x") + "\",\"events\":[\"finished\"]}")
            .status());
    Http.Reply badFilter =
        http.submit(
            "model=resize&webhook=" + receiver.url("/x") + "&webhook_events_filter=finished",
            key,
            "image/png",
            png());
    assertEquals(422, badFilter.status(), badFilter.toString());
    assertEquals(
        422,
        http.submit("model=resize&webhook=ftp://example.com/", key, "image/png", png()).status());
    String other = http.newTenantKey(Http.uniqueName("hooks-stranger"));
    assertEquals(404, http.get("/v1/webhooks/endpoints/" + endpointId, other).status());
    assertEquals(404, http.delete("/v1/webhooks/endpoints/" + endpointId, other).status());
    assertEquals(204, http.delete("/v1/webhooks/endpoints/" + endpointId, key).status());
    assertEquals(0, http.get("/v1/webhooks/endpoints", key).json().get("endpoints").size());
  }

  @Test
  void anEndpointThatKeepsFailingIsDisabledForTheAdminToSeeAndTheTenantTurnsItBackOn()
      throws Exception {
    Http.TenantKey tenant = http.newTenant(Http.uniqueName("hooks-broken"));
    receiver.failingPaths.add("/broken");
    Http.Reply created =
        http.postJson(
            "/v1/webhooks/endpoints",
            tenant.key(),
            "{\"url\":\"" + receiver.url("/broken") + "\",\"events\":[\"completed\"]}");
    String endpointId = created.json().get("id").asText();
    submit(tenant.key(), "");
    // failing for longer than disable-after (2 s here): disabled at the next failure
    Instant deadline = Instant.now().plusSeconds(60);
    JsonNode endpoint;
    do {
      Thread.sleep(200);
      endpoint = http.get("/v1/webhooks/endpoints/" + endpointId, tenant.key()).json();
    } while (endpoint.get("enabled").asBoolean() && Instant.now().isBefore(deadline));
    assertEquals(false, endpoint.get("enabled").asBoolean(), endpoint.toString());
    assertTrue(endpoint.get("disabledReason").asText().contains("HTTP 503"), endpoint.toString());

    JsonNode all = http.get("/admin/webhook-endpoints", TestNode.ADMIN_TOKEN).json();
    JsonNode seen = null;
    for (JsonNode e : all.get("endpoints")) {
      if (e.get("id").asText().equals(endpointId)) {
        seen = e;
      }
    }
    assertNotNull(seen, all.toString());
    assertEquals(tenant.id(), seen.get("tenantId").asText());
    assertEquals(false, seen.get("enabled").asBoolean());
    JsonNode audit = http.get("/admin/audit?limit=50", TestNode.ADMIN_TOKEN).json();
    assertTrue(
        audit.toString().contains("disable-webhook-endpoint")
            && audit.toString().contains(endpointId),
        audit.toString());

    receiver.failingPaths.remove("/broken");
    Http.Reply enabled =
        http.postJson("/v1/webhooks/endpoints/" + endpointId + "/enable", tenant.key(), "");
    assertEquals(200, enabled.status(), enabled.toString());
    assertTrue(enabled.json().get("enabled").asBoolean());
  }

  /** One webhook as received: its headers, its body, and whether a known secret signed it. */
  record Message(
      String id, String type, String body, JsonNode json, boolean verified, int signatures) {}

  /**
   * A receiver on 127.0.0.1 that verifies each message as the Standard Webhooks specification says,
   * written apart from the platform's signer: the key is the base64 after {@code whsec_}; the
   * signed content is {@code id.timestamp.body}; the header holds space-separated {@code v1,<base64
   * HMAC-SHA256>} entries, any of which may match; the timestamp must be within five minutes.
   */
  static final class Receiver {
    final List<Message> messages = new CopyOnWriteArrayList<>();
    final Map<String, List<String>> secrets = new java.util.concurrent.ConcurrentHashMap<>();
    volatile boolean failing;
    final java.util.Set<String> failingPaths = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final HttpServer server;

    Receiver(int port) throws IOException {
      server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
      server.createContext("/", this::handle);
      server.start();
    }

    String url(String path) {
      return "http://127.0.0.1:" + server.getAddress().getPort() + path;
    }

    void stop() {
      server.stop(0);
    }

    private void handle(HttpExchange exchange) throws IOException {
      byte[] raw = exchange.getRequestBody().readAllBytes();
      if (failing || failingPaths.contains(exchange.getRequestURI().getPath())) {
        reply(exchange, 503, "down for maintenance");
        return;
      }
      String body = new String(raw, StandardCharsets.UTF_8);
      String id = exchange.getRequestHeaders().getFirst("webhook-id");
      String ts = exchange.getRequestHeaders().getFirst("webhook-timestamp");
      String sig = exchange.getRequestHeaders().getFirst("webhook-signature");
      boolean ok = false;
      int count = 0;
      try {
        long timestamp = Long.parseLong(ts);
        boolean fresh = Math.abs(Instant.now().getEpochSecond() - timestamp) <= 300;
        String[] given = sig.split(" ");
        count = given.length;
        for (String secret : secrets.getOrDefault(exchange.getRequestURI().getPath(), List.of())) {
          byte[] key = Base64.getDecoder().decode(secret.substring("whsec_".length()));
          Mac mac = Mac.getInstance("HmacSHA256");
          mac.init(new SecretKeySpec(key, "HmacSHA256"));
          byte[] expected =
              mac.doFinal((id + "." + ts + "." + body).getBytes(StandardCharsets.UTF_8));
          for (String g : given) {
            int comma = g.indexOf(',');
            if (comma > 0
                && g.substring(0, comma).equals("v1")
                && MessageDigest.isEqual(
                    expected, Base64.getDecoder().decode(g.substring(comma + 1)))) {
              ok = fresh;
            }
          }
        }
        JsonNode json = Json.MAPPER.readTree(body);
        messages.add(new Message(id, json.get("type").asText(), body, json, ok, count));
      } catch (Exception e) {
        messages.add(new Message(id, "unreadable: " + e, body, null, false, count));
      }
      reply(exchange, ok ? 200 : 400, ok ? "thanks" : "bad signature");
    }

    private static void reply(HttpExchange exchange, int status, String text) throws IOException {
      byte[] out = text.getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(status, out.length);
      exchange.getResponseBody().write(out);
      exchange.close();
    }
  }
}
