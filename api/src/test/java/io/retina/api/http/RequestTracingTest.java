package io.retina.api.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class RequestTracingTest {

  @Test
  void aSpansRouteNamesIdsAsIdAndKeepsTheRestOfThePath() {
    assertEquals("/v1/jobs", RequestTracing.route("/v1/jobs"));
    assertEquals(
        "/v1/jobs/{id}/result",
        RequestTracing.route("/v1/jobs/0b9a7f3e-1111-4222-8333-944445555666/result"));
    assertEquals("/v1/models/resize", RequestTracing.route("/v1/models/resize"));
    assertEquals("/", RequestTracing.route("/"));
  }
}
