package io.retina.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.retina.client.ApiClient;
import io.retina.client.api.JobsApi;
import io.retina.client.api.WebhooksApi;
import io.retina.client.model.Job;
import io.retina.client.model.JobStatus;
import io.retina.client.model.WebhookMessage;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The Java client generated from openapi.yaml (module retina-client) against a real node: a job
 * submitted, waited for and its result fetched, and its signed webhook received, all through the
 * generated operations and models, so that the description stays true to the server.
 *
 * <p>Two things openapi.yaml says that the generated native client cannot express: its binary
 * bodies are {@code type: string} with a {@code contentMediaType} (OpenAPI 3.1), which the
 * generator types as {@code String}, sent as UTF-8 text and read as a JSON string. So the image is
 * put in the request by a request interceptor, and the result is read off the response by a
 * response interceptor (the generated method then answers null). The API key goes in each call's
 * headers: the native library has no authentication of its own.
 */
class GeneratedClientTest {
  private static final Set<JobStatus> FINAL =
      Set.of(JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELED);

  @Test
  void aJobSubmittedWaitedForAndFetchedThroughTheGeneratedClientAndItsWebhook() throws Exception {
    WebhooksTest.Receiver receiver = new WebhooksTest.Receiver(0);
    try (TestNode node =
        TestNode.start(
            Map.of(
                "retina.webhooks.allow-http", true,
                "retina.webhooks.allow-private", true,
                "retina.webhooks.poll-interval", "100ms"))) {
      String key = new Http(node.base).newTenantKey(Http.uniqueName("client"));
      Map<String, String> auth = Map.of("Authorization", "Bearer " + key);

      String secret = new WebhooksApi(client(node.base)).getWebhookSecret(auth).getSecret();
      assertTrue(secret.startsWith("whsec_"), secret);
      receiver.secrets.put("/client", List.of(secret));

      byte[] png = png64();
      ApiClient submitting =
          client(node.base)
              .setRequestInterceptor(b -> b.POST(HttpRequest.BodyPublishers.ofByteArray(png)));
      Job job =
          new JobsApi(submitting)
              .submitJob(
                  JobsApi.APISubmitJobRequest.newBuilder()
                      .body("") // replaced by the interceptor: the generated body is a String
                      .model("resize")
                      .width("32")
                      .height("32")
                      .webhook(URI.create(receiver.url("/client")))
                      .prefer("wait=15")
                      .build(),
                  auth);
      assertEquals("resize@1", job.getModel());
      assertEquals("32", job.getParams().get("width"));
      assertEquals("32", job.getParams().get("height"));

      JobsApi jobs = new JobsApi(client(node.base));
      Instant deadline = Instant.now().plusSeconds(20);
      while (!FINAL.contains(job.getStatus()) && Instant.now().isBefore(deadline)) {
        job =
            jobs.getJob(
                JobsApi.APIGetJobRequest.newBuilder().id(job.getId()).prefer("wait=5").build(),
                auth);
      }
      assertEquals(JobStatus.SUCCEEDED, job.getStatus(), String.valueOf(job));
      assertNotNull(job.getOutput(), String.valueOf(job));
      assertEquals("image/png", job.getOutput().getMediaType());

      AtomicReference<byte[]> result = new AtomicReference<>();
      ApiClient fetching =
          client(node.base)
              .setResponseInterceptor(
                  r -> {
                    if (r.statusCode() == 200) {
                      try {
                        // drained, not closed: the generated code then reads an empty body
                        result.set(r.body().readAllBytes());
                      } catch (IOException e) {
                        throw new UncheckedIOException(e);
                      }
                    }
                  });
      new JobsApi(fetching).getJobResult(job.getId(), auth);
      assertNotNull(result.get(), "no result body");
      assertEquals(job.getOutput().getBytes(), result.get().length);
      BufferedImage out = Photos.decode(result.get());
      assertEquals(32, out.getWidth());
      assertEquals(32, out.getHeight());

      UUID id = job.getId();
      WebhooksTest.Message completed = awaitCompleted(receiver, id.toString());
      assertTrue(completed.verified(), "signed with the tenant's secret: " + completed);
      WebhookMessage message =
          ApiClient.createDefaultObjectMapper().readValue(completed.body(), WebhookMessage.class);
      assertEquals(WebhookMessage.TypeEnum.JOB_COMPLETED, message.getType());
      assertEquals(id, message.getData().getId());
      assertEquals(JobStatus.SUCCEEDED, message.getData().getStatus());
    } finally {
      receiver.stop();
    }
  }

  /** A generated-client configuration for the node, every wait bounded. */
  private static ApiClient client(String base) {
    ApiClient client = new ApiClient();
    client.updateBaseUri(base);
    client.setConnectTimeout(Duration.ofSeconds(5));
    client.setReadTimeout(Duration.ofSeconds(30));
    return client;
  }

  private static byte[] png64() {
    BufferedImage img = new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < 64; y++) {
      for (int x = 0; x < 64; x++) {
        img.setRGB(x, y, (x * 4) << 16 | (y * 4) << 8 | 128);
      }
    }
    return Photos.png(img);
  }

  private static WebhooksTest.Message awaitCompleted(WebhooksTest.Receiver receiver, String jobId)
      throws InterruptedException {
    Instant deadline = Instant.now().plusSeconds(15);
    while (Instant.now().isBefore(deadline)) {
      Optional<WebhooksTest.Message> done =
          receiver.messages.stream()
              .filter(m -> m.json() != null && m.json().at("/data/id").asText().equals(jobId))
              .filter(m -> m.type().equals("job.completed"))
              .findFirst();
      if (done.isPresent()) {
        return done.get();
      }
      Thread.sleep(100);
    }
    throw new AssertionError(
        "no job.completed webhook for " + jobId + "; got " + receiver.messages);
  }
}
