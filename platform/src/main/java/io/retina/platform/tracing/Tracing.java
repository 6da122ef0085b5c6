package io.retina.platform.tracing;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.MDC;

/**
 * A node's tracer, and the W3C trace context as it travels between nodes: in HTTP headers ({@code
 * traceparent}, {@code tracestate}) and in the job's row, so that one job's spans, on whichever
 * nodes they are recorded, form one trace.
 *
 * <p>{@link #OFF} records nothing: its spans are OpenTelemetry's no-op ones, and {@link #enabled}
 * lets a hot path skip even building them. Thread-safe.
 */
public final class Tracing {
  /** Tracing off: no spans are recorded or exported, no trace context is read or written. */
  public static final Tracing OFF = new Tracing(OpenTelemetry.noop(), false);

  /** The instrumentation scope Retina's own spans are recorded under. */
  public static final String SCOPE = "io.retina";

  public static final String TRACEPARENT = "traceparent";
  public static final String TRACESTATE = "tracestate";

  private final OpenTelemetry openTelemetry;
  private final Tracer tracer;
  private final boolean enabled;

  private Tracing(OpenTelemetry openTelemetry, boolean enabled) {
    this.openTelemetry = openTelemetry;
    this.tracer = openTelemetry.getTracer(SCOPE);
    this.enabled = enabled;
  }

  /** Tracing that records with {@code openTelemetry} (an SDK the node owns and shuts down). */
  public static Tracing with(OpenTelemetry openTelemetry) {
    return new Tracing(openTelemetry, true);
  }

  public boolean enabled() {
    return enabled;
  }

  public Tracer tracer() {
    return tracer;
  }

  public OpenTelemetry openTelemetry() {
    return openTelemetry;
  }

  /**
   * Runs {@code work} in a span {@code name}, a child of {@code parent}, ended when the work
   * returns or throws; what it throws is recorded on the span as an event (a refusal is not this
   * node's failure, so the span's status is left to say so only where the caller knows better).
   * With tracing off, or under an untraced parent, it only runs the work.
   */
  public <T> T inSpan(String name, Context parent, Supplier<T> work) {
    if (!enabled || !Span.fromContext(parent).getSpanContext().isValid()) {
      return work.get();
    }
    Span span = tracer.spanBuilder(name).setParent(parent).startSpan();
    try {
      return work.get();
    } catch (RuntimeException | Error e) {
      span.recordException(e);
      throw e;
    } finally {
      span.end();
    }
  }

  /**
   * The context a client's (or another node's) {@code traceparent} and {@code tracestate} name, as
   * the parent of this node's spans; the root context when tracing is off or the header is missing
   * or malformed (a bad header starts a new trace, it does not fail the request).
   */
  public Context extract(String traceparent, String tracestate) {
    if (!enabled || traceparent == null) {
      return Context.root();
    }
    Map<String, String> headers =
        tracestate == null
            ? Map.of(TRACEPARENT, traceparent)
            : Map.of(TRACEPARENT, traceparent, TRACESTATE, tracestate);
    return W3CTraceContextPropagator.getInstance().extract(Context.root(), headers, MAP);
  }

  /**
   * The W3C {@code traceparent} of {@code context}'s span, to send or store; null when it has no
   * recorded span (tracing off, or an untraced path).
   */
  public static String traceparent(Context context) {
    return traceparent(Span.fromContext(context).getSpanContext());
  }

  /** The W3C {@code traceparent} of a span: version 00, trace id, span id, flags. */
  public static String traceparent(SpanContext span) {
    if (!span.isValid()) {
      return null;
    }
    return "00-" + span.getTraceId() + "-" + span.getSpanId() + "-" + span.getTraceFlags().asHex();
  }

  /** The MDC keys of the trace and span a log line was written in. */
  public static final String MDC_TRACE = "trace_id";

  public static final String MDC_SPAN = "span_id";

  /** Log lines name a span until this closes. */
  public interface Logged extends AutoCloseable {
    @Override
    void close();
  }

  /**
   * Puts {@code context}'s trace and span ids in the thread's MDC, so that log lines written until
   * the returned scope closes name them (structured logs carry them as {@code trace_id} and {@code
   * span_id}); nothing when the context has no recorded span.
   */
  public static Logged logged(Context context) {
    SpanContext span = Span.fromContext(context).getSpanContext();
    if (!span.isValid()) {
      return () -> {};
    }
    MDC.put(MDC_TRACE, span.getTraceId());
    MDC.put(MDC_SPAN, span.getSpanId());
    return () -> {
      MDC.remove(MDC_TRACE);
      MDC.remove(MDC_SPAN);
    };
  }

  private static final TextMapGetter<Map<String, String>> MAP =
      new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Map<String, String> carrier) {
          return List.copyOf(carrier.keySet());
        }

        @Override
        public String get(Map<String, String> carrier, String key) {
          return carrier == null ? null : carrier.get(key);
        }
      };
}
