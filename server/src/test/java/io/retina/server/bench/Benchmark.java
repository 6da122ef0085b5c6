package io.retina.server.bench;

import io.retina.server.BenchSupport;
import io.retina.workers.tfjs.FloatTensor;
import io.retina.workers.tfjs.TfModel;
import io.retina.workers.tfjs.TfjsModels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Throughput and latency of super-resolution x2 on a 128x128 photo through the whole platform
 * (HTTP, store, cluster, runner) at concurrency 1 to 16, with dynamic batching on and off, next to
 * raw Session.run throughput of the same model on the same tile in the same JVM: the physical limit
 * of this machine, taken at the start and again (two threads) just before each phase, whose share
 * is of the latter. Run with {@code bench/run.sh}; prints a Markdown table. Bounded: every phase
 * stops by itself.
 */
public final class Benchmark {
  /** Clients at once, phase by phase; {@code -Dbench.concurrency=1} runs one phase. */
  private static final int[] CONCURRENCY =
      java.util.Arrays.stream(System.getProperty("bench.concurrency", "1,2,4,8,16").split(","))
          .mapToInt(Integer::parseInt)
          .toArray();

  private static final long PHASE_MILLIS = Long.getLong("bench.phaseMillis", 15_000);

  /**
   * Load before the measured phases, unmeasured: a fresh node's JIT compiles for a minute or more
   * of load (docs/benchmarks.md), and a phase measured during it counts the compiler's CPU, taken
   * from the same two cores as TensorFlow's, against the platform.
   */
  private static final long WARMUP_MILLIS = Long.getLong("bench.warmupMillis", 60_000);

  /**
   * The jobs' parameters. By default the generator's output as it is, the same work as the raw runs
   * it is compared with; {@code -Dbench.params=} measures the default finish too (docs/models.md).
   */
  private static final String PARAMS = System.getProperty("bench.params", "fidelity=generator");

  /**
   * The replicas' pipelines to compare ({@code retina.workers.pipeline}), each with batching off
   * and on; {@code -Dbench.pipelines=0,2} compares the stages run one after the other in their slot
   * with the pipeline.
   */
  private static final int[] PIPELINES =
      java.util.Arrays.stream(System.getProperty("bench.pipelines", "2").split(","))
          .mapToInt(Integer::parseInt)
          .toArray();

  /** Batching off, on, or both ({@code -Dbench.batching=off}). */
  private static final List<Boolean> BATCHING =
      java.util.Arrays.stream(System.getProperty("bench.batching", "off,on").split(","))
          .map(b -> b.equals("on"))
          .toList();

  private Benchmark() {}

  public static void main(String[] args) throws Exception {
    Locale.setDefault(Locale.ROOT);
    byte[] photo = BenchSupport.flowerPng();
    StringBuilder out = new StringBuilder();
    out.append(
        "| mode | concurrency | images/s | p50 ms | p95 ms | share of raw | raw just before | worker"
            + " stages |\n");
    out.append("|---|---|---|---|---|---|---|---|\n");
    double raw1 = rawThroughput(1, 1);
    double raw2 = rawThroughput(2, 1);
    double rawBatch = rawThroughput(1, 8);
    out.append(
        String.format("| raw Session.run, 1 thread, batch 1 | - | %.1f | | | | | |%n", raw1));
    out.append(
        String.format("| raw Session.run, 2 threads, batch 1 | - | %.1f | | | | | |%n", raw2));
    out.append(
        String.format("| raw Session.run, 1 thread, batch 8 | - | %.1f | | | | | |%n", rawBatch));
    for (int pipeline : PIPELINES) {
      for (boolean batching : BATCHING) {
        try (BenchSupport.Node node =
            BenchSupport.start(
                Map.of("retina.workers.batching", batching, "retina.workers.pipeline", pipeline))) {
          String key = node.tenantKey();
          load(node, key, photo, 4, WARMUP_MILLIS);
          for (int c : CONCURRENCY) {
            // raw again just before the phase, the node idle: this machine's speed drifts by 20%
            // within minutes, so a ratio to a figure taken minutes earlier says more about the
            // drift
            double rawNow = rawThroughput(2, 1);
            double[][] before = node.stageTotals("super-resolution@1");
            Result r = load(node, key, photo, c, PHASE_MILLIS);
            String stages =
                BenchSupport.stageMeans(before, node.stageTotals("super-resolution@1"))
                    + " "
                    + r.splitText();
            out.append(
                String.format(
                    "| platform, pipeline %d, batching %s | %d | %.1f | %.0f | %.0f | %.0f%% | %.1f"
                        + " | %s |%n",
                    pipeline,
                    batching ? "on" : "off",
                    c,
                    r.perSecond,
                    r.p50,
                    r.p95,
                    100 * r.perSecond / rawNow,
                    rawNow,
                    stages));
            System.err.println(out);
          }
        }
      }
    }
    System.out.println();
    System.out.println(out);
  }

  /** Images a second through the bare model on the photo's 128x128 tile. */
  static double rawThroughput(int threads, int batch) throws Exception {
    Path model = BenchSupport.cache().resolve("upscalerjs_esrgan-slim_1.0.0/models/x2/model.json");
    try (TfModel m = TfjsModels.load(model)) {
      float[] one = BenchSupport.flowerRgb();
      float[] data = new float[one.length * batch];
      for (int i = 0; i < batch; i++) {
        System.arraycopy(one, 0, data, i * one.length, one.length);
      }
      FloatTensor input = new FloatTensor(new long[] {batch, 128, 128, 3}, data);
      m.run(input);
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      AtomicBoolean stop = new AtomicBoolean();
      List<Future<Long>> counts = new ArrayList<>();
      long start = System.nanoTime();
      for (int t = 0; t < threads; t++) {
        counts.add(
            pool.submit(
                () -> {
                  long n = 0;
                  while (!stop.get()) {
                    m.run(input);
                    n += batch;
                  }
                  return n;
                }));
      }
      Thread.sleep(PHASE_MILLIS / 2);
      stop.set(true);
      long total = 0;
      for (Future<Long> f : counts) {
        total += f.get();
      }
      pool.shutdown();
      return total / ((System.nanoTime() - start) / 1e9);
    }
  }

  /**
   * Images a second, latency percentiles, and the mean split of a job's time as its own timings
   * tell it: queued (created to started), on the worker (started to finished), and the rest of what
   * the client waited (HTTP, admission before the row exists, the answer after the commit).
   */
  record Result(double perSecond, double p50, double p95, double[] split) {
    String splitText() {
      return String.format(
          "queued %.1f ms, on the worker %.1f ms, outside the job's timings %.1f ms",
          split[0], split[1], split[2]);
    }
  }

  /**
   * {@code concurrency} clients, each submitting and waiting for its result, for {@code millis}.
   */
  static Result load(BenchSupport.Node node, String key, byte[] photo, int concurrency, long millis)
      throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(concurrency);
    long deadline = System.nanoTime() + millis * 1_000_000;
    List<Future<List<Double>>> clients = new ArrayList<>();
    double[] split = new double[3];
    long start = System.nanoTime();
    for (int c = 0; c < concurrency; c++) {
      clients.add(
          pool.submit(
              () -> {
                List<Double> latencies = new ArrayList<>();
                while (System.nanoTime() < deadline) {
                  long t0 = System.nanoTime();
                  var job = node.upscaleAndWait(key, photo, PARAMS);
                  double ms = (System.nanoTime() - t0) / 1e6;
                  latencies.add(ms);
                  double queued = job.at("/timings/queuedMs").asDouble();
                  double total = job.at("/timings/totalMs").asDouble();
                  synchronized (split) {
                    split[0] += queued;
                    split[1] += total - queued;
                    split[2] += ms - total;
                  }
                }
                return latencies;
              }));
    }
    List<Double> all = new ArrayList<>();
    for (Future<List<Double>> f : clients) {
      all.addAll(f.get());
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    pool.shutdown();
    Collections.sort(all);
    for (int i = 0; i < split.length; i++) {
      split[i] /= Math.max(1, all.size());
    }
    return new Result(all.size() / seconds, percentile(all, 0.50), percentile(all, 0.95), split);
  }

  static double percentile(List<Double> sorted, double p) {
    return sorted.isEmpty()
        ? 0
        : sorted.get((int) Math.min(sorted.size() - 1, Math.floor(p * sorted.size())));
  }
}
