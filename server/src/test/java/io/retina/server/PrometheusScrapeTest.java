package io.retina.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A real Prometheus (Debian's {@code prometheus} package) scrapes a real node with the repo's alert
 * rules loaded: the node's job-latency histogram answers a quantile query through Prometheus's HTTP
 * API, the counters agree with the jobs sent, and every alert rule evaluates without error on real
 * series. All on 127.0.0.1; Prometheus is stopped at the end.
 */
class PrometheusScrapeTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient CLIENT = HttpClient.newHttpClient();

  @Test
  void prometheusScrapesANodeAndAnswersLatencyQuantiles() throws Exception {
    Path dir = Files.createTempDirectory("retina-prometheus");
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    try (TestNode node = TestNode.start(Map.of())) {
      Http http = new Http(node.base);
      String key = http.newTenantKey(Http.uniqueName("prometheus"));
      byte[] png = Photos.png(new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB));
      int jobs = 5;
      for (int i = 0; i < jobs; i++) {
        Http.Reply r =
            http.submit(
                "model=resize&width=32&height=32", key, "image/png", png, "Prefer", "wait=30");
        assertEquals(200, r.status(), r.toString());
      }
      Files.copy(AlertRulesTest.deploy().resolve("alerts.yml"), dir.resolve("alerts.yml"));
      Files.writeString(
          dir.resolve("prometheus.yml"),
          """
          global:
            scrape_interval: 1s
            evaluation_interval: 1s
          rule_files:
            - alerts.yml
          scrape_configs:
            - job_name: retina
              static_configs:
                - targets: ["%s"]
          """
              .formatted(URI.create(node.base).getAuthority()));
      Path binary = AlertRulesTest.promtool().resolveSibling("prometheus");
      Process prometheus =
          new ProcessBuilder(
                  binary.toString(),
                  "--config.file=" + dir.resolve("prometheus.yml"),
                  "--storage.tsdb.path=" + dir.resolve("data"),
                  "--web.listen-address=127.0.0.1:" + port)
              .redirectErrorStream(true)
              .redirectOutput(dir.resolve("prometheus.log").toFile())
              .start();
      try {
        String api = "http://127.0.0.1:" + port + "/api/v1/";
        // the scrape target is up
        JsonNode up = await(api, "up{job=\"retina\"}", Duration.ofSeconds(60));
        assertEquals("1", up.at("/0/value/1").asText(), up.toString());
        // the node's own count of the jobs, as Prometheus stored it
        JsonNode submitted =
            await(api, "sum(retina_jobs_submitted_total{job=\"retina\"})", Duration.ofSeconds(30));
        assertEquals(jobs, submitted.at("/0/value/1").asDouble(), submitted.toString());
        // a latency quantile from the histogram's buckets
        JsonNode p50 =
            await(
                api,
                "histogram_quantile(0.5, sum by (le)"
                    + " (max_over_time(retina_job_latency_seconds_bucket{model=\"resize@1\"}[5m])))",
                Duration.ofSeconds(30));
        double seconds = p50.at("/0/value/1").asDouble();
        assertTrue(seconds > 0 && seconds < 30, "p50 of " + jobs + " jobs: " + seconds + " s");
        // every rule of alerts.yml evaluates on the real series without error
        JsonNode groups = JSON.readTree(get(api + "rules")).at("/data/groups");
        assertTrue(groups.size() > 0, groups.toString());
        int rules = 0;
        for (JsonNode group : groups) {
          for (JsonNode rule : group.get("rules")) {
            rules++;
            Instant until = Instant.now().plusSeconds(20);
            while (rule.path("health").asText().equals("unknown")
                && Instant.now().isBefore(until)) {
              Thread.sleep(500);
              rule = find(JSON.readTree(get(api + "rules")), rule.get("name").asText());
            }
            assertEquals("ok", rule.path("health").asText(), rule.toString());
          }
        }
        assertTrue(rules >= 5, "rules evaluated: " + rules);
      } finally {
        prometheus.destroy();
        if (!prometheus.waitFor(20, TimeUnit.SECONDS)) {
          prometheus.destroyForcibly();
        }
      }
    }
  }

  /** The query's result vector once it is not empty, within {@code patience}. */
  private static JsonNode await(String api, String query, Duration patience) throws Exception {
    Instant until = Instant.now().plus(patience);
    String last = "";
    while (Instant.now().isBefore(until)) {
      try {
        last = get(api + "query?query=" + URLEncoder.encode(query, StandardCharsets.UTF_8));
        JsonNode result = JSON.readTree(last).at("/data/result");
        if (result.isArray()
            && result.size() > 0
            && !result.at("/0/value/1").asText().equals("NaN")) {
          return result;
        }
      } catch (java.io.IOException notYetUp) {
        last = notYetUp.toString();
      }
      Thread.sleep(500);
    }
    throw new AssertionError("no answer to " + query + " within " + patience + ": " + last);
  }

  private static JsonNode find(JsonNode rules, String name) {
    for (JsonNode group : rules.at("/data/groups")) {
      for (JsonNode rule : group.get("rules")) {
        if (rule.get("name").asText().equals(name)) {
          return rule;
        }
      }
    }
    throw new AssertionError("rule " + name + " gone");
  }

  private static String get(String url) throws Exception {
    HttpResponse<String> r =
        CLIENT.send(
            HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
            HttpResponse.BodyHandlers.ofString());
    return r.body();
  }
}
