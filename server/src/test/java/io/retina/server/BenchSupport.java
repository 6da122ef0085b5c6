package io.retina.server;

import io.retina.workers.imaging.ImageDecoder;
import io.retina.workers.imaging.PixelPacking;
import io.retina.workers.imaging.RgbaImage;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** What the benchmark needs from the test fixtures: a real node, a tenant, the photo. */
public final class BenchSupport {
  private BenchSupport() {}

  /** A running node with a tenant allowed to submit as fast as the benchmark does. */
  public static final class Node implements AutoCloseable {
    private final TestNode node;
    private final Http http;

    Node(TestNode node) {
      this.node = node;
      this.http = new Http(node.base);
    }

    public String tenantKey() {
      Http.Reply t =
          http.postJson(
              "/admin/tenants",
              TestNode.ADMIN_TOKEN,
              "{\"name\":\"" + Http.uniqueName("bench") + "\",\"plan\":\"enterprise\"}");
      String id = t.json().get("id").asText();
      http.send(
          http.to("/admin/tenants/" + id + "/quota")
              .header("Authorization", "Bearer " + TestNode.ADMIN_TOKEN)
              .header("Content-Type", "application/json")
              .PUT(
                  java.net.http.HttpRequest.BodyPublishers.ofString(
                      "{\"ratePerSecond\":100000,\"burst\":100000,\"maxConcurrentJobs\":100000}")));
      return http.postJson(
              "/admin/tenants/" + id + "/keys", TestNode.ADMIN_TOKEN, "{\"name\":\"k\"}")
          .json()
          .get("secret")
          .asText();
    }

    /** Submits an x2 upscale and waits for it; fails unless it succeeded. */
    public void upscaleAndWait(String key, byte[] png) {
      upscaleAndWait(key, png, "");
    }

    /**
     * Submits an x2 upscale with the job parameters {@code params} (a query string, may be empty)
     * and waits for it; fails unless it succeeded. Answers the job as the reply showed it.
     */
    public com.fasterxml.jackson.databind.JsonNode upscaleAndWait(
        String key, byte[] png, String params) {
      String query = "model=super-resolution" + (params.isEmpty() ? "" : "&" + params);
      Http.Reply r = http.submit(query, key, "image/png", png, "Prefer", "wait=60");
      if (r.status() != 200 || !r.json().get("status").asText().equals("succeeded")) {
        throw new IllegalStateException("job did not succeed: " + r);
      }
      return r.json();
    }

    /**
     * Per stage of a version on its worker (claim, run, commit): its total seconds and count so
     * far, from the node's own metrics.
     */
    public double[][] stageTotals(String version) {
      String metrics =
          new String(
              http.send(http.to("/metrics").GET()).body(), java.nio.charset.StandardCharsets.UTF_8);
      double[][] totals = new double[STAGES.length][];
      for (int i = 0; i < STAGES.length; i++) {
        String labels = "{model=\"" + version + "\",stage=\"" + STAGES[i] + "\"}";
        totals[i] =
            new double[] {
              metric(metrics, "retina_job_stage_seconds_sum" + labels),
              metric(metrics, "retina_job_stage_seconds_count" + labels)
            };
      }
      return totals;
    }

    @Override
    public void close() throws Exception {
      node.close();
    }
  }

  /** The stages a worker times for each job. */
  public static final String[] STAGES = {"claim", "slot-wait", "run", "commit"};

  /** Each stage's mean in ms between two {@link Node#stageTotals} readings, as text. */
  public static String stageMeans(double[][] before, double[][] after) {
    StringBuilder line = new StringBuilder();
    for (int i = 0; i < STAGES.length; i++) {
      double seconds = after[i][0] - before[i][0];
      double count = after[i][1] - before[i][1];
      line.append(String.format("%s %.1f ms; ", STAGES[i], 1e3 * seconds / count));
    }
    return line.toString().trim();
  }

  /** The value of the sample {@code name} (with its labels) in a Prometheus text page. */
  static double metric(String metrics, String name) {
    for (String line : metrics.split("\n")) {
      if (line.startsWith(name + " ")) {
        return Double.parseDouble(line.substring(name.length() + 1).trim());
      }
    }
    return Double.NaN;
  }

  /**
   * A node in this JVM on its own embedded PostgreSQL, set up as a node's store ships (every commit
   * flushed to disk), under the node's data directory; with {@code -Dbench.testStore=true}, on the
   * tests' shared server instead, which flushes nothing (figures before 2026-12-01).
   */
  public static Node start(Map<String, Object> overrides) throws Exception {
    return new Node(TestNode.start(storeAsShipped(new HashMap<>(overrides))));
  }

  /**
   * {@code config} with the node on its own embedded store (an empty store URL) unless it names a
   * store or {@code bench.testStore} is true.
   */
  static Map<String, Object> storeAsShipped(Map<String, Object> config) {
    if (!Boolean.getBoolean("bench.testStore")) {
      config.putIfAbsent("retina.store.url", "");
    }
    return config;
  }

  public static Path cache() {
    return Photos.cache();
  }

  public static byte[] flowerPng() {
    return Photos.flowerPng();
  }

  /** The 128x128 photo as the model's input: RGB floats in 0..255. */
  public static float[] flowerRgb() throws Exception {
    RgbaImage img = ImageDecoder.decode(flowerPng());
    return PixelPacking.rgb(img, 0, 0, img.width(), img.height(), 1f);
  }
}
