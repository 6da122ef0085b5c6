package io.retina.server;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

/**
 * An OTLP/HTTP trace receiver in the test JVM, on a free loopback port: it takes {@code POST
 * /v1/traces} with a protobuf {@code ExportTraceServiceRequest} and keeps the spans in it.
 *
 * <p>The request is read field by field with protobuf's wire-format reader rather than with the
 * opentelemetry-proto classes: those are generated for protobuf 4, and the test classpath holds
 * protobuf 3.21, which TensorFlow Java needs.
 */
public final class OtlpReceiver implements AutoCloseable {
  /** A received span: ids in lower-case hex (the parent's empty for a root), its attributes. */
  public record ReceivedSpan(
      String traceId,
      String spanId,
      String parentSpanId,
      String name,
      int kind,
      long startNanos,
      long endNanos,
      Map<String, String> attributes,
      Map<String, String> resource) {}

  private final HttpServer server;
  private final List<ReceivedSpan> spans = new CopyOnWriteArrayList<>();

  private OtlpReceiver(HttpServer server) {
    this.server = server;
  }

  public static OtlpReceiver start() throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    OtlpReceiver receiver = new OtlpReceiver(server);
    server.createContext(
        "/v1/traces",
        exchange -> {
          try (exchange) {
            byte[] body = exchange.getRequestBody().readAllBytes();
            receiver.spans.addAll(exportRequest(body));
            exchange.getResponseHeaders().add("Content-Type", "application/x-protobuf");
            // an empty ExportTraceServiceResponse: everything was accepted
            exchange.sendResponseHeaders(200, -1);
          }
        });
    server.start();
    return receiver;
  }

  /** The base URL to give a node as its OTLP endpoint. */
  public String endpoint() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** The spans received so far, once {@code enough} says they are, or what came in time. */
  public List<ReceivedSpan> await(Predicate<List<ReceivedSpan>> enough, Duration timeout)
      throws InterruptedException {
    long end = System.nanoTime() + timeout.toNanos();
    while (!enough.test(List.copyOf(spans)) && System.nanoTime() < end) {
      Thread.sleep(50);
    }
    return List.copyOf(spans);
  }

  @Override
  public void close() {
    server.stop(0);
  }

  // ---- the OTLP trace protocol, as much of it as the tests read (opentelemetry/proto/trace/v1)
  // ----

  /** ExportTraceServiceRequest: 1 resource_spans. */
  private static List<ReceivedSpan> exportRequest(byte[] bytes) throws IOException {
    List<ReceivedSpan> out = new ArrayList<>();
    for (byte[] resourceSpans : fields(bytes).getOrDefault(1, List.of())) {
      Map<Integer, List<byte[]>> rs = fields(resourceSpans);
      Map<String, String> resource =
          rs.containsKey(1) ? attributes(fields(rs.get(1).get(0)).get(1)) : Map.of();
      // ResourceSpans: 1 resource, 2 scope_spans; ScopeSpans: 2 spans
      for (byte[] scopeSpans : rs.getOrDefault(2, List.of())) {
        for (byte[] span : fields(scopeSpans).getOrDefault(2, List.of())) {
          out.add(span(span, resource));
        }
      }
    }
    return out;
  }

  /**
   * Span: 1 trace_id, 2 span_id, 4 parent_span_id, 5 name, 6 kind, 7 and 8 start and end (Unix
   * nanoseconds), 9 attributes.
   */
  private static ReceivedSpan span(byte[] bytes, Map<String, String> resource) throws IOException {
    Map<Integer, List<byte[]>> f = fields(bytes);
    return new ReceivedSpan(
        hex(f, 1),
        hex(f, 2),
        hex(f, 4),
        f.containsKey(5)
            ? new String(f.get(5).get(0), java.nio.charset.StandardCharsets.UTF_8)
            : "",
        f.containsKey(6) ? (int) number(f.get(6).get(0)) : 0,
        f.containsKey(7) ? number(f.get(7).get(0)) : 0,
        f.containsKey(8) ? number(f.get(8).get(0)) : 0,
        attributes(f.get(9)),
        resource);
  }

  /**
   * KeyValue: 1 key, 2 value; AnyValue: 1 string, 2 bool, 3 int, 4 double: each value as text
   * (arrays and maps as empty text: no test reads them).
   */
  private static Map<String, String> attributes(List<byte[]> keyValues) throws IOException {
    Map<String, String> out = new HashMap<>();
    for (byte[] kv : keyValues == null ? List.<byte[]>of() : keyValues) {
      Map<Integer, List<byte[]>> f = fields(kv);
      String key = new String(f.get(1).get(0), java.nio.charset.StandardCharsets.UTF_8);
      Map<Integer, List<byte[]>> value = f.containsKey(2) ? fields(f.get(2).get(0)) : Map.of();
      String text = "";
      if (value.containsKey(1)) {
        text = new String(value.get(1).get(0), java.nio.charset.StandardCharsets.UTF_8);
      } else if (value.containsKey(2)) {
        text = Boolean.toString(number(value.get(2).get(0)) != 0);
      } else if (value.containsKey(3)) {
        text = Long.toString(number(value.get(3).get(0)));
      } else if (value.containsKey(4)) {
        text = Double.toString(Double.longBitsToDouble(number(value.get(4).get(0))));
      }
      out.put(key, text);
    }
    return out;
  }

  private static String hex(Map<Integer, List<byte[]>> fields, int number) {
    return fields.containsKey(number) ? HexFormat.of().formatHex(fields.get(number).get(0)) : "";
  }

  /**
   * A message's fields by number, each occurrence as its bytes: a length-delimited field's
   * contents, a number's value as 8 little-endian bytes.
   */
  private static Map<Integer, List<byte[]>> fields(byte[] message) throws IOException {
    Map<Integer, List<byte[]>> out = new HashMap<>();
    CodedInputStream in = CodedInputStream.newInstance(message);
    while (!in.isAtEnd()) {
      int tag = in.readTag();
      byte[] value =
          switch (WireFormat.getTagWireType(tag)) {
            case WireFormat.WIRETYPE_LENGTH_DELIMITED -> in.readByteArray();
            case WireFormat.WIRETYPE_VARINT -> longBytes(in.readRawVarint64());
            case WireFormat.WIRETYPE_FIXED64 -> longBytes(in.readRawLittleEndian64());
            case WireFormat.WIRETYPE_FIXED32 -> longBytes(in.readRawLittleEndian32() & 0xffffffffL);
            default -> throw new IOException("unexpected wire type in tag " + tag);
          };
      out.computeIfAbsent(WireFormat.getTagFieldNumber(tag), n -> new ArrayList<>()).add(value);
    }
    return out;
  }

  private static byte[] longBytes(long v) {
    return java.nio.ByteBuffer.allocate(8)
        .order(java.nio.ByteOrder.LITTLE_ENDIAN)
        .putLong(v)
        .array();
  }

  private static long number(byte[] bytes) {
    return java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
  }
}
