package io.retina.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.retina.platform.tracing.Tracing;
import io.retina.server.OtlpReceiver.ReceivedSpan;
import java.awt.image.BufferedImage;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * One job's trace, from the client's request to the worker's commit, as an OTLP collector receives
 * it from a node configured to export; and a node configured without an endpoint, which records
 * nothing.
 */
class TracingTest {
  /** The client's own trace and span, as its {@code traceparent} names them. */
  static final String CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";

  static final String CLIENT_SPAN = "00f067aa0ba902b7";

  /** The span kind OTLP numbers SERVER. */
  static final int SERVER = 2;

  static OtlpReceiver receiver;
  static TestNode node;
  static Http http;

  @BeforeAll
  static void start() throws Exception {
    receiver = OtlpReceiver.start();
    node =
        TestNode.start(
            Map.of(
                "retina.tracing.otlp-endpoint",
                receiver.endpoint(),
                // the test waits for the spans: they are sent a tenth of a second after they end
                "retina.tracing.batch-delay",
                "100ms"));
    http = new Http(node.base);
  }

  @AfterAll
  static void stop() throws Exception {
    if (node != null) {
      node.close();
    }
    if (receiver != null) {
      receiver.close();
    }
  }

  @Test
  void oneJobsSpansArriveInTheClientsTraceParentedFromRequestToCommit() throws Exception {
    String key = http.newTenantKey("traced");
    Http.Reply reply =
        http.submit(
            "model=resize&width=16&height=16",
            key,
            "image/png",
            Photos.png(new BufferedImage(40, 30, BufferedImage.TYPE_INT_RGB)),
            "traceparent",
            "00-" + CLIENT_TRACE + "-" + CLIENT_SPAN + "-01",
            "Prefer",
            "wait=60");
    assertEquals(200, reply.status(), reply.toString());
    String answered = reply.header("traceparent");
    assertNotNull(answered, "the response names its server span");
    String[] parts = answered.split("-");
    assertEquals(CLIENT_TRACE, parts[1], "the response is in the client's trace");
    String requestSpan = parts[2];
    assertNotEquals(CLIENT_SPAN, requestSpan);

    Set<String> expected =
        Set.of(
            "POST /v1/jobs",
            "admission",
            "store.submit",
            "queue.wait",
            "job.attempt",
            "store.claim",
            "decode",
            "model.run",
            "encode",
            "store.commit");
    List<ReceivedSpan> trace =
        receiver
            .await(spans -> names(inTrace(spans)).containsAll(expected), Duration.ofSeconds(30))
            .stream()
            .filter(s -> s.traceId().equals(CLIENT_TRACE))
            .toList();
    assertEquals(expected, names(trace), "the job's spans, each once");
    assertEquals(expected.size(), trace.size(), "no span twice: " + trace);

    ReceivedSpan request = named(trace, "POST /v1/jobs");
    assertEquals(requestSpan, request.spanId(), "the response's traceparent is the request span");
    assertEquals(CLIENT_SPAN, request.parentSpanId(), "the request span is the client's child");
    assertEquals(SERVER, request.kind());
    assertEquals("POST", request.attributes().get("http.request.method"));
    assertEquals("/v1/jobs", request.attributes().get("http.route"));
    assertEquals("200", request.attributes().get("http.response.status_code"));
    String jobId = reply.json().get("id").asText();
    assertEquals(jobId, request.attributes().get("retina.job.id"));
    assertEquals("retina", request.resource().get("service.name"));

    for (String child : List.of("admission", "store.submit", "queue.wait", "job.attempt")) {
      assertEquals(request.spanId(), named(trace, child).parentSpanId(), child + "'s parent");
    }
    ReceivedSpan attempt = named(trace, "job.attempt");
    assertEquals(jobId, attempt.attributes().get("retina.job.id"));
    assertEquals("1", attempt.attributes().get("retina.job.attempt"));
    assertEquals("succeeded", attempt.attributes().get("retina.job.outcome"));
    for (String child : List.of("store.claim", "decode", "model.run", "encode", "store.commit")) {
      assertEquals(attempt.spanId(), named(trace, child).parentSpanId(), child + "'s parent");
    }
  }

  @Test
  void aJobSubmittedOnAnApiNodeContinuesItsTraceOnTheWorkerNodeThatRunsIt() throws Exception {
    String clientTrace = "0af7651916cd43dd8448eb211c80319c";
    Map<String, Object> traced = new HashMap<>();
    traced.put("retina.tracing.otlp-endpoint", receiver.endpoint());
    traced.put("retina.tracing.batch-delay", "100ms");
    Map<String, Object> api = new HashMap<>(traced);
    api.put("retina.node.roles", "api");
    try (TestNode apiNode = TestNode.start(api)) {
      Map<String, Object> worker = new HashMap<>(traced);
      worker.put("retina.store.url", apiNode.storeUrl);
      worker.put("retina.node.roles", "worker");
      worker.put("retina.node.seed-nodes", apiNode.clusterAddress());
      try (TestNode workerNode = TestNode.start(worker)) {
        Http apiHttp = new Http(apiNode.base);
        Http.Reply reply =
            apiHttp.submit(
                "model=resize&width=16&height=16",
                apiHttp.newTenantKey("traced-across"),
                "image/png",
                Photos.png(new BufferedImage(40, 30, BufferedImage.TYPE_INT_RGB)),
                "traceparent",
                "00-" + clientTrace + "-" + CLIENT_SPAN + "-01",
                "Prefer",
                "wait=60");
        assertEquals(200, reply.status(), reply.toString());

        List<ReceivedSpan> trace =
            receiver
                .await(
                    spans ->
                        spans.stream()
                                .anyMatch(
                                    s ->
                                        s.traceId().equals(clientTrace)
                                            && s.name().equals("encode"))
                            && spans.stream()
                                .anyMatch(
                                    s ->
                                        s.traceId().equals(clientTrace)
                                            && s.name().equals("POST /v1/jobs")),
                    Duration.ofSeconds(60))
                .stream()
                .filter(s -> s.traceId().equals(clientTrace))
                .toList();
        ReceivedSpan request = named(trace, "POST /v1/jobs");
        ReceivedSpan attempt = named(trace, "job.attempt");
        assertEquals(request.spanId(), attempt.parentSpanId());
        assertEquals(attempt.spanId(), named(trace, "encode").parentSpanId());
        String apiAddress = apiNode.clusterAddress();
        String workerAddress = workerNode.clusterAddress();
        assertEquals(apiAddress, request.resource().get("service.instance.id"));
        assertEquals(workerAddress, attempt.resource().get("service.instance.id"));
        assertEquals(workerAddress, attempt.attributes().get("retina.node"));
      }
    }
  }

  @Test
  void aNodeWithoutAnEndpointRecordsNothing() {
    Tracing off = NodeTracing.from(NodeConfig.load(Map.of()), "node", Set.of("api", "worker"));
    assertFalse(off.enabled());
    assertFalse(
        off.tracer().spanBuilder("anything").startSpan().getSpanContext().isValid(),
        "its spans are no-ops");
    assertNull(
        Tracing.traceparent(off.extract("00-" + CLIENT_TRACE + "-" + CLIENT_SPAN + "-01", null)),
        "a client's traceparent is not even read");
  }

  private static List<ReceivedSpan> inTrace(List<ReceivedSpan> spans) {
    return spans.stream().filter(s -> s.traceId().equals(CLIENT_TRACE)).toList();
  }

  private static Set<String> names(List<ReceivedSpan> spans) {
    return spans.stream().map(ReceivedSpan::name).collect(Collectors.toSet());
  }

  private static ReceivedSpan named(List<ReceivedSpan> spans, String name) {
    return spans.stream()
        .filter(s -> s.name().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no span " + name + " in " + spans));
  }
}
