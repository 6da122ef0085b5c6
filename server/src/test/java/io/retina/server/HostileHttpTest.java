package io.retina.server;

import static io.retina.server.JobContractTest.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.retina.platform.store.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What an attacker sees of the HTTP layer: requests without a key are refused before their bodies
 * are read, bodies in flight are bounded, every error is problem+json, and every response carries
 * the browser's security headers. One node on 127.0.0.1; every socket is closed by the test.
 */
class HostileHttpTest {
  /** Small, so that two stalled uploads exhaust it without sending megabytes. */
  private static final int BODY_BUDGET = 4 << 20;

  static TestNode node;
  static Http http;
  static String key;

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start(Map.of("retina.http.max-body-bytes-in-flight", BODY_BUDGET));
    http = new Http(node.base);
    key = http.newTenantKey(Http.uniqueName("hostile"));
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
  }

  @Test
  void stalledUnauthenticatedUploadsAreRefusedBeforeTheirBodiesAreReadAndHoldNoHeap()
      throws Exception {
    long before = heapUsedAfterGc();
    List<Socket> sockets = new ArrayList<>();
    try {
      for (int i = 0; i < 100; i++) {
        // 44 MB announced, 4 KB sent, then nothing: the old node waited for the rest, holding it
        sockets.add(
            send(
                "POST /v1/jobs?model=super-resolution HTTP/1.1\r\n"
                    + "Host: 127.0.0.1\r\nContent-Type: image/png\r\n"
                    + "Content-Length: 44000000\r\n\r\n",
                new byte[4096]));
      }
      for (Socket s : sockets) {
        Response r = read(s);
        assertEquals(401, r.status(), r.toString());
        assertTrue(r.contentType().startsWith("application/problem+json"), r.toString());
        assertEquals("/problems/unauthorized", r.json().get("type").asText());
      }
      long grown = heapUsedAfterGc() - before;
      assertTrue(grown < 8 << 20, "heap grew by " + grown + " bytes with 100 stalled uploads");
    } finally {
      closeAll(sockets);
    }
    assertEquals(200, http.send(http.to("/health/ready").GET()).status(), "the node stays ready");
  }

  @Test
  void anAdminUploadWithoutTheTokenIsRefusedBeforeItsBodyIsSent() throws Exception {
    try (Socket s =
        send(
            "POST /admin/models/super-resolution/versions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Content-Type: application/zip\r\nContent-Length: 150000000\r\n\r\n",
            new byte[4096])) {
      Response r = read(s);
      assertEquals(401, r.status(), r.toString());
      assertEquals("/problems/unauthorized", r.json().get("type").asText());
      assertEquals("close", r.header("connection"), "the rest of the body is never read");
    }
  }

  @Test
  void anUploadThatWouldExceedTheBodiesInFlightIsToldToRetryAndTheNextOneIsServed()
      throws Exception {
    Socket stalled =
        send(
            "POST /v1/jobs?model=super-resolution HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Authorization: Bearer "
                + key
                + "\r\nContent-Type: image/png\r\nContent-Length: "
                + (3 << 20)
                + "\r\n\r\n",
            new byte[4096]);
    try {
      awaitBodiesInFlight(3 << 20);
      Socket second =
          send(
              "POST /v1/jobs?model=super-resolution HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  + "Authorization: Bearer "
                  + key
                  + "\r\nContent-Type: image/png\r\nContent-Length: "
                  + (2 << 20)
                  + "\r\n\r\n",
              new byte[0]);
      try {
        Response busy = read(second);
        assertEquals(503, busy.status(), busy.toString());
        assertEquals("/problems/server-busy", busy.json().get("type").asText());
        assertTrue(Integer.parseInt(busy.header("retry-after")) > 0, busy.toString());
      } finally {
        second.close();
      }
    } finally {
      stalled.close();
    }
    awaitBodiesInFlight(0);
    byte[] photo = JobContractTest.shrink(Photos.flowerPng(), 32);
    Http.Reply served = http.submit("model=super-resolution&scale=2", key, "image/png", photo);
    assertTrue(served.status() == 200 || served.status() == 202, served.toString());
  }

  @Test
  void aTenantsBodyOverTheLimitIsAnswered413AfterItIsSentNotWithAReset() throws Exception {
    // one byte over the default max-body-bytes, and over a training's dataset limit (both 50 MiB)
    byte[] body = new byte[(50 << 20) + 1];
    for (String target :
        List.of(
            "/v1/jobs?model=super-resolution\r\nContent-Type: image/png",
            "/v1/trainings?model=mine\r\nContent-Type: application/zip")) {
      String head =
          "POST "
              + target.replace("\r\n", " HTTP/1.1\r\nHost: 127.0.0.1\r\n")
              + "\r\nAuthorization: Bearer "
              + key
              + "\r\nContent-Length: "
              + body.length
              + "\r\n";
      // a client that sends the whole body before it reads: the node that answered from the
      // headers and closed reset the connection under it, and the client never saw the 413
      try (Socket s = send(head + "\r\n", new byte[0])) {
        Thread.sleep(500);
        s.getOutputStream().write(body);
        s.getOutputStream().flush();
        Response r = read(s);
        assertEquals(413, r.status(), target + " -> " + r);
        assertEquals("/problems/payload-too-large", r.json().get("type").asText());
      }
      // a client that waits for leave to send hears the refusal instead of 100 Continue
      try (Socket s = send(head + "Expect: 100-continue\r\n\r\n", new byte[0])) {
        Response r = read(s);
        assertEquals(413, r.status(), target + " -> " + r);
        assertEquals("/problems/payload-too-large", r.json().get("type").asText());
      }
    }
  }

  @Test
  void requestsRefusedBeforeRoutingAreProblemsToo() throws Exception {
    Map<String, String> requests = new LinkedHashMap<>();
    requests.put(
        "GET /v1/jobs?x=" + "a".repeat(3000) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", "414");
    requests.put(
        "GET /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Junk: " + "a".repeat(10_000) + "\r\n\r\n",
        "431");
    requests.put("BREW /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", "501");
    requests.put(
        "POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: gzip\r\n\r\n", "400");
    requests.put(
        "POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: twelve\r\n\r\n", "400");
    requests.put(
        "POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 999999999999\r\n\r\n", "413");
    for (var request : requests.entrySet()) {
      Response r;
      try (Socket s = send(request.getKey(), new byte[0])) {
        r = read(s);
      }
      String what = request.getKey().substring(0, Math.min(40, request.getKey().length()));
      assertEquals(Integer.parseInt(request.getValue()), r.status(), what + " -> " + r);
      assertTrue(r.contentType().startsWith("application/problem+json"), what + " -> " + r);
      assertTrue(r.json().get("type").asText().startsWith("/problems/"), what + " -> " + r);
      assertNull(r.header("server"), "no Server header: " + r);
      assertEquals("nosniff", r.header("x-content-type-options"), what + " -> " + r);
    }
  }

  @Test
  void inputsThatOnceGaveServerErrorsAreRefusedWithTheirProblem() throws Exception {
    String farFuture =
        Base64.getUrlEncoder()
            .withoutPadding()
            .encodeToString(
                ("99999999999999999.0." + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8));
    assertProblem(http.get("/v1/jobs?cursor=" + farFuture, key), 400, "bad-cursor");
    assertProblem(http.get("/v1/usage?month=%2B999999999-01", key), 400, "bad-month");
    assertProblem(
        http.get("/admin/invoices?month=%2B999999999-01", TestNode.ADMIN_TOKEN), 400, "bad-month");
    assertProblem(
        http.postJson("/admin/tenants", TestNode.ADMIN_TOKEN, "{\"name\":\"nul\\u0000name\"}"),
        400,
        "invalid-character");
    assertProblem(
        http.send(
            http.to("/admin/models/nul%00model/versions?task=super-resolution&description=x")
                .header("Authorization", "Bearer " + TestNode.ADMIN_TOKEN)
                .header("Content-Type", "application/zip")
                .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[] {'P', 'K'}))),
        400,
        "invalid-character");
    assertProblem(
        http.send(
            http.to("/admin/models/super-resolution/versions?description=a%00b")
                .header("Authorization", "Bearer " + TestNode.ADMIN_TOKEN)
                .header("Content-Type", "application/zip")
                .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[] {'P', 'K'}))),
        400,
        "invalid-character");
    assertProblem(
        http.submit("model=super-resolution", key, "multipart/form-data", new byte[] {'x'}),
        400,
        "bad-form");
  }

  @Test
  void everyResponseTellsBrowsersNotToFrameSniffOrRunAnythingElse() {
    Http.Reply console = http.send(http.to("/console/").GET());
    assertEquals(200, console.status());
    String policy = console.header("Content-Security-Policy");
    assertTrue(policy.contains("default-src 'self'"), policy);
    assertTrue(policy.contains("frame-ancestors 'none'"), policy);
    for (Http.Reply r :
        List.of(
            console,
            http.send(http.to("/console/app.js").GET()),
            http.send(http.to("/v1/jobs").GET()),
            http.get("/v1/models", key))) {
      assertEquals("DENY", r.header("X-Frame-Options"), r.toString());
      assertEquals("nosniff", r.header("X-Content-Type-Options"), r.toString());
      assertTrue(r.header("Content-Security-Policy") != null, r.toString());
      assertNull(r.header("Server"), r.toString());
    }
    String apiPolicy = http.get("/v1/models", key).header("Content-Security-Policy");
    assertTrue(apiPolicy.startsWith("default-src 'none'"), apiPolicy);
  }

  @Test
  void aKeyWithJunkAfterItIsRefusedAsAnyWrongKey() {
    for (String junk : List.of(",", " x", ",x=y", "\"")) {
      Http.Reply r =
          http.send(http.to("/v1/jobs").header("Authorization", "Bearer " + key + junk).GET());
      assertProblem(r, 401, "unauthorized");
    }
    assertEquals(200, http.get("/v1/jobs", key).status(), "the key itself still works");
  }

  @Test
  void hostileHeadersLeaveNoKeyOrTokenInTheNodesLog() throws Exception {
    Path dataDir = Files.createTempDirectory("retina-hostile-log");
    int port = NodeProcess.freePort();
    Map<String, String> env =
        Map.of(
            "RETINA_DATA_DIR",
            dataDir.toString(),
            "RETINA_ADMIN_TOKEN",
            TestNode.ADMIN_TOKEN,
            "RETINA_DEMO_TENANT",
            "true",
            "RETINA_CLUSTER_PORT",
            Integer.toString(NodeProcess.freePort()));
    // the production logging (Pekko at INFO), not the quieter test configuration
    String logback = Path.of(HostileHttpTest.class.getResource("/logback.xml").toURI()).toString();
    try (NodeProcess process =
        NodeProcess.start(env, port, List.of("-Dlogback.configurationFile=" + logback))) {
      process.awaitReady(Duration.ofSeconds(120));
      Matcher shown = Pattern.compile("API key \\(shown once\\): (\\S+)").matcher(process.log());
      assertTrue(shown.find(), "the first start prints the demo key");
      String demo = shown.group(1);
      String issued = new Http(process.base).newTenantKey("log-scan");
      List<String> secrets = List.of(demo, issued, TestNode.ADMIN_TOKEN);
      for (String secret : secrets) {
        List<String> headers = new ArrayList<>();
        for (String junk : List.of(",", " x", ",x=y", "\"", " ,,", "\u0007")) {
          headers.add("Authorization: Bearer " + secret + junk);
          headers.add("Authorization: " + secret + junk);
          headers.add("Authorization: Basic " + secret + junk);
          headers.add("Proxy-Authorization: Bearer " + secret + junk);
        }
        headers.add("Authorization: Bearer " + secret + "a".repeat(9000));
        headers.add("X-Api-Key: " + secret + ";" + "b".repeat(9000));
        for (String header : headers) {
          for (String target : List.of("GET /v1/jobs", "GET /admin/tenants")) {
            try (Socket s =
                send(
                    port,
                    target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + header + "\r\n\r\n",
                    new byte[0])) {
              int status = read(s).status();
              assertTrue(status == 400 || status == 401 || status == 431, header + ": " + status);
            }
          }
        }
      }
      Thread.sleep(1000); // what the node logged about the last requests reaches its file
      String log = process.log();
      assertTrue(log.contains("Retina is up"), "this is the node's log");
      assertEquals(1, occurrences(log, demo), "the demo key is printed once, at first start");
      assertEquals(0, occurrences(log, issued), "an issued key is never logged");
      assertEquals(0, occurrences(log, TestNode.ADMIN_TOKEN), "the admin token is never logged");
    }
  }

  // ---- helpers ----

  private static int occurrences(String text, String secret) {
    int n = 0;
    for (int i = text.indexOf(secret); i >= 0; i = text.indexOf(secret, i + 1)) {
      n++;
    }
    return n;
  }

  private static long heapUsedAfterGc() throws InterruptedException {
    var memory = ManagementFactory.getMemoryMXBean();
    long least = Long.MAX_VALUE;
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(200);
      least = Math.min(least, memory.getHeapMemoryUsage().getUsed());
    }
    return least;
  }

  private static void awaitBodiesInFlight(long bytes) throws InterruptedException {
    Instant deadline = Instant.now().plus(Duration.ofSeconds(20));
    String last = "";
    while (Instant.now().isBefore(deadline)) {
      String metrics = new String(http.send(http.to("/metrics").GET()).body());
      for (String line : metrics.split("\n")) {
        if (line.startsWith("retina_http_body_in_flight_bytes ")) {
          last = line;
          if ((long) Double.parseDouble(line.split(" ")[1]) == bytes) {
            return;
          }
        }
      }
      Thread.sleep(100);
    }
    throw new AssertionError("bodies in flight never reached " + bytes + ": " + last);
  }

  private static Socket send(String head, byte[] body) throws IOException {
    return send(node.node.httpPort(), head, body);
  }

  private static Socket send(int port, String head, byte[] body) throws IOException {
    Socket s = new Socket("127.0.0.1", port);
    try {
      s.setSoTimeout(20_000);
      s.getOutputStream().write(head.getBytes(StandardCharsets.ISO_8859_1));
      s.getOutputStream().write(body);
      s.getOutputStream().flush();
      return s;
    } catch (IOException e) {
      s.close();
      throw e;
    }
  }

  record Response(int status, Map<String, String> headers, String body) {
    String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }

    String contentType() {
      return headers.getOrDefault("content-type", "");
    }

    JsonNode json() {
      try {
        return Json.MAPPER.readTree(body);
      } catch (IOException e) {
        throw new AssertionError("not JSON: " + body, e);
      }
    }
  }

  /** One response off a socket: its head, and its body by Content-Length. */
  private static Response read(Socket s) throws IOException {
    InputStream in = s.getInputStream();
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    try {
      while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
        int b = in.read();
        if (b < 0) {
          throw new AssertionError("connection closed before a response: " + head);
        }
        head.write(b);
      }
    } catch (SocketTimeoutException e) {
      throw new AssertionError("no response within the socket timeout: " + head, e);
    }
    String[] lines = head.toString(StandardCharsets.ISO_8859_1).split("\r\n");
    Map<String, String> headers = new LinkedHashMap<>();
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      headers.put(
          lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT),
          lines[i].substring(colon + 1).trim());
    }
    int length = Integer.parseInt(headers.getOrDefault("content-length", "0"));
    String body = new String(in.readNBytes(length), StandardCharsets.UTF_8);
    return new Response(Integer.parseInt(lines[0].split(" ")[1]), headers, body);
  }

  private static void closeAll(List<Socket> sockets) {
    for (Socket s : sockets) {
      try {
        s.close();
      } catch (IOException e) {
        // closing a socket the node already closed
      }
    }
  }
}
