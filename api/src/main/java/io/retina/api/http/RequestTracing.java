package io.retina.api.http;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;
import io.retina.platform.tracing.Tracing;
import java.util.Arrays;
import java.util.UUID;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.apache.pekko.http.javadsl.model.AttributeKey;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The server span of each API request: started as the request arrives, a child of the client's W3C
 * {@code traceparent} if it sent one, and ended with the response, which carries the span's own
 * {@code traceparent} so a client can find its request's trace. A handler parents its spans on
 * {@link #context(HttpRequest)}: the request's context travels with the request (an attribute), not
 * with the thread, since a handler hops between executors.
 *
 * <p>Scrapes and probes ({@code /metrics}, {@code /health/...}) are not traced: they come every few
 * seconds and say nothing about a tenant's request. With tracing off, nothing here runs.
 */
public final class RequestTracing extends AllDirectives {
  private static final AttributeKey<Context> CONTEXT =
      AttributeKey.create("retina-trace-context", Context.class);

  private final Tracing tracing;

  public RequestTracing(Tracing tracing) {
    this.tracing = tracing;
  }

  /** {@code inner}, answered inside the request's server span. */
  public Route traced(HttpRequest request, Supplier<Route> inner) {
    String path = request.getUri().path();
    if (!tracing.enabled() || path.equals("/metrics") || path.startsWith("/health/")) {
      return inner.get();
    }
    Context parent =
        tracing.extract(
            request.getHeader(Tracing.TRACEPARENT).map(h -> h.value()).orElse(null),
            request.getHeader(Tracing.TRACESTATE).map(h -> h.value()).orElse(null));
    String method = request.method().value();
    String route = route(path);
    Span span =
        tracing
            .tracer()
            .spanBuilder(method + " " + route)
            .setParent(parent)
            .setSpanKind(SpanKind.SERVER)
            .setAttribute("http.request.method", method)
            .setAttribute("http.route", route)
            .setAttribute("url.path", path)
            .startSpan();
    Context context = parent.with(span);
    String traceparent = Tracing.traceparent(context);
    return mapRequest(
        r -> r.addAttribute(CONTEXT, context),
        () ->
            mapResponse(
                response -> {
                  int status = response.status().intValue();
                  span.setAttribute("http.response.status_code", status);
                  if (status >= 500) {
                    span.setStatus(StatusCode.ERROR);
                  }
                  span.end();
                  return response.addHeader(RawHeader.create(Tracing.TRACEPARENT, traceparent));
                },
                inner));
  }

  /**
   * The trace context of the request's server span, to parent a handler's spans on; the root
   * context when the request is not traced.
   */
  public static Context context(HttpRequest request) {
    return request.getAttribute(CONTEXT).orElse(Context.root());
  }

  /**
   * The request's path as a route, ids replaced by {@code {id}}: a span name of low cardinality
   * ({@code POST /v1/jobs}, {@code GET /v1/jobs/{id}/result}) that still says which endpoint it
   * was.
   */
  static String route(String path) {
    String route =
        Arrays.stream(path.split("/", -1))
            .map(segment -> isId(segment) ? "{id}" : segment)
            .collect(Collectors.joining("/"));
    return route.isEmpty() ? "/" : route;
  }

  private static boolean isId(String segment) {
    if (segment.length() != 36) {
      return false;
    }
    try {
      UUID.fromString(segment);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }
}
