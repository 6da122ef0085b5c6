package io.retina.platform.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import io.retina.platform.store.Database;
import io.retina.platform.store.TestDatabases;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class NodeMetricsTest {

  private final NodeMetrics metrics = new NodeMetrics();

  @AfterEach
  void close() {
    metrics.close();
  }

  @Test
  void aScrapeShowsTheJvmAndTheConnectionPool() throws Exception {
    try (Database db = TestDatabases.fresh()) {
      db.publishPoolMetrics(metrics.registry());
      try (var c = db.dataSource().getConnection()) {
        assertTrue(c.isValid(2));
      }
      Map<String, String> types = parse(metrics.scrape());

      assertEquals("gauge", types.get("jvm_memory_used_bytes"), types.toString());
      assertEquals("gauge", types.get("jvm_threads_live_threads"), types.toString());
      assertEquals("gauge", types.get("jvm_classes_loaded_classes"), types.toString());
      assertEquals("gauge", types.get("process_uptime_seconds"), types.toString());
      assertEquals("gauge", types.get("hikaricp_connections_active"), types.toString());
      assertEquals("gauge", types.get("hikaricp_connections_max"), types.toString());
      assertTrue(metrics.scrape().contains("hikaricp_connections_max{pool=\"retina-store\"} 8.0"));
    }
  }

  @Test
  void latencyTimersAreHistogramsInSecondsWithTheSharedBuckets() {
    Timer.builder("retina.job.latency")
        .serviceLevelObjectives(NodeMetrics.LATENCY_BUCKETS)
        .tag("model", "resize@1")
        .register(metrics.registry())
        .record(Duration.ofMillis(300));
    String text = metrics.scrape();

    assertEquals("histogram", parse(text).get("retina_job_latency_seconds"));
    assertTrue(
        text.contains("retina_job_latency_seconds_bucket{model=\"resize@1\",le=\"0.25\"} 0\n"));
    assertTrue(
        text.contains("retina_job_latency_seconds_bucket{model=\"resize@1\",le=\"0.5\"} 1\n"));
    assertTrue(
        text.contains("retina_job_latency_seconds_bucket{model=\"resize@1\",le=\"+Inf\"} 1\n"));
    assertTrue(text.contains("retina_job_latency_seconds_sum{model=\"resize@1\"} 0.3\n"), text);
  }

  @Test
  void countersGetTheirTotalSuffixAndEscapedLabels() {
    Counter.builder("retina.jobs.submitted")
        .tag("model", "say \"hi\"\\")
        .register(metrics.registry())
        .increment(2);
    String text = metrics.scrape();

    assertEquals("counter", parse(text).get("retina_jobs_submitted_total"));
    assertTrue(
        text.contains("retina_jobs_submitted_total{model=\"say \\\"hi\\\"\\\\\"} 2.0\n"), text);
  }

  private static final Pattern TYPE = Pattern.compile("# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (\\w+)");
  private static final Pattern SAMPLE =
      Pattern.compile(
          "([a-zA-Z_:][a-zA-Z0-9_:]*)"
              + "(\\{[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\]|\\\\.)*\""
              + "(?:,[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\]|\\\\.)*\")*\\})?"
              + " (\\S+)");

  /**
   * Every family's type, by name, after checking each line as Prometheus's text format 0.0.4 has
   * it: a HELP or TYPE comment, or a sample of a declared family with a number for its value.
   */
  private static Map<String, String> parse(String text) {
    Map<String, String> types = new HashMap<>();
    for (String line : text.split("\n")) {
      if (line.isEmpty() || line.startsWith("# HELP ")) {
        continue;
      }
      Matcher type = TYPE.matcher(line);
      if (type.matches()) {
        types.put(type.group(1), type.group(2));
        continue;
      }
      Matcher sample = SAMPLE.matcher(line);
      assertTrue(sample.matches(), "not a sample: " + line);
      String name = sample.group(1);
      String family = name.replaceFirst("_(bucket|sum|count)$", "");
      assertTrue(types.containsKey(name) || types.containsKey(family), "no TYPE before: " + line);
      String value = sample.group(3);
      if (!value.equals("+Inf") && !value.equals("-Inf") && !value.equals("NaN")) {
        Double.parseDouble(value);
      }
    }
    return types;
  }
}
