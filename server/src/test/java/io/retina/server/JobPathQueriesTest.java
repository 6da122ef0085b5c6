package io.retina.server;

import static org.junit.jupiter.api.Assertions.*;

import io.retina.platform.store.StatementCounts;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The store's work for one job, from submit to result, counted by statement: each query runs once
 * (the key check once per request), the waiting submit answers from the commit without reading the
 * job again, one ledger row is written, and no statement on the path needs a commit of its own.
 */
class JobPathQueriesTest {
  static TestNode node;
  static Http http;
  static String key;

  @BeforeAll
  static void start() throws Exception {
    // nothing on a timer may run during the counted job
    node =
        TestNode.start(
            Map.of(
                "retina.workers.sweeper.interval", "1h",
                "retina.workers.residency.heartbeat", "1h",
                "retina.workers.prune-uploads-every", "1h",
                "retina.webhooks.poll-interval", "1h",
                "retina.workers.training.enabled", false));
    http = new Http(node.base);
    key = http.newTenantKey(Http.uniqueName("queries"));
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
  }

  @Test
  void aWaitedJobRunsEachQueryOnceAndIsBilledOnce() throws Exception {
    byte[] png = Photos.flowerPng();
    // the first job loads the model and warms the caches; the second is the one counted
    Http.Reply warm =
        http.submit("model=background-removal", key, "image/png", png, "Prefer", "wait=60");
    assertEquals(200, warm.status(), warm.toString());

    var counts = node.node.database().statementCounts();
    counts.start();
    Http.Reply r =
        http.submit("model=background-removal", key, "image/png", png, "Prefer", "wait=60");
    assertEquals(200, r.status(), r.toString());
    assertEquals("succeeded", r.json().get("status").asText(), r.toString());
    String id = r.json().get("id").asText();
    assertEquals(200, http.get("/v1/jobs/" + id + "/result", key).status());
    Map<String, Long> ran = counts.stop();

    String report =
        ran.entrySet().stream()
            .map(e -> e.getValue() + "x " + e.getKey())
            .collect(Collectors.joining("\n"));
    System.out.println("statements of one job:\n" + report);
    ran.forEach(
        (sql, n) -> {
          if (sql.startsWith("select set_config") || sql.equals(StatementCounts.COMMIT)) {
            return; // a connection's tenant scope; commits are counted below
          }
          // the key is looked up at most once per request (a node remembers a checked key for a
          // second), and every other query at most once: the model and quota reads are
          // remembered as well, so they may not run at all
          long most = sql.contains("from api_keys") ? 2 : 1;
          assertTrue(n <= most, "ran " + n + " times: " + sql + "\n" + report);
        });
    long ledgerWrites =
        ran.keySet().stream().filter(sql -> sql.contains("insert into usage_ledger")).count();
    assertEquals(1, ledgerWrites, report);
    // no explicit commit on the job's path: the submission (its insert, then the tenant's lock and
    // count) is one batch that commits as it ends, and the claim, the result's commit and the reads
    // each run as one statement that commits with it, with no COMMIT round trip; the key check,
    // when it runs, is the one transaction with a COMMIT of its own
    long keyChecks =
        ran.entrySet().stream()
            .filter(e -> e.getKey().contains("from api_keys"))
            .mapToLong(Map.Entry::getValue)
            .sum();
    assertEquals(keyChecks, ran.getOrDefault(StatementCounts.COMMIT, 0L), report);
  }
}
