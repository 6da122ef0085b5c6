package io.retina.api.jobs;

import static org.junit.jupiter.api.Assertions.*;

import io.retina.api.ApiSettings;
import io.retina.api.http.Problem;
import io.retina.platform.models.ModelRepository;
import io.retina.platform.models.TestModels;
import io.retina.platform.store.Database;
import io.retina.platform.store.TestDatabases;
import io.retina.platform.tenants.QuotaRepository;
import io.retina.platform.tenants.Tenant;
import io.retina.platform.tenants.TenantRepository;
import io.retina.platform.webhooks.WebhookTargets;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import javax.imageio.ImageIO;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** What admission makes of a submission read whole, against a real PostgreSQL. */
class AdmissionTest {
  static final ApiSettings SETTINGS =
      new ApiSettings(
          "127.0.0.1",
          0,
          1 << 20,
          1 << 24,
          1_000_000,
          2048,
          Duration.ofSeconds(30),
          20,
          100,
          Duration.ofSeconds(30),
          3,
          Duration.ofMinutes(5));

  static Database db;
  static ModelRepository models;
  static QuotaRepository quotas;
  static TenantRepository tenants;
  static byte[] png;

  @BeforeAll
  static void open() throws IOException {
    db = TestDatabases.fresh();
    models = new ModelRepository(db.tx());
    quotas = new QuotaRepository(db.tx());
    tenants = new TenantRepository(db.tx());
    models.register(TestModels.echo(1), "test model");
    var out = new ByteArrayOutputStream();
    ImageIO.write(new BufferedImage(64, 32, BufferedImage.TYPE_INT_RGB), "png", out);
    png = out.toByteArray();
  }

  @AfterAll
  static void close() {
    db.close();
  }

  static Admission admission(Capacity capacity) {
    return new Admission(
        SETTINGS, models, quotas, capacity, new WebhookTargets.Policy(false, false));
  }

  static SubmitRequest form(Map<String, String> params) {
    return new SubmitRequest(png, "image/png", "echo", params);
  }

  static final Capacity FULL =
      version ->
          Optional.of(
              new Problem(503, "model-busy", "Service unavailable", version.ref() + " is full"));

  @Test
  void aValidSubmissionBecomesTheJobToStoreWithItsDefaultsFilledIn() {
    Tenant t = tenants.create("admitted");
    HttpRequest request =
        HttpRequest.POST("/v1/jobs")
            .addHeader(RawHeader.create("Idempotency-Key", "key-1"))
            .addHeader(RawHeader.create("Prefer", "wait=600"));

    var admitted = admission(Capacity.unlimited()).admit(request, t, form(Map.of()));

    assertEquals("echo@1", admitted.version().ref());
    assertEquals(Map.of("scale", "2"), admitted.job().params());
    assertEquals(64, admitted.job().inputWidth());
    assertEquals(32, admitted.job().inputHeight());
    assertEquals("image/png", admitted.job().inputMediaType());
    assertEquals(Duration.ofMinutes(5), admitted.job().deadline());
    assertEquals("key-1", admitted.idempotencyKey());
    assertEquals(SETTINGS.maxWait(), admitted.preferredWait(), "cut to the node's maximum");
    assertEquals(admitted.quota().maxConcurrentJobs(), admitted.limits().maxConcurrentJobs());
  }

  @Test
  void theSameRequestTwiceHasTheSameDigestAndAnotherParameterAnother() {
    Tenant t = tenants.create("digests");
    HttpRequest request = HttpRequest.POST("/v1/jobs");
    Admission admission = admission(Capacity.unlimited());

    String first = admission.admit(request, t, form(Map.of())).requestDigest();

    assertEquals(
        first, admission.admit(request, t, form(Map.of("scale", "2"))).requestDigest(), "default");
    assertNotEquals(first, admission.admit(request, t, form(Map.of("scale", "4"))).requestDigest());
  }

  @Test
  void aModelAtCapacityTurnsAwayAValidSubmissionWithItsProblem() {
    Tenant t = tenants.create("at-capacity");

    Problem refused =
        assertThrows(
            Problem.class,
            () -> admission(FULL).admit(HttpRequest.POST("/v1/jobs"), t, form(Map.of())));

    assertEquals(503, refused.status());
    assertEquals("/problems/model-busy", refused.type());
  }

  @Test
  void aRequestsOwnFaultIsToldBeforeTheModelsCapacity() {
    Tenant t = tenants.create("own-fault");

    Problem refused =
        assertThrows(
            Problem.class,
            () ->
                admission(FULL).admit(HttpRequest.POST("/v1/jobs"), t, form(Map.of("scale", "3"))));

    assertEquals("/problems/invalid-parameter", refused.type());
  }

  @Test
  void anUnknownModelReadsAsNotFound() {
    Tenant t = tenants.create("unknown-model");

    Problem refused =
        assertThrows(
            Problem.class,
            () ->
                admission(Capacity.unlimited())
                    .admit(
                        HttpRequest.POST("/v1/jobs"),
                        t,
                        new SubmitRequest(png, "image/png", "echo@7", Map.of())));

    assertEquals(404, refused.status());
    assertEquals("/problems/model-not-found", refused.type());
  }
}
