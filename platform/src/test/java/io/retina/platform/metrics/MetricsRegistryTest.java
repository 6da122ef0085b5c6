package io.retina.platform.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class MetricsRegistryTest {

  private final MetricsRegistry registry = new MetricsRegistry();

  @Test
  void scrapesLabelledCounterInTextFormat() {
    Counter jobs = registry.counter("retina_jobs_total", "Jobs by outcome.", "tenant", "outcome");
    jobs.inc("acme", "succeeded");
    jobs.inc(2, "acme", "succeeded");
    jobs.inc("acme", "failed");
    jobs.inc(0.5, "beta", "succeeded");

    assertEquals(
        """
        # HELP retina_jobs_total Jobs by outcome.
        # TYPE retina_jobs_total counter
        retina_jobs_total{tenant="acme",outcome="failed"} 1
        retina_jobs_total{tenant="acme",outcome="succeeded"} 3
        retina_jobs_total{tenant="beta",outcome="succeeded"} 0.5
        """,
        registry.scrape());
  }

  @Test
  void scrapesLabelledHistogramWithCumulativeBuckets() {
    Histogram latency =
        registry.histogram(
            "retina_request_seconds", "Request latency.", new double[] {0.1, 1, 2.5}, "route");
    latency.observe(0.05, "/v1/jobs");
    latency.observe(0.1, "/v1/jobs");
    latency.observe(2, "/v1/jobs");
    latency.observe(7, "/v1/jobs");

    assertEquals(
        """
        # HELP retina_request_seconds Request latency.
        # TYPE retina_request_seconds histogram
        retina_request_seconds_bucket{route="/v1/jobs",le="0.1"} 2
        retina_request_seconds_bucket{route="/v1/jobs",le="1"} 2
        retina_request_seconds_bucket{route="/v1/jobs",le="2.5"} 3
        retina_request_seconds_bucket{route="/v1/jobs",le="+Inf"} 4
        retina_request_seconds_sum{route="/v1/jobs"} 9.15
        retina_request_seconds_count{route="/v1/jobs"} 4
        """,
        registry.scrape());
  }

  @Test
  void scrapesUnlabelledMetricsAsZeroBeforeFirstUpdateAndSortedByName() {
    registry.histogram("b_seconds", "B.", new double[] {1});
    registry.counter("a_total", "A.");
    AtomicInteger depth = new AtomicInteger(3);
    registry.gauge("c_queue_depth", "Queued jobs.", depth::get);
    depth.set(5);

    assertEquals(
        """
        # HELP a_total A.
        # TYPE a_total counter
        a_total 0
        # HELP b_seconds B.
        # TYPE b_seconds histogram
        b_seconds_bucket{le="1"} 0
        b_seconds_bucket{le="+Inf"} 0
        b_seconds_sum 0
        b_seconds_count 0
        # HELP c_queue_depth Queued jobs.
        # TYPE c_queue_depth gauge
        c_queue_depth 5
        """,
        registry.scrape());
  }

  @Test
  void escapesLabelValuesAndHelpText() {
    Counter errors = registry.counter("errors_total", "Errors \\ by\nmessage \"m\".", "message");
    errors.inc("say \"hi\"\\\nbye");

    assertEquals(
        """
        # HELP errors_total Errors \\\\ by\\nmessage "m".
        # TYPE errors_total counter
        errors_total{message="say \\"hi\\"\\\\\\nbye"} 1
        """,
        registry.scrape());
  }

  @Test
  void concurrentIncrementsAndObservationsAddUp() throws Exception {
    Counter counter = registry.counter("hits_total", "Hits.", "shard");
    Histogram histogram =
        registry.histogram("work_seconds", "Work.", MetricsRegistry.LATENCY_SECONDS_BUCKETS);
    int threads = 8;
    int perThread = 50_000;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    CountDownLatch start = new CountDownLatch(1);
    List<Future<?>> done = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      String shard = "s" + (t % 2);
      done.add(
          pool.submit(
              () -> {
                start.await();
                for (int i = 0; i < perThread; i++) {
                  counter.inc(shard);
                  histogram.observe(0.25);
                }
                return null;
              }));
    }
    start.countDown();
    for (Future<?> f : done) {
      f.get(1, TimeUnit.MINUTES);
    }
    pool.shutdown();

    assertEquals(threads / 2 * perThread, counter.value("s0"));
    assertEquals(threads / 2 * perThread, counter.value("s1"));
    String scrape = registry.scrape();
    int total = threads * perThread;
    assertContains(scrape, "work_seconds_bucket{le=\"0.1\"} 0\n");
    assertContains(scrape, "work_seconds_bucket{le=\"0.25\"} " + total + "\n");
    assertContains(scrape, "work_seconds_bucket{le=\"+Inf\"} " + total + "\n");
    assertContains(scrape, "work_seconds_count " + total + "\n");
    assertContains(scrape, "work_seconds_sum " + total / 4 + "\n");
  }

  @Test
  void rejectsInvalidNamesAndDuplicates() {
    assertThrows(IllegalArgumentException.class, () -> registry.counter("1bad", "h"));
    assertThrows(IllegalArgumentException.class, () -> registry.counter("bad-name", "h"));
    assertThrows(IllegalArgumentException.class, () -> registry.counter("ok", "h", "__x"));
    assertThrows(IllegalArgumentException.class, () -> registry.counter("ok", "h", "a", "a"));
    assertThrows(
        IllegalArgumentException.class,
        () -> registry.histogram("ok", "h", new double[] {1}, "le"));
    assertThrows(
        IllegalArgumentException.class, () -> registry.histogram("ok", "h", new double[] {2, 1}));
    registry.counter("taken_total", "h");
    assertThrows(IllegalArgumentException.class, () -> registry.gauge("taken_total", "h", () -> 1));
  }

  @Test
  void rejectsWrongLabelCountsAndNegativeIncrements() {
    Counter counter = registry.counter("c_total", "h", "tenant");

    assertThrows(IllegalArgumentException.class, () -> counter.inc());
    assertThrows(IllegalArgumentException.class, () -> counter.inc("a", "b"));
    assertThrows(IllegalArgumentException.class, () -> counter.inc(-1, "a"));
    assertThrows(IllegalArgumentException.class, () -> counter.inc((String) null));
  }

  private static void assertContains(String text, String expected) {
    if (!text.contains(expected)) {
      throw new AssertionError("expected to find <" + expected + "> in:\n" + text);
    }
  }
}
