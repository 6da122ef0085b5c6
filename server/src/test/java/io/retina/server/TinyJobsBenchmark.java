package io.retina.server;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.imageio.ImageIO;

/**
 * The platform's own cost per job, with no model in the way (docs/benchmarks.md, "Tiny jobs"): one
 * node with its embedded PostgreSQL, {@code resize} of a 64x64 PNG to 32x32, 16 clients each
 * submitting with {@code Prefer: wait}, then reading the result, and doing it again. Jobs a second
 * and latency percentiles of the whole round (submit → succeeded → result read). Run by {@code
 * bench/tiny.sh}; 127.0.0.1 only, stops by itself.
 *
 * <p>System properties: {@code bench.phaseMillis} (default 20000), {@code bench.warmupMillis}
 * (40000), {@code bench.clients} (16), {@code bench.asyncProfiler} (see {@link Profiler}), {@code
 * bench.parallelism} (the node's {@code retina.workers.parallelism}; its default if unset).
 */
public final class TinyJobsBenchmark {
  private TinyJobsBenchmark() {}

  public static void main(String[] args) throws Exception {
    Locale.setDefault(Locale.ROOT);
    long phase = Long.getLong("bench.phaseMillis", 20_000);
    int clients = Integer.getInteger("bench.clients", 16);
    byte[] png = gradientPng(64, 64);
    Map<String, Object> config = new java.util.HashMap<>();
    if (System.getProperty("bench.parallelism") != null) {
      config.put("retina.workers.parallelism", Integer.getInteger("bench.parallelism"));
    }
    TestNode node = TestNode.start(config);
    try {
      LocalClusterKeys keys = new LocalClusterKeys(new Http(node.base));
      String key = keys.unlimited();
      // warm-up: loads the model, fills the pools; the JIT is still busy after 5 s of this
      run(node, key, png, clients, Long.getLong("bench.warmupMillis", 40_000));
      Profiler profiler = Profiler.from(System.getProperty("bench.asyncProfiler"));
      profiler.start();
      Result r = run(node, key, png, clients, phase);
      profiler.stop();
      System.out.println();
      System.out.println("| clients | jobs/s | p50 ms | p95 ms | p99 ms | errors |");
      System.out.println("|---|---|---|---|---|---|");
      System.out.printf(
          "| %d | %.0f | %.1f | %.1f | %.1f | %d |%n",
          clients, r.perSecond(), r.p(50), r.p(95), r.p(99), r.errors());
      // where a job's time went on the worker, from the node's own metrics (warm-up included)
      String metrics =
          new String(
              new Http(node.base).send(new Http(node.base).to("/metrics").GET()).body(),
              java.nio.charset.StandardCharsets.UTF_8);
      for (String stage : new String[] {"claim", "run", "commit"}) {
        String labels = "{model=\"resize@1\",stage=\"" + stage + "\"}";
        double sum = BenchSupport.metric(metrics, "retina_job_stage_seconds_sum" + labels);
        double count = BenchSupport.metric(metrics, "retina_job_stage_seconds_count" + labels);
        System.out.printf(
            "worker stage %s: mean %.1f ms over %.0f jobs%n", stage, 1e3 * sum / count, count);
      }
    } finally {
      node.close();
    }
    System.exit(0);
  }

  record Result(double perSecond, List<Double> millis, int errors) {
    double p(int percent) {
      List<Double> sorted = new ArrayList<>(millis);
      Collections.sort(sorted);
      return sorted.isEmpty()
          ? 0
          : sorted.get(Math.min(sorted.size() - 1, sorted.size() * percent / 100));
    }
  }

  static Result run(TestNode node, String key, byte[] png, int clients, long millis)
      throws Exception {
    long end = System.nanoTime() + millis * 1_000_000;
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    List<Future<List<Double>>> running = new ArrayList<>();
    int[] errors = new int[1];
    long start = System.nanoTime();
    for (int i = 0; i < clients; i++) {
      running.add(
          pool.submit(
              () -> {
                Http http = new Http(node.base);
                List<Double> times = new ArrayList<>();
                while (System.nanoTime() < end) {
                  long t0 = System.nanoTime();
                  Http.Reply r =
                      http.submit(
                          "model=resize&width=32&height=32",
                          key,
                          "image/png",
                          png,
                          "Prefer",
                          "wait=10");
                  boolean ok =
                      r.status() == 200
                          && http.get("/v1/jobs/" + r.json().get("id").asText() + "/result", key)
                                  .status()
                              == 200;
                  if (ok) {
                    times.add((System.nanoTime() - t0) / 1e6);
                  } else {
                    synchronized (errors) {
                      errors[0]++;
                    }
                  }
                }
                return times;
              }));
    }
    List<Double> all = new ArrayList<>();
    for (Future<List<Double>> f : running) {
      all.addAll(f.get());
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    pool.shutdown();
    return new Result(all.size() / seconds, all, errors[0]);
  }

  /**
   * async-profiler's CPU sampling over the measured phase only, when {@code bench.asyncProfiler}
   * names its jar (Maven's {@code tools.profiler:async-profiler}, unpacked beside its native
   * library); the collapsed stacks go to {@code bench.profileOut} (default {@code
   * target/tiny-profile.collapsed}), one sample per millisecond of CPU, per thread.
   */
  record Profiler(Object instance) {
    static Profiler from(String jar) throws Exception {
      if (jar == null) {
        return new Profiler(null);
      }
      java.nio.file.Path path = java.nio.file.Path.of(jar).toAbsolutePath();
      var loader = new java.net.URLClassLoader(new java.net.URL[] {path.toUri().toURL()});
      Class<?> type = loader.loadClass("one.profiler.AsyncProfiler");
      String lib = path.resolveSibling("linux-x64/libasyncProfiler.so").toString();
      return new Profiler(type.getMethod("getInstance", String.class).invoke(null, lib));
    }

    void start() throws Exception {
      execute("start,event=cpu,interval=1ms,threads");
    }

    void stop() throws Exception {
      String out = System.getProperty("bench.profileOut", "target/tiny-profile.collapsed");
      execute("stop,collapsed,file=" + java.nio.file.Path.of(out).toAbsolutePath());
    }

    private void execute(String command) throws Exception {
      if (instance != null) {
        instance.getClass().getMethod("execute", String.class).invoke(instance, command);
      }
    }
  }

  /** A tenant allowed to submit as fast as the benchmark does. */
  record LocalClusterKeys(Http http) {
    String unlimited() {
      Http.TenantKey t = http.newTenant(Http.uniqueName("tiny"));
      http.send(
          http.to("/admin/tenants/" + t.id() + "/quota")
              .header("Authorization", "Bearer " + TestNode.ADMIN_TOKEN)
              .header("Content-Type", "application/json")
              .PUT(
                  java.net.http.HttpRequest.BodyPublishers.ofString(
                      "{\"ratePerSecond\":100000,\"burst\":100000,\"maxConcurrentJobs\":100000}")));
      return t.key();
    }
  }

  /** A generated 64x64 gradient: no third-party image. */
  static byte[] gradientPng(int w, int h) throws Exception {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_3BYTE_BGR);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        img.setRGB(x, y, (x * 4) << 16 | (y * 4) << 8 | 128);
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(img, "png", out);
    return out.toByteArray();
  }
}
