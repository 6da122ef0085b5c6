package io.retina.server;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * How one version's throughput grows with worker nodes (docs/benchmarks.md, "Replicas"). A cluster
 * of 1, then 2, then 3 nodes in this JVM on 127.0.0.1 serves the {@link SleepModel} fixture, whose
 * jobs take a fixed time and no CPU (as a GPU-bound model looks to the host), with the version's
 * replicas set to the node count; clients keep it saturated for a fixed time, then super-resolution
 * is measured the same way for the record. Run by {@code bench/scaling.sh}; stops by itself.
 *
 * <p>System properties: {@code bench.phaseMillis} (default 20000), {@code bench.sleepMillis} (200),
 * {@code bench.clients} (32).
 */
public final class ScalingBenchmark {
  private ScalingBenchmark() {}

  public static void main(String[] args) throws Exception {
    long phase = Long.getLong("bench.phaseMillis", 20_000);
    long sleep = Long.getLong("bench.sleepMillis", 200);
    int clients = Integer.getInteger("bench.clients", 32);
    List<String> rows = new ArrayList<>();
    LocalCluster c = LocalCluster.start(Map.of());
    try {
      c.registerSleepModel("sleep-fixture", sleep);
      String key = c.unlimitedTenant();
      byte[] png = Photos.flowerPng();
      double one = 0;
      for (int nodes = 1; nodes <= 3; nodes++) {
        if (nodes > 1) {
          c.addWorker();
        }
        String fixed = "{\"minReplicas\":" + nodes + ",\"maxReplicas\":" + nodes + "}";
        c.scaling("sleep-fixture@1", fixed);
        drive(c, key, png, "sleep-fixture", clients, 3_000); // places and warms the replicas
        c.awaitReplicas("sleep-fixture@1", nodes, Duration.ofSeconds(60));
        Result r = drive(c, key, png, "sleep-fixture", clients, phase);
        one = nodes == 1 ? r.perSecond() : one;
        rows.add(
            String.format(
                "| sleep %d ms | %d | %d | %.1f | %.2fx | %d |",
                sleep, nodes, clients, r.perSecond(), r.perSecond() / one, r.refused()));
        System.out.println(rows.get(rows.size() - 1));
      }
      double sr1 = 0;
      for (int nodes = 1; nodes <= 3; nodes++) {
        String fixed = "{\"minReplicas\":" + nodes + ",\"maxReplicas\":" + nodes + "}";
        c.scaling("super-resolution@1", fixed);
        drive(c, key, png, "super-resolution", 8, 5_000);
        c.awaitReplicas("super-resolution@1", nodes, Duration.ofSeconds(120));
        Result r = drive(c, key, png, "super-resolution", 8, phase);
        sr1 = nodes == 1 ? r.perSecond() : sr1;
        rows.add(
            String.format(
                "| super-resolution x2, 128x128 | %d | 8 | %.1f | %.2fx | %d |",
                nodes, r.perSecond(), r.perSecond() / sr1, r.refused()));
        System.out.println(rows.get(rows.size() - 1));
      }
    } finally {
      System.out.println();
      System.out.println(
          "| model | worker nodes | clients | jobs/s | vs one node | refused (503) |");
      System.out.println("|---|---|---|---|---|---|");
      rows.forEach(System.out::println);
      c.close();
    }
    System.exit(0);
  }

  record Result(double perSecond, int refused) {}

  /**
   * {@code clients} threads each submit with {@code Prefer: wait} and submit again when answered,
   * for {@code millis}; counts the jobs that succeeded and the submissions refused.
   */
  static Result drive(
      LocalCluster c, String key, byte[] png, String model, int clients, long millis)
      throws Exception {
    AtomicInteger done = new AtomicInteger();
    AtomicInteger refused = new AtomicInteger();
    long end = System.nanoTime() + millis * 1_000_000;
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    List<Future<?>> running = new ArrayList<>();
    long start = System.nanoTime();
    for (int i = 0; i < clients; i++) {
      running.add(
          pool.submit(
              () -> {
                Http http = new Http(c.first.base);
                while (System.nanoTime() < end) {
                  Http.Reply r =
                      http.submit("model=" + model, key, "image/png", png, "Prefer", "wait=60");
                  if (r.status() == 200 && r.json().get("status").asText().equals("succeeded")) {
                    done.incrementAndGet();
                  } else if (r.status() == 503) {
                    refused.incrementAndGet();
                    sleepQuietly(200);
                  } else {
                    throw new IllegalStateException("unexpected answer: " + r);
                  }
                }
                return null;
              }));
    }
    for (Future<?> f : running) {
      f.get();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    pool.shutdown();
    return new Result(done.get() / seconds, refused.get());
  }

  private static void sleepQuietly(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
