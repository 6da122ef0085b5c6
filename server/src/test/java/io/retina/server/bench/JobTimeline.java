package io.retina.server.bench;

import io.retina.server.BenchSupport;
import io.retina.server.OtlpReceiver;
import io.retina.server.OtlpReceiver.ReceivedSpan;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Where one job's time goes at concurrency 1, from its own trace: a node exports its spans to an
 * in-process OTLP receiver, a client submits super-resolution x2 of the 128x128 photo with {@code
 * Prefer: wait} one job after another, and the mean start (from the request's arrival) and length
 * of every span are printed as a Markdown table, beside what the client measured. Run with {@code
 * bench/timeline.sh}; bounded by its job counts ({@code -Dbench.warmup=}, default 20, then {@code
 * -Dbench.jobs=}, default 40).
 */
public final class JobTimeline {
  private static final int JOBS = Integer.getInteger("bench.jobs", 40);
  private static final int WARMUP = Integer.getInteger("bench.warmup", 20);
  private static final String PARAMS = System.getProperty("bench.params", "fidelity=generator");

  private JobTimeline() {}

  public static void main(String[] args) throws Exception {
    Locale.setDefault(Locale.ROOT);
    byte[] photo = BenchSupport.flowerPng();
    try (OtlpReceiver receiver = OtlpReceiver.start();
        BenchSupport.Node node =
            BenchSupport.start(
                Map.of(
                    "retina.tracing.otlp-endpoint",
                    receiver.endpoint(),
                    "retina.tracing.batch-delay",
                    "100ms",
                    "retina.workers.batching",
                    false))) {
      String key = node.tenantKey();
      for (int i = 0; i < WARMUP; i++) {
        node.upscaleAndWait(key, photo, PARAMS);
      }
      Thread.sleep(1000);
      int warmSpans = receiver.await(s -> true, Duration.ZERO).size();
      double clientMs = 0;
      for (int i = 0; i < JOBS; i++) {
        long t0 = System.nanoTime();
        node.upscaleAndWait(key, photo, PARAMS);
        clientMs += (System.nanoTime() - t0) / 1e6;
      }
      List<ReceivedSpan> spans =
          receiver.await(s -> false, Duration.ofSeconds(2)).stream().skip(warmSpans).toList();
      System.out.println();
      System.out.println(table(spans, clientMs / JOBS));
    }
  }

  /** Per span name: mean start after the request's span began, and mean length, in ms. */
  static String table(List<ReceivedSpan> spans, double clientMs) {
    Map<String, List<ReceivedSpan>> byTrace =
        spans.stream().collect(Collectors.groupingBy(ReceivedSpan::traceId));
    Map<String, double[]> sums = new LinkedHashMap<>(); // start, length, count
    int traces = 0;
    for (List<ReceivedSpan> trace : byTrace.values()) {
      ReceivedSpan root =
          trace.stream().filter(s -> s.parentSpanId().isEmpty()).findFirst().orElse(null);
      if (root == null) {
        continue;
      }
      traces++;
      List<ReceivedSpan> ordered = new ArrayList<>(trace);
      ordered.sort((a, b) -> Long.compare(a.startNanos(), b.startNanos()));
      for (ReceivedSpan s : ordered) {
        double[] sum = sums.computeIfAbsent(s.name(), n -> new double[3]);
        sum[0] += (s.startNanos() - root.startNanos()) / 1e6;
        sum[1] += (s.endNanos() - s.startNanos()) / 1e6;
        sum[2]++;
      }
    }
    StringBuilder out = new StringBuilder();
    out.append(String.format("%d traces; the client waited %.1f ms a job%n%n", traces, clientMs));
    out.append("| span | starts at ms | lasts ms |\n|---|---|---|\n");
    sums.forEach(
        (name, s) ->
            out.append(String.format("| %s | %.1f | %.1f |%n", name, s[0] / s[2], s[1] / s[2])));
    return out.toString();
  }
}
