package io.retina.server;

import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Polling that scales (docs/benchmarks.md, "Long polls"): one node with its embedded PostgreSQL,
 * {@code bench.jobs} jobs of a model that sleeps {@code bench.sleepMillis} each (two run at a time,
 * the rest wait in the queue), and {@code bench.pollers} clients long-polling them ({@code Prefer:
 * wait=20} with the last {@code ETag}), each on its own connection, for {@code bench.phaseMillis}.
 * A client whose job has finished stops. Prints the polls answered, the store statements per
 * answered poll, and the JVM's CPU (node and clients). Run by {@code bench/longpoll.sh}; 127.0.0.1
 * only, stops by itself.
 */
public final class LongPollBenchmark {
  private LongPollBenchmark() {}

  public static void main(String[] args) throws Exception {
    Locale.setDefault(Locale.ROOT);
    int pollers = Integer.getInteger("bench.pollers", 1000);
    int jobs = Integer.getInteger("bench.jobs", 20);
    long sleep = Long.getLong("bench.sleepMillis", 30_000);
    long phase = Long.getLong("bench.phaseMillis", 40_000);
    TestNode node = TestNode.start(Map.of());
    try {
      SleepModel.register(node.storeUrl, "slow", sleep);
      String key = new TinyJobsBenchmark.LocalClusterKeys(new Http(node.base)).unlimited();
      Http http = new Http(node.base);
      byte[] png = TinyJobsBenchmark.gradientPng(8, 8);
      List<String> ids = new ArrayList<>();
      for (int i = 0; i < jobs; i++) {
        Http.Reply r = http.submit("model=slow", key, "image/png", png);
        if (r.status() != 202) {
          throw new IllegalStateException("not accepted: " + r);
        }
        ids.add(r.json().get("id").asText());
      }
      HttpClient client =
          HttpClient.newBuilder()
              .executor(Executors.newFixedThreadPool(4))
              .connectTimeout(Duration.ofSeconds(10))
              .build();
      AtomicLong changed = new AtomicLong();
      AtomicLong unchanged = new AtomicLong();
      AtomicLong failed = new AtomicLong();
      long end = System.nanoTime() + phase * 1_000_000;
      var counts = node.node.database().statementCounts();
      var os =
          (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
      long cpu0 = os.getProcessCpuTime();
      long t0 = System.nanoTime();
      counts.start();
      List<CompletableFuture<Void>> loops = new ArrayList<>();
      for (int i = 0; i < pollers; i++) {
        String path = node.base + "/v1/jobs/" + ids.get(i % jobs);
        loops.add(poll(client, path, key, null, end, changed, unchanged, failed));
      }
      CompletableFuture.allOf(loops.toArray(CompletableFuture[]::new)).join();
      Map<String, Long> ran = counts.stop();
      double seconds = (System.nanoTime() - t0) / 1e9;
      double cores = (os.getProcessCpuTime() - cpu0) / 1e9 / seconds;
      long answered = changed.get() + unchanged.get();
      long statements = ran.values().stream().mapToLong(Long::longValue).sum();
      long jobReads =
          ran.entrySet().stream()
              .filter(e -> e.getKey().contains(" from jobs where id = ? and tenant_id = ?"))
              .mapToLong(Map.Entry::getValue)
              .sum();
      System.out.println();
      System.out.println(
          "| pollers | jobs | seconds | polls answered | 200 (changed) | 304 (unchanged) | errors"
              + " | store statements | of them job reads | statements per poll | JVM cores |");
      System.out.println("|---|---|---|---|---|---|---|---|---|---|---|");
      System.out.printf(
          "| %d | %d | %.0f | %d | %d | %d | %d | %d | %d | %.3f | %.2f |%n",
          pollers,
          jobs,
          seconds,
          answered,
          changed.get(),
          unchanged.get(),
          failed.get(),
          statements,
          jobReads,
          answered == 0 ? 0.0 : (double) statements / answered,
          cores);
      System.out.println("statements by text:");
      ran.forEach((sql, n) -> System.out.println("  " + n + "x " + sql));
    } finally {
      node.close();
    }
    System.exit(0);
  }

  /** One client: asks, waits for the answer, asks again with what it was told, until the end. */
  private static CompletableFuture<Void> poll(
      HttpClient client,
      String url,
      String key,
      String tag,
      long end,
      AtomicLong changed,
      AtomicLong unchanged,
      AtomicLong failed) {
    if (System.nanoTime() > end) {
      return CompletableFuture.completedFuture(null);
    }
    long leftSeconds = Math.max(1, (end - System.nanoTime()) / 1_000_000_000L);
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(url))
            .timeout(Duration.ofSeconds(60))
            .header("Authorization", "Bearer " + key)
            .header("Prefer", "wait=" + Math.min(20, leftSeconds));
    if (tag != null) {
      request.header("If-None-Match", tag);
    }
    long sent = System.nanoTime();
    return client
        .sendAsync(request.build(), HttpResponse.BodyHandlers.discarding())
        .handle(
            (r, e) -> {
              if (Boolean.getBoolean("bench.trace") && r != null) {
                System.out.printf(
                    "%s %d %d ms %s%n",
                    url.substring(url.length() - 8),
                    r.statusCode(),
                    (System.nanoTime() - sent) / 1_000_000,
                    r.headers().firstValue("ETag").orElse(""));
              }
              if (e != null || (r.statusCode() != 200 && r.statusCode() != 304)) {
                failed.incrementAndGet();
                return tag;
              }
              (r.statusCode() == 200 ? changed : unchanged).incrementAndGet();
              if (r.headers().firstValue("Retry-After").isEmpty()) {
                return null; // a finished job has nothing more to say: this client is done
              }
              return r.headers().firstValue("ETag").orElse(tag);
            })
        .thenCompose(
            next ->
                next == null
                    ? CompletableFuture.<Void>completedFuture(null)
                    : poll(client, url, key, next, end, changed, unchanged, failed));
  }
}
