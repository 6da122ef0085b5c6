package io.retina.server;

import com.typesafe.config.Config;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.retina.platform.tracing.Tracing;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts a node's tracing from {@code retina.tracing}: with an OTLP endpoint, an OpenTelemetry SDK
 * of its own (not the global one, so that nodes sharing a JVM trace apart) exporting batches of
 * spans over OTLP/HTTP; without one, {@link Tracing#OFF}. The SDK flushes what it holds and closes
 * as the node's last step before its actor system terminates, after its workers have drained.
 */
final class NodeTracing {
  private static final Logger log = LoggerFactory.getLogger(NodeTracing.class);

  /** Where an OTLP/HTTP collector takes spans, under its base URL. */
  private static final String TRACES_PATH = "v1/traces";

  /** How long a stopping node waits for its last spans to be sent. */
  private static final long FLUSH_SECONDS = 10;

  private NodeTracing() {}

  /**
   * The node's tracing as {@code config} says, its SDK flushed and closed when {@code system}
   * stops.
   */
  static Tracing start(ActorSystem<?> system, Config config, String nodeName, Set<String> roles) {
    Tracing tracing = from(config, nodeName, roles);
    if (tracing.openTelemetry() instanceof OpenTelemetrySdk sdk) {
      CoordinatedShutdown.get(system)
          .addTask(
              CoordinatedShutdown.PhaseBeforeActorSystemTerminate(),
              "flush-traces",
              () ->
                  CompletableFuture.supplyAsync(
                      () -> {
                        sdk.shutdown().join(FLUSH_SECONDS, TimeUnit.SECONDS);
                        return Done.getInstance();
                      }));
    }
    return tracing;
  }

  /** The tracing {@code config} asks for: an SDK exporting to its endpoint, or off. */
  static Tracing from(Config config, String nodeName, Set<String> roles) {
    Config t = config.getConfig("retina.tracing");
    String endpoint = t.getString("otlp-endpoint").trim();
    if (endpoint.isEmpty()) {
      return Tracing.OFF;
    }
    Resource resource =
        Resource.getDefault()
            .merge(
                Resource.create(
                    Attributes.of(
                        AttributeKey.stringKey("service.name"),
                        "retina",
                        AttributeKey.stringKey("service.instance.id"),
                        nodeName,
                        AttributeKey.stringArrayKey("retina.node.roles"),
                        List.copyOf(roles))));
    var exporter =
        OtlpHttpSpanExporter.builder()
            .setEndpoint(tracesUrl(endpoint))
            .setTimeout(t.getDuration("export-timeout"))
            .build();
    var spans =
        BatchSpanProcessor.builder(exporter)
            .setScheduleDelay(t.getDuration("batch-delay"))
            .setMaxQueueSize(t.getInt("max-queue"))
            .build();
    OpenTelemetrySdk sdk =
        OpenTelemetrySdk.builder()
            .setTracerProvider(
                SdkTracerProvider.builder().setResource(resource).addSpanProcessor(spans).build())
            .build();
    log.info("traces go to {}", tracesUrl(endpoint));
    return Tracing.with(sdk);
  }

  /**
   * The collector's traces URL: its base URL (as {@code OTEL_EXPORTER_OTLP_ENDPOINT} gives it) with
   * {@code /v1/traces} added, unless the URL already names that path.
   */
  static String tracesUrl(String endpoint) {
    if (endpoint.endsWith("/" + TRACES_PATH)) {
      return endpoint;
    }
    return endpoint.endsWith("/") ? endpoint + TRACES_PATH : endpoint + "/" + TRACES_PATH;
  }
}
